"""Property service (物业服务): residents evaluate firms ('two discussions, two evaluations, two
publications', policy 2) and poorly rated firms improve; 'red property' party branches in
firms and owners' committees (policy 3b) raise quality steadily."""

from __future__ import annotations

import numpy as np

from .vocabulary import K

EVALUATE_EVERY_MONTHS = 3        # assumption: quarterly evaluation
GOOD_RATING = 0.7                # assumption: mean case satisfaction firms are held to
IMPROVEMENT_PER_SHORTFALL = 0.25  # assumption: quality gained per unit of shortfall
RED_PROPERTY_MONTHLY = 0.01      # assumption


def monthly(model, month: int) -> bool:
    """Apply this month's evaluations; return True when any firm's quality changed."""
    p = model.p
    changed = False
    if p.red_property:
        model.firms.do("improve", RED_PROPERTY_MONTHLY)
        changed = True
    if p.two_evaluations and month % EVALUATE_EVERY_MONTHS == 0:
        for firm in model.firms:
            rating = rating_of(model, firm.compounds)
            if rating is not None and rating < GOOD_RATING:
                # a published, poor evaluation presses the firm in proportion to its shortfall
                firm.improve(IMPROVEMENT_PER_SHORTFALL * (GOOD_RATING - rating))
                changed = True
    return changed


def rating_of(model, compounds: list[int]) -> float | None:
    """Mean satisfaction of closed property cases in the firm's compounds, last quarter."""
    c = model.cases
    sel = ((c.kind == K["property"]) & np.isin(c.compound, compounds)
           & (c.closed >= model.day - 30 * EVALUATE_EVERY_MONTHS) & ~np.isnan(c.satisfaction))
    return float(c.satisfaction[sel].mean()) if sel.any() else None
