"""Participation and volunteering (居民参与、志愿服务): each month some adults volunteer — party
members more, mobilised by the five-level organisation (policy 1) and rewarded by volunteer
points (policy 3d). A share of their hours adds capacity in their compounds. (In-unit
members' double reporting is the community committees': model/party_organisation.py.)

Recruitment through ties (``recruitment_weight``; Centola 2010, McAdam 1986): people join when
those they know ask them. A resident's monthly probability is multiplied by
``1 + recruitment_weight × x``, x the share of its tie weight going to last month's volunteers
and party members (one sparse mat-vec with the row-normalised network W a month).
"""

from __future__ import annotations

import numpy as np

from .params import derived
from .vocabulary import A


def _age_factor(p) -> np.ndarray:
    """Relative volunteering by age group (children do not volunteer)."""
    return np.array([0.0, p.volunteer_age_young, p.volunteer_age_middle, p.volunteer_age_elderly])


def volunteer_probability(model) -> np.ndarray:
    """Each resident's probability of volunteering this month (before this month's draw,
    ``model.volunteer`` holds last month's volunteers)."""
    p, d = model.p, model.district
    prob = p.volunteer_base * derived(p, "volunteer_age", _age_factor)[d.age]
    prob = prob * np.where(d.party, p.volunteer_party_factor * (
        p.volunteer_five_level_factor if p.five_level_coverage else 1.0), 1.0)
    prob *= p.volunteer_points_factor if p.volunteer_points else 1.0
    prob *= np.clip(1.0 + p.volunteer_trust_slope * (model.satisfaction - p.volunteer_trust_reference),
                    p.volunteer_trust_min, p.volunteer_trust_max)
    if p.recruitment_weight:
        asked_by = (model.volunteer | d.party).astype(np.float64)
        prob *= 1.0 + p.recruitment_weight * (model.W @ asked_by)
    # seasonal visitors do not join: capacity must not follow the winter influx (P3)
    return np.clip(prob, 0.0, 1.0) * (model.present & ~d.seasonal)


def monthly(model) -> None:
    """Draw this month's volunteers; set volunteer hours per compound (hours per day)."""
    p, d = model.p, model.district
    model.volunteer = model.rng.random(d.n_residents) < volunteer_probability(model)
    per_day = p.volunteer_hours_per_month / 30.0
    model.volunteer_hours = (np.bincount(d.compound, model.volunteer, d.n_compounds) * per_day
                             * p.volunteer_case_share)


def participation_rate(model) -> float:
    adults = model.present & (model.district.age > A["child"])
    return float(model.volunteer[adults].mean()) if adults.any() else 0.0
