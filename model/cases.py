"""The case table (案件台账): one row per dispute or demand, kept as growable numpy columns.

Every case is in exactly one state of ``vocabulary.STATES``. Columns are views of the first
``n`` rows, so ``cases.state[idx] = ...`` writes through. The views are made when rows are
added and kept as plain attributes: the daily processes read columns tens of thousands of
times a run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .vocabulary import CHANNELS, KINDS, LEVELS, STATES, STREETS, S

# Day columns may hold negative days (the warm-up before 1 January), so "not yet" is NOT_SET.
NOT_SET = np.iinfo(np.int16).min

COLUMNS: dict[str, tuple[type, float]] = {
    "resident": (np.int32, -1),      # raiser (-1 when a courier raised it)
    "courier": (np.int32, -1),       # raising courier or rider (-1 for residents)
    "kind": (np.int8, 0),
    "channel": (np.int8, 0),
    "compound": (np.int32, -1),
    "community": (np.int32, -1),
    "street": (np.int8, -1),
    "state": (np.int8, 0),
    "unit": (np.int32, -1),          # unit whose queue holds or last held the case
    "responsible": (np.int32, -1),   # unit the district loop dispatched it to (for evaluation)
    "level": (np.int8, -1),          # current tier: LEVELS index
    "max_level": (np.int8, -1),      # highest tier reached
    "levels_seen": (np.int8, 0),     # bit i set: the case reached LEVELS[i]
    "opened": (np.int16, NOT_SET),   # day the problem arose
    "raised": (np.int16, NOT_SET),   # day it reached a handler (later for found problems)
    "ready": (np.int16, NOT_SET),    # first day a unit may work on it
    "entered": (np.int16, NOT_SET),  # day it entered the current unit
    "handled": (np.int16, NOT_SET),  # day a unit last finished work on it
    "first_handled": (np.int16, NOT_SET),  # day a unit first finished work on it
    "first_level": (np.int8, -1),    # tier of the unit that first finished work on it
    "visit_day": (np.int16, NOT_SET),
    "closed": (np.int16, NOT_SET),
    "work_left": (np.float32, 0.0),
    "patience": (np.float32, 0.0),
    "priority": (np.int8, 0),        # hotline tickets and supervised cases go first
    "tickets": (np.int8, 0),         # hotline tickets this case produced
    "supervised": (np.int8, 0),
    "escalations": (np.int8, 0),
    "discipline": (np.bool_, False),
    "overdue": (np.bool_, False),
    "resolved": (np.bool_, False),
    "gave_up": (np.bool_, False),    # closed because the resident gave up (ladder or hotline)
    "settled_level": (np.int8, -1),  # tier that resolved it
    "satisfaction": (np.float32, np.nan),
}


class CaseTable:
    def __init__(self, capacity: int = 4096) -> None:
        self.n = 0
        self._cols = {name: np.full(capacity, fill, dtype)
                      for name, (dtype, fill) in COLUMNS.items()}
        self._make_views()
        # No case before this row is open (queued or awaiting a visit). Cases are appended as
        # they arise and most close within weeks, so the daily scans for open cases look at a
        # few thousand recent rows instead of the whole year's (see ``open_window``).
        self.first_open = 0

    def note_open(self, idx: np.ndarray) -> None:
        """Cases ``idx`` are put into an open state (call on every such transition)."""
        if len(idx):
            self.first_open = min(self.first_open, int(idx.min()))

    def note_handled(self, idx: np.ndarray, day: int) -> None:
        """A unit finished work on cases ``idx`` on ``day``; the first time, the day and the
        tier are kept too (``handled`` is overwritten at every later tier)."""
        self.handled[idx] = day
        first = idx[self.first_handled[idx] == NOT_SET]
        self.first_handled[first] = day
        self.first_level[first] = self.level[first]

    def advance_first_open(self) -> None:
        """Move ``first_open`` up to the first case still open."""
        lo = self.first_open
        state = self.state[lo:]
        is_open = (state == S["queued"]) | (state == S["awaiting_visit"])
        self.first_open = lo + int(is_open.argmax()) if is_open.any() else self.n

    def open_window(self) -> CaseWindow:
        """The rows from ``first_open`` on, which hold every open case."""
        return CaseWindow(self, self.first_open)

    def _make_views(self) -> None:
        """Column attributes: views of the first ``n`` rows."""
        n = self.n
        self.__dict__.update({name: col[:n] for name, col in self._cols.items()})

    def __len__(self) -> int:
        return self.n

    # The column attributes are views into ``_cols``: a copy (pickle, deepcopy) must rebuild
    # them from its own columns, not carry detached copies of the old views.
    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in COLUMNS}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._make_views()

    def add(self, count: int, **values: np.ndarray | float) -> np.ndarray:
        """Append ``count`` cases with the given column values; return their indices."""
        unknown = set(values) - set(COLUMNS)
        if unknown:
            raise KeyError(f"unknown case columns: {sorted(unknown)}")
        need = self.n + count
        cap = len(self._cols["state"])
        if need > cap:
            new_cap = max(need, 2 * cap)
            for name, (dtype, fill) in COLUMNS.items():
                grown = np.full(new_cap, fill, dtype)
                grown[: self.n] = self._cols[name][: self.n]
                self._cols[name] = grown
        idx = np.arange(self.n, need)
        for name, value in values.items():
            self._cols[name][self.n: need] = value
        self.n = need
        self._make_views()
        return idx

    def count_states(self) -> dict[str, int]:
        counts = np.bincount(self.state, minlength=len(STATES))
        return {s: int(c) for s, c in zip(STATES, counts, strict=True)}

    def to_frame(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        """The cases (or those where the mask ``rows`` is true) as a tidy table with readable
        categories; unset days are empty (NA)."""
        rows = np.ones(self.n, bool) if rows is None else rows
        df = pd.DataFrame({name: getattr(self, name)[rows] for name in COLUMNS})
        df.insert(0, "case_id", np.flatnonzero(rows))
        for col, (_, fill) in COLUMNS.items():
            if fill == NOT_SET:
                df[col] = df[col].astype("Int16").mask(df[col] == NOT_SET)
        decode = {"kind": KINDS, "channel": CHANNELS, "state": STATES, "street": STREETS,
                  "level": LEVELS, "max_level": LEVELS, "settled_level": LEVELS,
                  "first_level": LEVELS}
        for col, names in decode.items():
            codes = df[col].to_numpy()
            df[col] = pd.Categorical.from_codes(np.where(codes < 0, -1, codes), categories=list(names))
        return df


class CaseWindow:
    """Columns of a case table from row ``lo`` on (views); ``rows(mask)`` turns a mask over the
    window into case indices of the table, in order."""

    def __init__(self, table: CaseTable, lo: int) -> None:
        self._table = table
        self.lo = lo

    def __getattr__(self, name: str) -> np.ndarray:
        if name not in COLUMNS:
            raise AttributeError(name)
        return getattr(self._table, name)[self.lo:]

    def rows(self, mask: np.ndarray) -> np.ndarray:
        return self.lo + np.flatnonzero(mask)
