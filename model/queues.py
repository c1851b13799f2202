"""Work queues (工单队列) shared by the ladder and the hotline: every unit spends its daily
hours on its ready cases, highest priority first, then first come, first served."""

from __future__ import annotations

import numpy as np

from .params import derived
from .vocabulary import KINDS, LEVELS, UNIT_TYPES, S, U, member_table


def effort_tables(p) -> tuple[np.ndarray, np.ndarray]:
    """Staff hours a case needs by kind (effort_hours_<kind>) and the relative effort by unit
    type (unit_effort_<unit>), from the parameters."""
    return (np.array([getattr(p, f"effort_hours_{k}") for k in KINDS]),
            np.array([getattr(p, f"unit_effort_{u}") for u in UNIT_TYPES]))


def effort_by_unit_and_kind(p) -> np.ndarray:
    """Staff hours a case of each kind (columns) needs at each unit type (rows): effort by kind
    x relative effort of the unit x effort_scale (once per Params: ``derived``)."""
    effort, unit_effort = effort_tables(p)
    return np.multiply.outer(unit_effort, effort) * p.effort_scale


STAFF_UNITS = np.array([U["compound"], U["community"]])  # queues worked by community staff
QUEUED = S["queued"]
LEVEL_BIT = tuple(np.int8(1 << i) for i in range(len(LEVELS)))  # levels_seen: bit i, LEVELS[i]
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
    model.hours_used[:] = np.bincount(unit, np.maximum(np.minimum(work, cap - before), 0.0),
                                      minlength=len(model.hours_used))
    return q[done]


def enqueue(model, idx: np.ndarray, unit: np.ndarray, level: int, priority: int,
            delay: float) -> None:
    """Put cases ``idx`` in the queues of ``unit`` at ladder ``level``, ready after ``delay``
    days, with the staff hours their kind needs at that unit."""
    if len(idx) == 0:  # called for every tier and channel, often with nothing to place
        return
    c, day = model.cases, model.day
    c.note_open(idx)
    c.state[idx] = QUEUED
    c.unit[idx] = unit
    c.level[idx] = level
    c.max_level[idx] = np.maximum(c.max_level[idx], level)
    c.levels_seen[idx] |= LEVEL_BIT[level]
    c.entered[idx] = day
    c.priority[idx] = priority
    # fractional delays round up or down at random, so half a day is half a day on average
    whole, part = divmod(delay, 1.0)
    c.ready[idx] = day + int(whole)
    if part:
        c.ready[idx] += model.rng.random(len(idx)) < part
    utype = model.units.type[unit]
    c.work_left[idx] = derived(model.p, "effort", effort_by_unit_and_kind)[utype, c.kind[idx]]
    model.daily.add_staff_load(day, model.units.street[unit[IS_STAFF_UNIT[utype]]])
