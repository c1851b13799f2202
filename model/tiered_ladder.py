"""The three-tier ladder (三级矛盾诉求接处平台): "small matters stay in the compound, big
matters stay in the community, hard matters stay in the street" (policy 3a).

A case
done is resolved with a probability that depends on the kind and the unit; a resident whose
case fails, or who waits longer than their patience, escalates (Erlang-A style abandonment):
up the ladder, to the 12345 hotline, or gives up.
"""

from __future__ import annotations

import numpy as np

from . import hotline_loop
from .queues import enqueue, serve_queues
from .vocabulary import IS_ENFORCEMENT, IS_MEDIATED, LEVELS, K, S, U

L = {name: i for i, name in enumerate(LEVELS)}
# Probability a handled case is resolved, by unit type (rows) and kind (columns); assumption.
SUCCESS = np.array([
    # neigh family prop  infra park  env   public heat  courier other
    [0.60, 0.55, 0.35, 0.30, 0.35, 0.35, 0.20, 0.20, 0.35, 0.10],  # compound
    [0.70, 0.65, 0.55, 0.45, 0.50, 0.50, 0.50, 0.30, 0.55, 0.30],  # community
    [0.80, 0.75, 0.70, 0.65, 0.75, 0.75, 0.65, 0.50, 0.75, 0.50],  # street
    [0.30, 0.30, 0.00, 0.45, 0.25, 0.25, 0.20, 0.40, 0.50, 0.20],  # firm (property: by quality)
    [0.50, 0.50, 0.55, 0.70, 0.60, 0.60, 0.75, 0.75, 0.60, 0.75],  # district departments
    [0.80, 0.80, 0.80, 0.80, 0.80, 0.80, 0.80, 0.80, 0.80, 0.80],  # supervision team
])
PLATFORM_BONUS = np.array([0.10, 0.05, 0.05, 0.0, 0.0, 0.0])  # by unit type (policy 3a)
RED_PROPERTY_BONUS = 0.15      # assumption: firm branches settle more property cases
GRID_BONUS = 0.1               # assumption (policy 5): the merged grid's call is answered
# Without the platform a failed case goes up one tier only sometimes (assumption).
STEP_UP_WITHOUT_PLATFORM = np.array([0.35, 0.25])
STEP_UP_BY_LEVEL = np.r_[STEP_UP_WITHOUT_PLATFORM, 0.0]  # the street tier has nowhere to go
MEDIATED_HOTLINE = 0.5  # assumption: share of the usual hotline turn after a failed mediation


def success_probability(model, idx: np.ndarray) -> np.ndarray:
    c, p = model.cases, model.p
    unit = c.unit[idx]
    utype = model.units.type[unit]
    kind = c.kind[idx]
    prob = SUCCESS[utype, kind].copy()
    firm = utype == U["firm"]
    is_prop = firm & (kind == K["property"])
    firm_idx = unit[is_prop] - model.units.first["firm"]
    prob[is_prop] = 0.3 + 0.6 * model.district.firm_quality[firm_idx]
    if p.red_property:
        prob[firm] += RED_PROPERTY_BONUS
    if p.three_tier_platform:
        prob += PLATFORM_BONUS[utype]
    if p.grid_integration:  # departments answer the grid's call on compound matters
        prob[utype == U["compound"]] += GRID_BONUS
    comm = utype == U["community"]
    # counselling and legal aid bought with the funding help with quarrels (policy 3c)
    dispute = comm & IS_MEDIATED[kind]
    prob[dispute] += model.professional_boost[model.units.community[unit[dispute]]]
    prob *= model.accountability[unit]
    return np.clip(prob, 0.0, 0.98)


def handle(model) -> None:
    """Serve the queues, settle or fail the finished cases, and let waiting residents give
    up on slow tiers."""
    c = model.cases
    done = serve_queues(model)
    if len(done):
        ok = model.rng.random(len(done)) < success_probability(model, done)
        c.handled[done] = model.day
        c.resolved[done] = ok
        c.settled_level[done[ok]] = c.level[done[ok]]
        ladder = c.level[done] < L["hotline"]
        settled = done[ladder & ok]
        model.close(settled)
        escalate(model, done[ladder & ~ok])
        hotline_loop.after_handling(model, done[~ladder])
    w = c.open_window()
    impatient = w.rows((w.state == S["queued"]) & (w.level < L["hotline"])
                       & (model.day - w.entered > w.patience))
    escalate(model, impatient)


def escalate(model, idx: np.ndarray) -> None:
    """Move failed or impatient ladder cases up a tier, to the hotline, or to giving up."""
    if len(idx) == 0:
        return
    c, p, rng = model.cases, model.p, model.rng
    c.escalations[idx] += 1
    level = c.level[idx]
    step_p = np.ones(len(idx)) if p.three_tier_platform else STEP_UP_BY_LEVEL[level]
    up = (level < L["street"]) & (rng.random(len(idx)) < step_p)
    to_hotline = p.hotline_after_failure * np.where(IS_MEDIATED[c.kind[idx]], MEDIATED_HOTLINE, 1.0)
    hot = ~up & (rng.random(len(idx)) < to_hotline)
    for lev in (L["compound"], L["community"]):
        place(model, idx[up & (level == lev)], lev + 1)
    hotline_loop.receive(model, idx[hot])
    model.close(idx[~up & ~hot])


def place(model, idx: np.ndarray, level: int) -> None:
    """Put cases in the queue of the unit that serves them at ladder ``level``."""
    if len(idx) == 0:
        return
    c, d, units = model.cases, model.district, model.units
    comp = c.compound[idx]
    if level == L["compound"]:
        unit = units.of("compound", comp)
        firm = d.compound_firm[comp]
        kind = c.kind[idx]
        to_firm = (firm >= 0) & ((kind == K["property"])
                                 | (IS_ENFORCEMENT[kind] & (not model.p.joint_meetings)))
        unit = np.where(to_firm, units.of("firm", np.maximum(firm, 0)), unit)
    elif level == L["community"]:
        unit = units.of("community", c.community[idx])
    else:
        unit = units.of("street", c.street[idx].astype(np.int64))
    enqueue(model, idx, unit, level, priority=0, delay=0.0)
