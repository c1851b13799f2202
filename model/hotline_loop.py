"""The 12345 hotline and its six-step closed loop (接、转、办、访、督、考, policy 8):
receive → dispatch (to the responsible unit, with a deadline) → handle → follow-up visit
(satisfied: closed; basically satisfied or unsatisfied: may go to supervision) → supervise
(a special team; still unsatisfied after repeated supervision: discipline inspection) →
evaluate (units' results feed their appraisal, here a monthly accountability factor).

With ``closed_loop`` off, tickets are dispatched and handled but nobody visits, supervises or
evaluates: an unresolved resident may call again (a new ticket) or give up.
"""

from __future__ import annotations

import numpy as np

from .queues import enqueue
from .vocabulary import DEPARTMENT_KINDS, IS_ENFORCEMENT, KINDS, LEVELS, K, S, member_table

HOTLINE = LEVELS.index("hotline")
DEPT = np.array([K[k] for k in DEPARTMENT_KINDS] + [K["infrastructure"]])
IS_DISPATCHED_TO_DEPARTMENTS = member_table(DEPT, len(KINDS))


def responsible_units(model, idx: np.ndarray) -> np.ndarray:
    """Dispatch (转): the unit answerable for each ticket."""
    c, d, units = model.cases, model.district, model.units
    kind = c.kind[idx]
    firm = d.compound_firm[c.compound[idx]]
    unit = units.of("community", c.community[idx])
    firm_unit = units.of("firm", np.maximum(firm, 0))
    unit = np.where((kind == K["property"]) & (firm >= 0), firm_unit, unit)
    enforce = IS_ENFORCEMENT[kind]
    if model.p.joint_meetings:  # enforcement goes to the street's law-enforcement team
        unit = np.where(enforce, units.of("street", c.street[idx].astype(np.int64)), unit)
    else:                       # P5: the firm is left to 'enforce'
        unit = np.where(enforce & (firm >= 0), firm_unit, unit)
    return np.where(IS_DISPATCHED_TO_DEPARTMENTS[kind], units.first["department"], unit)


def receive(model, idx: np.ndarray, ticket: bool = True) -> None:
    """Receive (接) and dispatch (转) with a deadline. ``ticket``: a 12345 call; the loop's other
    receiving channels (secretaries' visits, grid probes) enter it without a hotline ticket."""
    if len(idx) == 0:
        return
    c, p = model.cases, model.p
    delay = p.dispatch_days * (p.grid_dispatch_factor if p.grid_integration else 1.0)
    unit = responsible_units(model, idx)
    c.responsible[idx] = unit
    enqueue(model, idx, unit, HOTLINE, priority=1, delay=delay)
    if ticket:
        c.tickets[idx] += 1
        model.daily.add_tickets(model.day, c.kind[idx])


def after_handling(model, idx: np.ndarray) -> None:
    """Handle (办) done: schedule the follow-up visit, or without the loop close or re-call."""
    if len(idx) == 0:
        return
    c = model.cases
    if model.p.closed_loop:
        c.note_open(idx)
        c.state[idx] = S["awaiting_visit"]
        c.visit_day[idx] = model.day + model.p.visit_after_days
        return
    failed = np.flatnonzero(~c.resolved[idx])  # positions in idx
    calls = ((model.rng.random(len(failed)) < model.p.repeat_call)
             & (c.tickets[idx[failed]] < model.p.max_tickets))
    again = np.zeros(len(idx), bool)
    again[failed[calls]] = True
    receive(model, idx[again])
    closing = idx[~again]
    model.close(closing, gave_up=~c.resolved[closing])  # a failed ticket not called again


def visit(model) -> None:
    """Follow-up visit (访) and supervision (督) of today's due tickets."""
    c, p = model.cases, model.p
    w = c.open_window()
    due = w.rows((w.state == S["awaiting_visit"]) & (w.visit_day <= model.day))
    if len(due) == 0:
        return
    score = model.case_satisfaction(due)
    happy = score >= p.satisfied_threshold
    # the visit judges the unit the ticket was dispatched to, also after supervision
    n_units = len(model.visits)
    responsible = c.responsible[due]
    model.visits += np.bincount(responsible, minlength=n_units)
    model.visits_satisfied += np.bincount(responsible[happy], minlength=n_units)
    # only what is still unresolved is worth supervising; a resolved-but-slow case is closed
    # and counts against the unit in its evaluation
    unhappy = np.flatnonzero(~happy & ~c.resolved[due])  # positions in due
    rounds_left = c.supervised[due[unhappy]] < p.supervision_rounds
    chosen = rounds_left & (model.rng.random(len(unhappy)) < p.supervision_share)
    supervise = np.zeros(len(due), bool)
    supervise[unhappy[chosen]] = True
    c.discipline[due[unhappy[~rounds_left]]] = True  # 多次督办后仍不满意: discipline inspection
    supervise_cases(model, due[supervise], delay=1.0)
    model.close(due[~supervise])


def check_deadlines(model) -> None:
    """Tickets past their deadline are flagged overdue; with the loop they are pushed. A
    ticket stuck far beyond its deadline (a unit without hours) goes to supervision with the
    loop, and is given up by its caller without it."""
    c, p = model.cases, model.p
    w = c.open_window()
    waiting = (w.state == S["queued"]) & (w.level == HOTLINE)
    late = w.rows(waiting & ~w.overdue & (model.day - w.entered > p.hotline_deadline_days))
    c.overdue[late] = True
    if p.closed_loop:
        c.priority[late] = 2
    stuck = w.rows(waiting & (w.unit != model.units.first["supervision"])
                   & (model.day - w.entered > p.stuck_after_deadlines * p.hotline_deadline_days))
    if p.closed_loop:
        supervise_cases(model, stuck, delay=0.0)
    else:
        model.close(stuck, gave_up=True)


def supervise_cases(model, idx: np.ndarray, delay: float) -> None:
    """Supervise (督): the special team takes the cases, first in its queue."""
    model.cases.supervised[idx] += 1
    enqueue(model, idx, np.full(len(idx), model.units.first["supervision"]), HOTLINE,
            priority=2, delay=delay)


def evaluate(model) -> None:
    """Evaluate (考): last month's satisfied share per unit sets its accountability factor."""
    if not model.p.closed_loop:
        return
    p, v, s = model.p, model.visits, model.visits_satisfied
    enough = v >= p.min_visits_to_evaluate
    share = np.divide(s, v, out=np.zeros_like(s, dtype=float), where=enough)
    target = np.clip(1 + p.accountability_slope * (share - p.accountability_reference),
                     p.accountability_min, p.accountability_max)
    model.accountability[enough] = target[enough]
    v[:] = 0
    s[:] = 0
