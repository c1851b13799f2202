"""The simulation calendar: one step a day, day 0 = 1 January, 365-day years."""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

# Day 0 is 1 January of the study's year (F3, F4 are 2021 figures); dates are for reading
# outputs only: the model's calendar is 365-day years from day 0.
FIRST_DATE = np.datetime64("2021-01-01")
DAYS_PER_YEAR = 365
MONTH_STARTS = np.array([0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334])
_MONTH_START_LIST = MONTH_STARTS.tolist()
_MONTH_START_DAYS = frozenset(_MONTH_START_LIST)  # asked twice a day: a set, not an array


def month_of(day: int | np.ndarray) -> int | np.ndarray:
    """Month index (0 = January of the first year) of a simulation day (or days)."""
    if isinstance(day, int):  # asked once a day: plain Python beats a numpy round trip
        year, doy = divmod(day, DAYS_PER_YEAR)
        return 12 * year + bisect_right(_MONTH_START_LIST, doy) - 1
    day = np.asarray(day)
    year, doy = np.divmod(day, DAYS_PER_YEAR)
    month = 12 * year + np.searchsorted(MONTH_STARTS, doy, side="right") - 1
    return int(month) if month.ndim == 0 else month


def date_of(day: np.ndarray) -> np.ndarray:
    """Calendar dates of simulation days (day 0 = 1 January 2021)."""
    return FIRST_DATE + np.asarray(day).astype("timedelta64[D]")


def is_month_start(day: int) -> bool:
    return day % DAYS_PER_YEAR in _MONTH_START_DAYS


def next_month_start(day: int) -> int:
    """The first month start on or after ``day``."""
    year, doy = divmod(day, DAYS_PER_YEAR)
    later = MONTH_STARTS[doy <= MONTH_STARTS]
    return int(DAYS_PER_YEAR * year + later[0]) if len(later) else DAYS_PER_YEAR * (year + 1)
