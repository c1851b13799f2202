"""Grid workers (网格员) and community staff: 'two committees' members (F9), full-time workers
(F5), public-welfare posts (F7), special grid workers drawn from couriers and riders (F15), and,
as an option, seasonal workers hired for Longqiao's heating season (model/seasonal_staff.py).

``GridWorker`` is one worker (a Mesa agent); ``GridTeam`` is all of them as arrays with their
day: the winter posts (an option sends workers of the other streets to Longqiao for the heating
season, the peak that allocation alone cannot fix: P3; seasonal workers serve then only) and the
patrols of their grids that find
problems residents stay silent about. Their case hours make the community offices' and the
compounds' capacity (model/staffing.py); the cases they handle are queued there."""

from __future__ import annotations

import mesa
import numpy as np

from model import outreach, staffing, winter_influx
from model.district import split_integer
from model.vocabulary import LONGQIAO, S, U

ROLES = ("committee", "full_time", "welfare_post", "special", "seasonal")
OFFICE_UNITS = (U["compound"], U["community"])  # the queues grid workers serve


class GridWorker(mesa.Agent):
    def __init__(self, model: mesa.Model, community: int, role: str, skill: float,
                 courier: int = -1) -> None:
        super().__init__(model)
        if role not in ROLES:
            raise ValueError(f"unknown grid-worker role '{role}'; allowed: {', '.join(ROLES)}")
        self.community = community  # where the worker serves now
        self.home = community       # where the worker is posted the rest of the year
        self.role = role
        self.skill = skill
        self.courier = courier

    def on_duty(self) -> bool:
        """Whether the worker serves today: a seasonal worker in the heating season only."""
        return self.role != "seasonal" or bool(
            winter_influx.in_heating_season(self.model.day, self.model.p))

    def service_hours_per_day(self) -> float:
        """Hours a day (averaged over the week) for service: what administrative tasks leave
        (none off duty)."""
        p = self.model.p
        if not self.on_duty():
            return 0.0
        admin = p.admin_share_with_list if p.task_admission_list else p.admin_share
        return p.work_hours_per_day * 5 / 7 * (1.0 - admin) * self.skill

    def case_hours_per_day(self) -> float:
        """Hours a day for residents' cases: the share ``case_time_share`` of service time.
        Special grid workers spot problems but do not handle cases."""
        if self.role == "special":
            return 0.0
        return self.service_hours_per_day() * self.model.p.case_time_share

    def patrol_hours_per_day(self) -> float:
        """Hours a day walking the grid: the share ``patrol_share`` of the service time
        that cases leave."""
        if self.role == "special":
            return 0.0
        p = self.model.p
        return self.service_hours_per_day() * (1.0 - p.case_time_share) * p.patrol_share

    @property
    def caseload(self) -> float:
        """Open cases per worker in the worker's community (its office and compounds)."""
        return float(self.model.grid.caseload()[self.community])


