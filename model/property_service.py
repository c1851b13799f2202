"""Property service (物业服务): what the firms' monthly step (agents/property_firm.py) reads —
their owners' satisfaction, the quarterly evaluation ('two discussions, two evaluations, two
publications', policy 2) of each firm by its owners' closed property cases — and the
district's view of the firms (fee collection, dismissals)."""

from __future__ import annotations

import numpy as np

from .calendar import month_of
from .vocabulary import K


def is_evaluation_month(model) -> bool:
    """Owners evaluate firms at the start of every ``firm_evaluation_months``-th month."""
    return month_of(model.day) % model.p.firm_evaluation_months == 0


def compound_satisfaction(model) -> np.ndarray:
    """Mean satisfaction of the present adults of each compound (the compound's start value
    where none is present). Read through ``model.compound_satisfaction()``, memoised until
    satisfaction or presence is replaced."""
    d = model.district
    adults = model.present_adults()
    total = np.bincount(d.compound, model.satisfaction * adults, d.n_compounds)
    count = np.bincount(d.compound, adults, d.n_compounds)
    return np.where(count > 0, total / np.maximum(count, 1), model.p.initial_satisfaction)


def owners_satisfaction(model, compounds: list[int]) -> float:
    """Mean satisfaction of a firm's owners: its compounds' means weighted by population."""
    pop = model.district.compound_pop[compounds]
    return float(np.average(model.compound_satisfaction()[compounds], weights=np.maximum(pop, 1)))


def rating_of(model, firm) -> float | None:
    """The owners' rating of ``firm``: mean satisfaction of the property cases closed in its
    compounds in the last evaluation period, since the current firm took over; None without
    any. All firms are rated in one pass over the case table, once a day."""
    key = (model.day, tuple(f.since_day for f in model.firms))
    cached = getattr(model, "_firm_ratings", None)
    if cached is None or cached[0] != key:
        model._firm_ratings = cached = (key, _ratings(model))
    total, count = cached[1]
    return float(total[firm.idx] / count[firm.idx]) if count[firm.idx] else None


def _ratings(model) -> tuple[np.ndarray, np.ndarray]:
    c, d = model.cases, model.district
    n_firms = len(d.firm_quality)
    since = np.zeros(n_firms, np.int64)
    for f in model.firms:
        since[f.idx] = f.since_day
    sel = np.flatnonzero((c.kind == K["property"]) & ~np.isnan(c.satisfaction)
                         & (c.closed >= model.day - 30 * model.p.firm_evaluation_months))
    firm = d.compound_firm[c.compound[sel]]
    mine = (firm >= 0) & (c.closed[sel] >= since[np.maximum(firm, 0)])
    total = np.bincount(firm[mine], c.satisfaction[sel][mine], minlength=n_firms)
    return total, np.bincount(firm[mine], minlength=n_firms)


def collection_rate(model) -> float:
    """Fees collected over fees due across the district's firms, weighted by residents served."""
    d = model.district
    served = np.bincount(d.compound_firm[d.compound_firm >= 0],
                         d.compound_pop[d.compound_firm >= 0], minlength=len(d.firm_quality))
    rates = np.array([f.collection_rate for f in sorted(model.firms, key=lambda f: f.idx)])
    return float(np.average(rates, weights=np.maximum(served, 1)))


def firms_replaced(model) -> int:
    return sum(f.replaced for f in model.firms)
