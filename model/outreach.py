"""Outreach that finds unvoiced problems: special grid workers drawn from couriers and riders
act as 'probes' (探头, policy 6), and people's-condition secretaries (民情书记) sent down each
month collect residents' concerns (policy 7). Found problems go to the district platform, the
'receive' step of the closed loop, without being 12345 tickets."""

from __future__ import annotations

import numpy as np

from .cases import NOT_SET
from .hotline_loop import receive
from .vocabulary import C, K, S

PROBE_KINDS = np.array([K[k] for k in ("infrastructure", "parking", "environment",
                                       "property", "courier_access")])
PROBE_RATE = 0.003        # assumption: daily detection per special worker per 10,000 residents
SPECIAL_SHARE = 0.3       # assumption: share of couriers and riders who enrol
SECRETARY_SHARE = 0.2     # assumption: share of recent silent cases a monthly visit hears
LOOKBACK_DAYS = 60        # assumption: older silent problems are no longer raised


def _recent_silent(model, kinds: np.ndarray | None) -> np.ndarray:
    c = model.cases
    sel = (c.state == S["silent"]) & (c.opened >= model.day - LOOKBACK_DAYS)
    if kinds is None:  # secretaries visit residents
        sel &= c.resident >= 0
    else:
        sel &= np.isin(c.kind, kinds)
    return np.flatnonzero(sel)


def probes(model) -> np.ndarray:
    """Daily: special grid workers spot silent problems in the compounds they deliver to."""
    if not (model.p.special_grid_workers and model.courier_special.any()):
        return np.zeros(0, np.int64)
    per_10k = model.courier_special.sum() / max(model.present.sum(), 1) * 10_000
    found = _recent_silent(model, PROBE_KINDS)
    found = found[model.rng.random(len(found)) < 1 - np.exp(-PROBE_RATE * per_10k)]
    # each report earns its finder a point (the points scheme of policy 6)
    finders = model.rng.choice(np.flatnonzero(model.courier_special), len(found))
    np.add.at(model.courier_points, finders, 1)
    return _reopen(model, found)


def secretaries(model) -> np.ndarray:
    """Monthly: people's-condition secretaries hear a share of recent silent cases."""
    if not model.p.double_reporting:
        return np.zeros(0, np.int64)
    found = _recent_silent(model, None)
    found = found[model.rng.random(len(found)) < SECRETARY_SHARE]
    return _reopen(model, found)


def _reopen(model, idx: np.ndarray) -> np.ndarray:
    """The problem is raised today and goes up to the district platform, which dispatches
    it to the responsible unit ("grid calls, block responds, department reports")."""
    model.cases.channel[idx] = C["probe"]
    model.cases.raised[idx] = model.day
    model.cases.closed[idx] = NOT_SET
    receive(model, idx, ticket=False)
    return idx
