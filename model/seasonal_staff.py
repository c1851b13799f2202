"""Seasonal staff (季节性社区工作者): temporary community workers hired for Longqiao's
communities for the heating season only, when the winter influx (F11, F18) brings its peak
of cases (P3). An option, off by default: ``seasonal_staff_per_10k_influx`` workers per
10,000 winter residents, placed like the winter posts of agents/grid_worker.py (in proportion
to each community's winter residents), each giving ``seasonal_staff_skill`` of a full-time
worker's hours while the season lasts and none outside it.

The grid workers (agents/grid_worker.py) carry them as the role ``seasonal``; the budget
design (experiments/budget.py) buys them by the month.
"""

from __future__ import annotations

import numpy as np

from .district import District, split_integer
from .params import Params
from .vocabulary import LONGQIAO


def winter_residents(d: District) -> np.ndarray:
    """Seasonal residents per community, Longqiao's only (the influx is theirs: F11)."""
    winter = np.bincount(d.community[d.seasonal], minlength=d.n_communities).astype(float)
    winter[d.community_street != LONGQIAO] = 0.0
    return winter


def counts(p: Params, d: District) -> np.ndarray:
    """Seasonal workers per community: ``seasonal_staff_per_10k_influx`` per 10,000 winter
    residents in all, split by each Longqiao community's winter residents (largest
    remainders; no random draw)."""
    winter = winter_residents(d)
    total = round(p.seasonal_staff_per_10k_influx * winter.sum() / 10_000)
    if total == 0:
        return np.zeros(d.n_communities, np.int64)
    return split_integer(total, winter)
