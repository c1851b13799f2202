"""Seasonal presence: the winter ('tidal', 潮汐) influx of elderly parents into Longqiao for the
heating season (F11, F18). Staff capacity does not follow them (P3)."""

from __future__ import annotations

import numpy as np

from .calendar import DAYS_PER_YEAR
from .params import Params


def in_heating_season(day: int | np.ndarray, p: Params) -> bool | np.ndarray:
    """Day of year (0 = 1 January) inside mid-November .. mid-March; for a day or an array
    of days."""
    doy = day % DAYS_PER_YEAR
    return (doy >= p.heating_start_day) | (doy < p.heating_end_day)


def season_days(p: Params) -> int:
    """Days of the heating season in a year (F18)."""
    return int(np.count_nonzero(in_heating_season(np.arange(DAYS_PER_YEAR), p)))


def presence(seasonal: np.ndarray, day: int, p: Params) -> np.ndarray:
    """Who is present: everyone, except seasonal residents outside the heating season."""
    if in_heating_season(day, p):
        return np.ones(len(seasonal), bool)
    return ~seasonal


def update_presence(model) -> bool:
    """Set ``model.present`` for today; return True when it changed."""
    in_season = in_heating_season(model.day, model.p)
    # Presence depends on the season alone: on the days the season is the one ``present``
    # was last set for, skip building and comparing a whole array.
    last_present, last_season = model._presence_set_for
    if model.present is not None and model.present is last_present and in_season == last_season:
        return False
    now = presence(model.district.seasonal, model.day, model.p)
    changed = model.present is None or not np.array_equal(now, model.present)
    if changed:
        model.present = now
    model._presence_set_for = (model.present, in_season)
    return changed
