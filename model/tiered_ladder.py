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
from .params import derived
from .queues import enqueue, serve_queues
from .vocabulary import IS_ENFORCEMENT, IS_MEDIATED, KINDS, LEVELS, UNIT_TYPES, K, S, U

L = {name: i for i, name in enumerate(LEVELS)}


def _tables(p) -> tuple[np.ndarray, np.ndarray]:
    """The resolution probability by unit type (rows) and kind (columns) before the firms'
    quality, the offices' professional help and accountability: the success_<unit>_<kind>
    parameters (0 for a firm's property cell, which its quality sets) plus the bonuses of the
    policies in force (the platform's by unit type, red property for firms, the grid's for
    compounds); and the step-up probability by ladder level (the street tier has nowhere to
    go)."""
    success = np.array([[0.0 if (u == "firm" and k == "property") else getattr(p, f"success_{u}_{k}")
                         for k in KINDS] for u in UNIT_TYPES])
    if p.three_tier_platform:
        success += np.array([[getattr(p, f"platform_bonus_{u}", 0.0)] for u in UNIT_TYPES])
    if p.red_property:
        success[U["firm"]] += p.red_property_bonus
    if p.grid_integration:  # departments answer the grid's call on compound matters
        success[U["compound"]] += p.grid_bonus
    step_up = np.array([p.step_up_compound, p.step_up_community, 0.0])
    return success, step_up


def success_probability(model, idx: np.ndarray) -> np.ndarray:
    c, p = model.cases, model.p
    unit = c.unit[idx]
    utype = model.units.type[unit]
    kind = c.kind[idx]
    prob = derived(p, "ladder", _tables)[0][utype, kind]
    is_prop = (utype == U["firm"]) & (kind == K["property"])
    if is_prop.any():
        firm_idx = unit[is_prop] - model.units.first["firm"]
        prob[is_prop] += (p.firm_property_success_base
                          + p.firm_property_success_per_quality * model.district.firm_quality[firm_idx])
    # counselling and legal aid bought with the funding help with quarrels (policy 3c)
    dispute = (utype == U["community"]) & IS_MEDIATED[kind]
    prob[dispute] += model.professional_boost[model.units.community[unit[dispute]]]
    prob *= model.accountability[unit]
    return np.minimum(np.maximum(prob, 0.0), p.success_cap)


def handle(model) -> None:
    """Serve the queues, settle or fail the finished cases, and let waiting residents give
    up on slow tiers."""
    c = model.cases
    done = serve_queues(model)
    if len(done):
        ok = model.rng.random(len(done)) < success_probability(model, done)
        c.note_handled(done, model.day)
        c.resolved[done] = ok
        c.settled_level[done[ok]] = c.level[done[ok]]
        ladder = c.level[done] < L["hotline"]
        settled = done[ladder & ok]
        model.close(settled)
        escalate(model, done[ladder & ~ok])
        hotline_loop.after_handling(model, done[~ladder])
    escalate(model, impatient(model))


def impatient(model) -> np.ndarray:
    """Queued ladder cases whose resident has waited at the current tier longer than their
    patience (hotline tickets never abandon)."""
    w = model.cases.open_window()
    return w.rows((w.state == S["queued"]) & (w.level < L["hotline"])
                  & (model.day - w.entered > w.patience))


def escalate(model, idx: np.ndarray) -> None:
    """Move failed or impatient ladder cases up a tier, to the hotline, or to giving up."""
    if len(idx) == 0:
        return
    c, p, rng = model.cases, model.p, model.rng
    c.escalations[idx] += 1
    level = c.level[idx]
    step_p = (np.ones(len(idx)) if p.three_tier_platform
              else derived(p, "ladder", _tables)[1][level])
    up = (level < L["street"]) & (rng.random(len(idx)) < step_p)
    to_hotline = p.hotline_after_failure * np.where(IS_MEDIATED[c.kind[idx]], p.mediated_hotline_share,
                                                   1.0)
    hot = ~up & (rng.random(len(idx)) < to_hotline)
    for lev in (L["compound"], L["community"]):
        place(model, idx[up & (level == lev)], lev + 1)
    hotline_loop.receive(model, idx[hot])
    model.close(idx[~up & ~hot], gave_up=True)


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
