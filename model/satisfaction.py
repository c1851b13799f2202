"""Residents' satisfaction (满意度): expectancy-disconfirmation at the close of a case (Van Ryzin
2004), a slow pull toward living conditions and toward how well the community settles its
residents' cases (its reputation), and social influence over the neighbour network
(Friedkin-Johnsen: x ← λ W x + (1 - λ) own experience).

``experience`` is what a resident's own cases and living conditions say; ``satisfaction`` is
the opinion after listening to neighbours, and is what is reported. Averaging over neighbours
barely moves the mean; what it changes is the spread, measured by ``dissatisfied_share`` and
``satisfaction_sd`` (model/kpis.py).

``record_closed`` also keeps each raiser's last result (channel, score, day), which their
neighbours hear about when they choose a channel (word of mouth, model/channel_choice.py).
"""

from __future__ import annotations

import numpy as np

from .case_generation import NO_FIRM_QUALITY

SILENT_PENALTY = 0.03   # assumption: an unvoiced grievance wears trust down a little
# Living-conditions target (assumption): better infrastructure and a firm that meets
# expectations raise it; funded neighbourhood activities add a little.
INFRA_WEIGHT = 0.2
GAP_WEIGHT = 0.3
TYPICAL_GAP = 0.2  # a gap this size leaves the target unchanged
# Reputation (assumption): residents hear how their community's cases end, not only their own;
# the mean score of the community's cases closed in the last quarter moves everyone's target.
REPUTATION_WEIGHT = 0.4
REPUTATION_WINDOW_DAYS = 90
# Taking part gives residents the 'sense of participation' the study finds missing (P8, P11).
PARTICIPATION_BONUS = 0.05  # assumption


def case_score(p, resolved: np.ndarray, delay: np.ndarray, expectation: np.ndarray) -> np.ndarray:
    """S = b0 + b1 P + b2 (P - E), P = resolved x tolerance / (tolerance + delay)."""
    perf = resolved * p.delay_tolerance_days / (p.delay_tolerance_days + delay)
    return np.clip(p.sat_b0 + p.sat_b1 * perf + p.sat_b2 * (perf - expectation), 0.0, 1.0)


def living_target(model) -> np.ndarray:
    """Per-resident satisfaction that living conditions alone would settle at."""
    p, d = model.p, model.district
    firm = d.compound_firm[d.compound]
    quality = np.where(firm >= 0, d.firm_quality[np.maximum(firm, 0)], NO_FIRM_QUALITY)
    gap = np.maximum(0.0, d.expectation - quality)
    infra = d.compound_infra[d.compound]
    reputation = community_reputation(model) - p.initial_satisfaction
    target = (p.initial_satisfaction + INFRA_WEIGHT * (infra - 0.6)
              - GAP_WEIGHT * (gap - TYPICAL_GAP) + model.activity_bonus[d.community]
              + REPUTATION_WEIGHT * reputation[d.community]
              + PARTICIPATION_BONUS * model.volunteer)
    return np.clip(target, 0.0, 1.0)


def community_reputation(model) -> np.ndarray:
    """Mean score of each community's reported cases closed in the last quarter; neutral
    (``initial_satisfaction``) where there are none."""
    c, n = model.cases, model.district.n_communities
    recent = (c.closed >= model.day - REPUTATION_WINDOW_DAYS) & ~np.isnan(c.satisfaction)
    total = np.bincount(c.community[recent], c.satisfaction[recent], minlength=n)
    count = np.bincount(c.community[recent], minlength=n)
    return np.where(count > 0, total / np.maximum(count, 1), model.p.initial_satisfaction)


def record_closed(model, idx: np.ndarray, scores: np.ndarray) -> None:
    """Closed cases move their raisers' experience toward the case's score, and become their
    raisers' last result for word of mouth."""
    res = model.cases.resident[idx]
    mine = res >= 0
    r, s = res[mine], scores[mine]
    model.experience[r] += model.p.case_weight * (s - model.experience[r])
    # the last result each raiser can tell the neighbours about (word of mouth); a resident
    # closing two cases today keeps the later one in idx
    model.last_channel[r] = model.cases.channel[idx[mine]]
    model.last_score[r] = s
    model.last_closed[r] = model.day


def record_silent(model, residents: np.ndarray) -> None:
    model.experience[residents] = np.maximum(0.0, model.experience[residents] - SILENT_PENALTY)


def influence(model) -> None:
    """Drift toward living conditions and Friedkin-Johnsen social influence, at the cadence
    ``influence_every_days``."""
    p = model.p
    k = p.influence_every_days
    if model.day % k:
        return
    pull = 1.0 - (1.0 - p.drift_rate) ** k
    model.experience += pull * (model.living_target - model.experience)
    lam = p.susceptibility
    model.satisfaction = lam * (model.W @ model.satisfaction) + (1 - lam) * model.experience
