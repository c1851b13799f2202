"""Work queues (工单队列) shared by the ladder and the hotline: every unit spends its daily
hours on its ready cases, highest priority first, then first come, first served."""

from __future__ import annotations

import numpy as np

from .params import derived
from .vocabulary import KINDS, UNIT_TYPES, S, U, member_table


def effort_tables(p) -> tuple[np.ndarray, np.ndarray]:
    """Staff hours a case needs by kind (effort_hours_<kind>) and the relative effort by unit
    type (unit_effort_<unit>), from the parameters (once per Params: ``derived``)."""
    return (np.array([getattr(p, f"effort_hours_{k}") for k in KINDS]),
            np.array([getattr(p, f"unit_effort_{u}") for u in UNIT_TYPES]))


STAFF_UNITS = np.array([U["compound"], U["community"]])  # queues worked by community staff
IS_STAFF_UNIT = member_table(STAFF_UNITS, len(UNIT_TYPES))

def serve_queues(model) -> np.ndarray:
    """Spend each unit's hours on its ready queue (priority, then first to arrive at the unit).
    Return the cases finished today; record hours used per unit."""
    c, today = model.cases, model.day
    w = c.open_window()
    q = w.rows((w.state == S["queued"]) & (w.ready <= today))
    model.hours_used[:] = 0.0
    if len(q) == 0:
        return q
    q = q[np.lexsort((q, c.entered[q], -c.priority[q], c.unit[q]))]
    unit = c.unit[q]
    work = c.work_left[q].astype(np.float64)
    new_unit = np.empty(len(q), bool)
    new_unit[0] = True
    np.not_equal(unit[1:], unit[:-1], out=new_unit[1:])
    starts = np.flatnonzero(new_unit)
    group = np.cumsum(new_unit) - 1  # position of each case's unit among the units served
    cum = np.cumsum(work)
    before = cum - work - (cum - work)[starts][group]
    cap = model.capacity[unit]
    done = before + work <= cap
    partial = ~done & (before < cap)
    c.work_left[q[partial]] -= (cap - before)[partial].astype(np.float32)
    c.work_left[q[done]] = 0.0
    # (bincount adds in the order of the cases, as np.add.at did, at a fraction of its cost)
    model.hours_used[:] = np.bincount(unit, np.clip(np.minimum(work, cap - before), 0, None),
                                      minlength=len(model.hours_used))
    return q[done]


def enqueue(model, idx: np.ndarray, unit: np.ndarray, level: int, priority: int,
            delay: float) -> None:
    if len(idx) == 0:  # called for every tier and channel, often with nothing to place
        return
    c = model.cases
    c.note_open(idx)
    c.state[idx] = S["queued"]
    c.unit[idx] = unit
    c.level[idx] = level
    c.max_level[idx] = np.maximum(c.max_level[idx], level)
    c.levels_seen[idx] |= np.int8(1 << level)
    c.entered[idx] = model.day
    # fractional delays round up or down at random, so half a day is half a day on average
    c.ready[idx] = model.day + np.floor(delay + model.rng.random(len(idx))).astype(np.int64)
    c.priority[idx] = priority
    utype = model.units.type[unit]
    staff = IS_STAFF_UNIT[utype]
    model.daily.add_staff_load(model.day, model.units.street[unit[staff]])
    effort, unit_effort = derived(model.p, "effort", effort_tables)
    c.work_left[idx] = effort[c.kind[idx]] * unit_effort[utype] * model.p.effort_scale
