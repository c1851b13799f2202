"""The simulation calendar: one step a day, day 0 = 1 January, 365-day years."""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

MONTH_STARTS = np.array([0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334])
_MONTH_START_LIST = MONTH_STARTS.tolist()
_MONTH_START_DAYS = frozenset(_MONTH_START_LIST)  # asked twice a day: a set, not an array


def month_of(day: int | np.ndarray) -> int | np.ndarray:
    """Month index (0 = January of the first year) of a simulation day (or days)."""
    if isinstance(day, int):  # asked once a day: plain Python beats a numpy round trip
        return 12 * (day // 365) + bisect_right(_MONTH_START_LIST, day % 365) - 1
    day = np.asarray(day)
    month = 12 * (day // 365) + np.searchsorted(MONTH_STARTS, day % 365, side="right") - 1
    return int(month) if month.ndim == 0 else month


def is_month_start(day: int) -> bool:
    return day % 365 in _MONTH_START_DAYS
