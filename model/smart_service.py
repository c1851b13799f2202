"""Smart service (智慧服务, 'treat before illness' 治未病, policy 3e): each month, mine the
hotline and the case records for recurring shared demands in a compound, and treat them at
the root, which lowers that compound's hazard of that kind for good, at a cost in staff time.
"""

from __future__ import annotations

import numpy as np

from .vocabulary import KINDS, C, K

ROOT_KINDS = np.array([K[k] for k in ("property", "infrastructure", "parking", "environment",
                                      "heating", "courier_access")])


def monthly(model) -> tuple[str, ...]:
    """Treat this month's recurring patterns; return the kinds treated (in KINDS order)."""
    if not model.p.smart_service:
        return ()
    c, d, p = model.cases, model.district, model.p
    # the district sees what was reported, not silent grievances; a pattern already treated
    # counts again only with cases raised after its treatment
    recent = ((c.raised >= model.day - p.root_window_days) & np.isin(c.kind, ROOT_KINDS)
              & (c.channel != C["silence"]))
    recent &= c.raised > model.last_treated[c.compound, c.kind]
    counts = np.zeros(model.root_factor.shape)
    np.add.at(counts, (c.compound[recent], c.kind[recent]), 1)
    threshold = np.maximum(p.root_min_cases, p.root_cases_per_1000 * d.compound_pop / 1000)[:, None]
    hit = (counts >= threshold) & (model.root_factor > p.root_floor)
    model.root_factor[hit] = np.maximum(p.root_floor, model.root_factor[hit] * (1 - p.root_effect))
    model.last_treated[hit] = model.day
    comp, _ = np.nonzero(hit)
    cost = np.bincount(d.compound_community[comp], minlength=d.n_communities)
    office = model.units.base_hours[model.units.of("community", np.arange(d.n_communities))]
    # the treatment hours of a month are spread over its days, and never take more than
    # root_max_office_share of the office's own hours (30: days of a month)
    model.treatment_hours = np.minimum(cost * p.root_hours_per_treatment / 30.0,
                                      p.root_max_office_share * office)
    return tuple(KINDS[k] for k in np.flatnonzero(hit.any(axis=0)))
