"""Outreach that finds unvoiced problems: special grid workers drawn from couriers and riders
act as 'probes' (探头, policy 6), and people's-condition secretaries (民情书记) sent down each
month collect residents' concerns (policy 7). Found problems go to the district platform, the
'receive' step of the closed loop, without being 12345 tickets."""

from __future__ import annotations

import numpy as np

from . import tiered_ladder
from .cases import NOT_SET
from .hotline_loop import receive
from .vocabulary import KINDS, C, K, S, member_table

PROBE_KINDS = np.array([K[k] for k in ("infrastructure", "parking", "environment",
                                       "property", "courier_access")])
IS_VISIBLE = member_table(PROBE_KINDS, len(KINDS))  # kind -> one can see it passing by


class SilentProblems:
    """Rows of the cases residents and couriers kept silent about, in the order raised, so
    that the daily outreach looks at the recent ones without scanning the whole case table."""

    def __init__(self) -> None:
        self._rows = np.zeros(1024, np.int64)
        self._n = 0
        self._start = 0  # rows before it were raised before the look-back window

    def add(self, idx: np.ndarray) -> None:
        if self._n + len(idx) > len(self._rows):
            self._rows = np.r_[self._rows, np.zeros(max(len(idx), len(self._rows)), np.int64)]
        self._rows[self._n:self._n + len(idx)] = idx
        self._n += len(idx)

    def recent(self, model) -> np.ndarray:
        """Rows still silent and opened within ``silent_lookback_days`` (ascending)."""
        c = model.cases
        rows = self._rows[self._start:self._n]
        self._start += int(np.searchsorted(c.opened[rows], model.day - model.p.silent_lookback_days))
        rows = self._rows[self._start:self._n]
        return rows[c.state[rows] == S["silent"]]


def recent_silent(model, visible: bool, street: int | None = None) -> np.ndarray:
    """Recent silent problems: those one can see passing by (``visible``: probes, patrols;
    any raiser), or residents' own (secretaries hear them); in ``street`` when given."""
    c = model.cases
    rows = model.silent.recent(model)
    keep = IS_VISIBLE[c.kind[rows]] if visible else c.resident[rows] >= 0
    if street is not None:
        keep &= c.street[rows] == street
    return rows[keep]


def probes(model) -> np.ndarray:
    """Daily: special grid workers spot silent problems in the compounds they deliver to."""
    if not (model.p.special_grid_workers and model.couriers.special.any()):
        return np.zeros(0, np.int64)
    per_10k = model.couriers.special.sum() / max(model.present.sum(), 1) * 10_000
    found = recent_silent(model, visible=True)
    found = found[model.rng.random(len(found)) < 1 - np.exp(-model.p.probe_rate * per_10k)]
    # each report earns its finder a point (the points scheme of policy 6)
    finders = model.rng.choice(np.flatnonzero(model.couriers.special), len(found))
    np.add.at(model.couriers.points, finders, 1)
    return _reopen(model, found)


def secretaries(model, street: int) -> np.ndarray:
    """Monthly: people's-condition secretaries sent to ``street`` hear a share of its
    recent silent cases."""
    if not model.p.double_reporting:
        return np.zeros(0, np.int64)
    found = recent_silent(model, visible=False, street=street)
    found = found[model.rng.random(len(found)) < model.p.secretary_hear_share]
    return _reopen(model, found)


def to_grid(model, idx: np.ndarray) -> None:
    """Problems a grid worker found on patrol: raised today, through the grid worker, at
    the compound tier of the ladder."""
    if len(idx) == 0:
        return
    c = model.cases
    c.channel[idx] = C["grid_worker"]
    c.raised[idx] = model.day
    c.closed[idx] = NOT_SET
    tiered_ladder.place(model, idx, 0)


def _reopen(model, idx: np.ndarray) -> np.ndarray:
    """The problem is raised today and goes up to the district platform, which dispatches
    it to the responsible unit ("grid calls, block responds, department reports")."""
    model.cases.channel[idx] = C["probe"]
    model.cases.raised[idx] = model.day
    model.cases.closed[idx] = NOT_SET
    receive(model, idx, ticket=False)
    return idx