class GridTeam:
    """All grid workers: ``community`` (where each serves now), ``home``, ``case_hours`` and
    ``patrol_hours`` per day; ``step`` is their day. ``found`` counts the silent problems
    their patrols have brought to the ladder in the recorded days."""

    def __init__(self, model: mesa.Model, workers: list[GridWorker]) -> None:
        self._model = model
        self.workers = workers
        self.community = np.array([w.community for w in workers], np.int64)
        self.home = self.community.copy()
        self.movable = np.array([w.role == "full_time" for w in workers], bool)
        self.seasonal = np.array([w.role == "seasonal" for w in workers], bool)
        self.case_hours = np.array([w.case_hours_per_day() for w in workers])
        self.patrol_hours = np.array([w.patrol_hours_per_day() for w in workers])
        self.in_winter_posts = False
        self.found = 0
        self._staff_member = np.array([w.role != "special" for w in workers], bool)
        self.headcount_by_street = self._count_by_street()

    def _count_by_street(self) -> np.ndarray:
        """Community staff (special grid workers aside) serving in each street now."""
        d = self._model.district
        serving = self._staff_member & (~self.seasonal | self.in_winter_posts)
        streets = d.community_street[self.community[serving]]
        return np.bincount(streets, minlength=len(d.street_names))

    def __len__(self) -> int:
        return len(self.workers)

    def step(self) -> None:
        self.follow_season()
        self.patrol()

    def staff_hours(self) -> np.ndarray:
        """Case hours per day per community, where the workers serve now."""
        n = self._model.district.n_communities
        return np.bincount(self.community, self.case_hours, minlength=n)

    def caseload(self) -> np.ndarray:
        """Open cases at each community's office and compounds, per worker serving there."""
        m = self._model
        d, units = m.district, m.units
        w = m.cases.open_window()
        open_ = (w.state == S["queued"]) & np.isin(units.type[np.maximum(w.unit, 0)], OFFICE_UNITS)
        comm = units.community[w.unit[open_]]
        cases = np.bincount(comm[comm >= 0], minlength=d.n_communities)
        heads = np.bincount(self.community[self.case_hours > 0], minlength=d.n_communities)
        return cases / np.maximum(heads, 1)

    # --- winter posts ---------------------------------------------------------------------
    def follow_season(self) -> None:
        """At the start of the heating season a share of the other streets' full-time workers
        go to Longqiao's communities (by their winter residents) and the seasonal workers
        start; at its end the first return and the others stop."""
        m = self._model
        if m.p.winter_reassignment_share == 0 and not self.seasonal.any():
            return
        in_season = winter_influx.in_heating_season(m.day, m.p)
        if in_season == self.in_winter_posts:
            return
        self.in_winter_posts = in_season
        self.community = self._winter_posts() if in_season else self.home.copy()
        for worker, comm in zip(self.workers, self.community.tolist(), strict=True):
            worker.community = comm
        for i in np.flatnonzero(self.seasonal):  # their hours follow the season
            self.case_hours[i] = self.workers[i].case_hours_per_day()
            self.patrol_hours[i] = self.workers[i].patrol_hours_per_day()
        self.headcount_by_street = self._count_by_street()
        staffing.set_staff_hours(m.units, m.p, m.district, self.staff_hours())
        m.update_capacity()

    def _winter_posts(self) -> np.ndarray:
        """Where each worker serves in the heating season: the movers, spread evenly over
        the eligible workers (so over their communities), take the Longqiao posts in
        proportion to each community's winter residents."""
        d, p = self._model.district, self._model.p
        eligible = np.flatnonzero(self.movable & (d.community_street[self.home] != LONGQIAO))
        n_moving = round(p.winter_reassignment_share * len(eligible))
        winter = np.bincount(d.community, d.seasonal, minlength=d.n_communities).astype(float)
        winter[d.community_street != LONGQIAO] = 0.0
        community = self.home.copy()
        if winter.sum() == 0 or n_moving == 0:
            return community
        moving = eligible[np.linspace(0, len(eligible) - 1, n_moving).round().astype(np.int64)]
        community[moving] = np.repeat(np.arange(d.n_communities),
                                      split_integer(n_moving, winter))
        return community

    # --- patrols --------------------------------------------------------------------------
    def patrol(self) -> None:
        """Patrols find recent silent problems one can see (a broken pipe, blocked lanes,
        rubbish) with a daily chance that grows with patrol hours per 1,000 present
        residents; each found problem goes to the ladder at the compound tier."""
        m = self._model
        p, d = m.p, m.district
        if p.patrol_find_rate == 0 or p.patrol_share == 0:
            return
        silent = outreach.recent_silent(m, visible=True)
        if len(silent) == 0:
            return
        hours = np.bincount(self.community, self.patrol_hours, minlength=d.n_communities)
        per_1000 = hours / np.maximum(m.present_by_community(), 1) * 1000
        chance = -np.expm1(-p.patrol_find_rate * per_1000)
        found = silent[m.rng.random(len(silent)) < chance[m.cases.community[silent]]]
        if m.day >= 0:  # the warm-up is not recorded
            self.found += len(found)
        outreach.to_grid(m, found)
