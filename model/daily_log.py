"""Per-day counters that the DataCollector and the summary read, grown as days are run."""

from __future__ import annotations

import numpy as np

from .calendar import month_of
from .cases import CaseTable
from .participation import participation_rate
from .vocabulary import IS_DISPUTE, KINDS, LONGQIAO, ORIGINS


class DailyLog:
    def __init__(self, n_streets: int, capacity: int = 366) -> None:
        self.n_streets = n_streets
        self.days = 0
        self._new_cases = np.zeros(capacity, np.int64)
        self._new_disputes = np.zeros(capacity, np.int64)
        self._staff_load = np.zeros((capacity, n_streets), np.int64)
        self._present = np.zeros((capacity, n_streets), np.int64)
        self._staff = np.zeros((capacity, n_streets), np.int64)
        self._tickets = np.zeros((capacity, len(KINDS)), np.int64)
        self.today: dict[str, float | int] = {}
        self.snapshots: list[dict[str, np.ndarray | float]] = []

    # views of the days run so far
    @property
    def new_cases(self) -> np.ndarray:
        return self._new_cases[: self.days]

    @property
    def new_disputes(self) -> np.ndarray:
        return self._new_disputes[: self.days]

    @property
    def staff_load_by_street(self) -> np.ndarray:
        return self._staff_load[: self.days]

    @property
    def present_by_street(self) -> np.ndarray:
        return self._present[: self.days]

    @property
    def staff_by_street(self) -> np.ndarray:
        """Community staff serving in each street each day (winter posts move some)."""
        return self._staff[: self.days]

    @property
    def tickets_by_kind(self) -> np.ndarray:
        """Hotline tickets received per day and kind."""
        return self._tickets[: self.days]

    def begin(self, day: int) -> None:
        """Open the row of ``day``, growing the arrays when a run goes on longer."""
        if day >= len(self._new_cases):
            grow = max(day + 1, 2 * len(self._new_cases)) - len(self._new_cases)
            self._new_cases = np.r_[self._new_cases, np.zeros(grow, np.int64)]
            self._new_disputes = np.r_[self._new_disputes, np.zeros(grow, np.int64)]
            self._staff_load = np.vstack([self._staff_load, np.zeros((grow, self.n_streets), np.int64)])
            self._present = np.vstack([self._present, np.zeros((grow, self.n_streets), np.int64)])
            self._staff = np.vstack([self._staff, np.zeros((grow, self.n_streets), np.int64)])
            self._tickets = np.vstack([self._tickets, np.zeros((grow, len(KINDS)), np.int64)])
        self.days = day + 1

    def add_staff_load(self, day: int, streets: np.ndarray) -> None:
        """Cases entering the queues of community staff (compounds and community offices)."""
        if day < 0:  # warm-up days are not logged
            return
        self._staff_load[day] += np.bincount(streets, minlength=self.n_streets)

    def add_tickets(self, day: int, kinds: np.ndarray) -> None:
        if day < 0:
            return
        self._tickets[day] += np.bincount(kinds, minlength=len(KINDS))

    def add_new(self, day: int, c: CaseTable, idx: np.ndarray) -> None:
        if day < 0:
            return
        self._new_cases[day] += len(idx)
        self._new_disputes[day] += int(np.count_nonzero(IS_DISPUTE[c.kind[idx]]))

    def close_day(self, model) -> None:
        day = model.day
        self._present[day] = model.present_by_street()
        self._staff[day] = model.grid.headcount_by_street
        self.today = {
            "day": day,
            "month": month_of(day) + 1,
            "present": model.n_present,
            "new_cases": int(self._new_cases[day]),
            "new_disputes": int(self._new_disputes[day]),
            "disputes_per_1000_per_day": self._new_disputes[day] / max(model.n_present, 1) * 1000,
            "hotline_tickets": int(self._tickets[day].sum()),
            "backlog": model.backlog(),
            "mean_satisfaction": model.mean_satisfaction(),
            "utilisation": model.utilisation(),
            "volunteers": model.n_volunteers(),
            "longqiao_present": int(self._present[day, LONGQIAO]),
        }

    def month_snapshot(self, model) -> None:
        """Month-end satisfaction sums by origin and community, and participation."""
        d = model.district
        who = model.present_adults()
        sat = model.satisfaction * who
        self.snapshots.append({
            "origin_sum": np.bincount(d.origin, sat, minlength=len(ORIGINS)),
            "origin_n": np.bincount(d.origin, who, minlength=len(ORIGINS)),
            "community_sum": np.bincount(d.community, sat, minlength=d.n_communities),
            "community_n": np.bincount(d.community, who, minlength=d.n_communities),
            "participation": participation_rate(model),
        })
