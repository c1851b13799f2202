"""Smart service (智慧服务, 'treat before illness' 治未病, policy 3e): each month, mine the
hotline and the case records for recurring shared demands in a compound, and treat them at
the root, which lowers that compound's hazard of that kind for good, at a cost in staff time.
"""

from __future__ import annotations

import numpy as np

from .vocabulary import C, K

ROOT_KINDS = np.array([K[k] for k in ("property", "infrastructure", "parking", "environment",
                                      "heating", "courier_access")])
WINDOW_DAYS = 90            # assumption: look back one quarter
MIN_CASES = 3               # assumption: a pattern needs at least 3 cases ...
PER_1000 = 2.0              # ... and 2 per 1,000 residents of the compound
ROOT_EFFECT = 0.4           # assumption: root treatment removes 40 % of the hazard
FLOOR = 0.3                 # no kind disappears entirely
HOURS_PER_TREATMENT = 16.0  # assumption: staff hours to analyse and fix one pattern
MAX_OFFICE_SHARE = 0.2      # assumption: root treatment takes at most a fifth of office hours


def monthly(model) -> int:
    """Treat this month's recurring patterns; return how many were treated."""
    if not model.p.smart_service:
        return 0
    c, d = model.cases, model.district
    # the district sees what was reported, not silent grievances; a pattern already treated
    # counts again only with cases raised after its treatment
    recent = ((c.raised >= model.day - WINDOW_DAYS) & np.isin(c.kind, ROOT_KINDS)
              & (c.channel != C["silence"]))
    recent &= c.raised > model.last_treated[c.compound, c.kind]
    counts = np.zeros(model.root_factor.shape)
    np.add.at(counts, (c.compound[recent], c.kind[recent]), 1)
    threshold = np.maximum(MIN_CASES, PER_1000 * d.compound_pop / 1000)[:, None]
    hit = (counts >= threshold) & (model.root_factor > FLOOR)
    model.root_factor[hit] = np.maximum(FLOOR, model.root_factor[hit] * (1 - ROOT_EFFECT))
    model.last_treated[hit] = model.day
    comp, _ = np.nonzero(hit)
    cost = np.bincount(d.compound_community[comp], minlength=d.n_communities)
    office = model.units.base_hours[model.units.of("community", np.arange(d.n_communities))]
    # the treatment hours of a month are spread over its days, and never take more than
    # MAX_OFFICE_SHARE of the office's own hours
    model.treatment_hours = np.minimum(cost * HOURS_PER_TREATMENT / 30.0, MAX_OFFICE_SHARE * office)
    return int(hit.sum())
