"""Docking the work queues against queueing theory: Erlang-A, the M/M/c+M queue (Garnett,
Mandelbaum & Reiman 2002; Mandelbaum & Zeltyn 2007), docs/ODD.md section 8.

The model's own code runs a minimal configuration: independent compound units, each with one
queue (``queues.enqueue``), served by ``tiered_ladder.handle`` (``serve_queues``, the patience
rule ``tiered_ladder.impatient`` and ``escalate``, which with no step up and no hotline closes
an impatient case: the resident gives up). Arrivals are Poisson, work per case exponential
(mean one hour; the kinds' fixed hours are replaced) and patience exponential; a unit has
``1 / mean_service_steps`` hours per step, so one unit is one server of rate mu = 1 /
``mean_service_steps`` cases per step. The model serves a unit's queue in first-come order
with one pooled budget of hours, so a unit is one fast server (c = 1), not c parallel staff.

Two things make the model's queue differ from the textbook one, and the theory below follows
the model: (1) patience runs until the work is finished (``today - entered > patience``
applies to every queued case, the one being worked on too), so a case can be given up during
its service; (2) "wait" is what the summary reports, the time from arrival to the end of the
first handling, over the cases handled. And time moves in whole steps (a model day), so the
continuous-time theory is approached only when a step is short against the mean service and
patience times: ``docked_queue`` takes them in steps.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

from . import tiered_ladder
from .cases import NOT_SET, CaseTable
from .model import GovernanceModel
from .params import Params
from .queues import enqueue
from .vocabulary import LEVELS, OPEN_STATES, K, U


class QueueResult(NamedTuple):
    """Abandonment probability and mean wait (arrival to the end of the first handling, over
    the handled arrivals), in the time unit of the rates given."""

    abandonment: float
    mean_wait: float


def erlang_a(arrival_rate: float, service_rate: float, abandonment_rate: float,
             servers: int = 1, patience_in_service: bool = True,
             tail: float = 1e-15) -> QueueResult:
    """Stationary M/M/c+M: Poisson arrivals, ``servers`` exponential servers, first come first
    served, exponential patience. With ``patience_in_service`` a customer may abandon until
    their service ends (the model's rule); without, only while waiting (textbook Erlang-A).

    Exact by the birth-death chain of the number in the system n (death rate
    min(n, c) mu + theta (n - c)+, plus theta min(n, c) when patience runs in service),
    truncated where its probability falls below ``tail``, and a tagged arrival's position k
    in line, which moves up at rate c mu + theta x (x: those ahead who may abandon) and is
    left at rate theta; arrivals see the stationary n (PASTA) and take position n + 1."""
    lam, mu, theta, c = arrival_rate, service_rate, abandonment_rate, servers
    in_service = theta if patience_in_service else 0.0
    # the chain's weights grow while lam exceeds the death rate, then fall faster than
    # geometrically: stop once past the peak and below ``tail``
    n_max = c + int(np.ceil(max(lam - c * mu, 0.0) / theta)) + 1
    log_w, peak = [0.0], 0.0
    n = 0
    while n < n_max or log_w[-1] - peak > np.log(tail):
        n += 1
        death = min(n, c) * (mu + in_service) + theta * max(n - c, 0)
        log_w.append(log_w[-1] + np.log(lam / death))
        peak = max(peak, log_w[-1])
    pi = np.exp(np.array(log_w) - peak)
    pi /= pi.sum()
    served, wait_if_served = _tagged_arrival(len(pi), mu, theta, c, in_service)
    p_served = float(pi @ served)
    return QueueResult(1.0 - p_served, float(pi @ wait_if_served) / p_served)


def _tagged_arrival(positions: int, mu: float, theta: float, c: int,
                    in_service: float) -> tuple[np.ndarray, np.ndarray]:
    """For an arrival at position k = 1 .. ``positions`` (index k - 1): the probability it is
    served, and E[time to the end of its service; 0 if it abandons]."""
    served, wait = np.empty(positions), np.empty(positions)
    done = mu + in_service          # rate of leaving service, served or not
    served[:c] = mu / done
    wait[:c] = served[:c] / done    # the race's time and outcome are independent
    for k in range(c + 1, positions + 1):
        up = c * (mu + in_service) + theta * (k - 1 - c)  # someone ahead leaves
        out = up + theta
        served[k - 1] = up / out * served[k - 2]
        wait[k - 1] = up / out * (served[k - 2] / out + wait[k - 2])
    return served, wait


class DockedQueues:
    """What ``tiered_ladder.handle`` and ``queues.enqueue`` read of a GovernanceModel, for
    ``queues`` independent compound units with ``hours`` each per step."""

    close = GovernanceModel.close  # the model's own closing of cases

    def __init__(self, queues: int, hours: float, seed: int) -> None:
        # no step up the ladder and no turn to the hotline: an impatient resident gives up
        self.p = Params(three_tier_platform=False, step_up_compound=0.0,
                        hotline_after_failure=0.0)
        self.rng = np.random.default_rng(seed)
        self.cases = CaseTable()
        self.day = 0
        self.units = SimpleNamespace(type=np.full(queues, U["compound"]),
                                     street=np.zeros(queues, np.int64),
                                     community=np.zeros(queues, np.int64))
        self.capacity = np.full(queues, hours)
        self.hours_used = np.zeros(queues)
        self.accountability = np.ones(queues)
        self.professional_boost = np.zeros(1)
        self.daily = SimpleNamespace(add_staff_load=lambda day, streets: None)
        self.residents = SimpleNamespace(closed_today=[])
        self._units = np.arange(queues)

    def step(self, arrival_rate: float, mean_patience: float) -> None:
        """One step: Poisson arrivals at every unit, each with exponential work (mean one
        hour) and patience, then the ladder's handling."""
        c, rng = self.cases, self.rng
        c.advance_first_open()
        unit = np.repeat(self._units, rng.poisson(arrival_rate, len(self._units)))
        if len(unit):
            idx = c.add(len(unit), kind=K["other"], opened=self.day, raised=self.day,
                        patience=rng.exponential(mean_patience, len(unit)))
            enqueue(self, idx, unit, LEVELS.index("compound"), priority=0, delay=0.0)
            c.work_left[idx] = rng.exponential(1.0, len(unit))
        tiered_ladder.handle(self)
        self.residents.closed_today.clear()
        self.day += 1


def docked_queue(utilisation: float, mean_service_steps: float, mean_patience_steps: float,
                 queues: int, steps: int, warmup: int, seed: int = 1) -> QueueResult:
    """Run the docked configuration at offered ``utilisation`` (arrival rate over service
    rate) with arrivals for ``steps`` steps, and measure those of steps ``warmup`` on (the
    units start empty): the share never handled, and the mean of first handled - raised (in
    steps) over the others. The steps go on without arrivals until every measured arrival
    has left; later arrivals could not have changed their fate (first come, first served).
    Days are int16: all steps together must stay below 32,767."""
    mu = 1.0 / mean_service_steps
    model = DockedQueues(queues, hours=mu, seed=seed)
    for _ in range(steps):
        model.step(utilisation * mu, mean_patience_steps)
    c = model.cases
    sample = c.raised >= warmup
    while np.isin(c.state[sample], OPEN_STATES).any():
        model.step(0.0, mean_patience_steps)
    handled = sample & (c.first_handled != NOT_SET)
    return QueueResult(1.0 - np.count_nonzero(handled) / np.count_nonzero(sample),
                       float(np.mean(c.first_handled[handled] - c.raised[handled])))
