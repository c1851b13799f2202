"""GovernanceModel: the Yanzhou urban district, one step a day (day 0 = 1 January)."""

from __future__ import annotations

import os
import secrets
from time import perf_counter
from typing import Any

import mesa
import numpy as np

from agents import Courier, GridWorker, PartyBranch, PropertyFirm
from agents.courier import Couriers
from agents.grid_worker import GridTeam
from agents.party_branch import compound_buildings
from agents.resident import Residents

from . import (
    channel_choice,
    district,
    funding,
    hotline_loop,
    network,
    outreach,
    participation,
    party_organisation,
    property_service,
    satisfaction,
    scenarios,
    seasonal_staff,
    smart_service,
    staffing,
    tiered_ladder,
    winter_influx,
)
from .calendar import is_month_start, next_month_start
from .case_generation import RESIDENT_KINDS, CaseSampler, season_factor
from .cases import NOT_SET, CaseTable
from .collector import RunCollector
from .daily_log import DailyLog
from .memo import ArrayMemo
from .metrics import summarise
from .params import ParameterError, Params, derived
from .vocabulary import CHANNELS, KINDS, STREETS, A, C, S, U, member_table


def _patience_by_age(p: Params) -> np.ndarray:
    """Patience by age group relative to other adults (the young escalate sooner)."""
    return np.array([1.0, p.patience_young, 1.0, p.patience_elderly])


# Channels whose cases start at the compound tier of the ladder.
AT_COMPOUND = member_table((C["building_head"], C["grid_worker"], C["compound_branch"]),
                           len(CHANNELS))


class _ResidentArray:
    """A model attribute that is the same-named array of ``model.residents``: the processes
    read and replace ``model.satisfaction`` and the like; the residents own them."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, model: GovernanceModel | None, owner: type) -> Any:
        return self if model is None else getattr(model.residents, self.name)

    def __set__(self, model: GovernanceModel, value: np.ndarray) -> None:
        setattr(model.residents, self.name, value)


BASELINE = "baseline"  # the calibrated 2021 scenario, where a model starts by default
DEFAULTS = "defaults"  # asks for the schema's defaults (uncalibrated rates) instead of a file
CUSTOM = "custom"      # the scenario label of a model built from a Params


class GovernanceModel(mesa.Model):
    """Residents, property firms, grid workers and party branches governing disputes and
    demands in the urban district.

    ``GovernanceModel()`` is the calibrated 2021 baseline, seed 1;
    ``GovernanceModel(scenario="staffing_18", seed=3, scale=0.1, days=90)`` starts from a
    scenario and changes any schema parameter by keyword (``python run.py params`` lists them).

    Parameters
    ----------
    params: a complete, validated parameter set to start from instead of a scenario.
    seed: the run's seed; all randomness comes from ``self.rng``. ``None`` draws a fresh one
        (as ``mesa.batch_run`` asks with ``iterations``), kept in ``self.seed``.
    scenario: a scenario name (``model/scenario_files/``) or the path of a scenario TOML file;
        ``"defaults"`` for the schema defaults, without the calibrated rates.
    **overrides: schema parameters changing the starting set, e.g. ``staffing_per_10k=18``;
        an unknown name or a bad value raises ParameterError.

    The model stops (``running`` becomes False) when its ``days`` are simulated; then
    ``summary`` holds the run's measures (model.metrics.summarise).
    """

    def __init__(self, params: Params | None = None, seed: int | None = 1, *,
                 scenario: str | os.PathLike[str] = BASELINE, **overrides: Any) -> None:
        p, scenario_name = _start_params(params, scenario, overrides)
        seed = checked_seed(seed)
        super().__init__(rng=seed)
        t0 = perf_counter()
        self.p, self.seed, self.scenario_name = p, seed, scenario_name
        self.summary: dict[str, Any] | None = None
        self.day = -p.warmup_days
        self.district = d = district.generate(p, self.rng)
        self._memos = _resident_memos()
        if p.five_level_coverage:
            d.building_has_head[:] = True
            d.compound_has_branch[:] = True
        self.adj = network.build(d, p, self.rng)
        self.W = network.influence_matrix(self.adj)
        network.attach(self)  # state of the network mechanisms (disputes on ties, word of mouth)
        self._create_residents()
        self._presence_set_for = (None, None)  # (array, in season) of the last update
        winter_influx.update_presence(self)

        self.activity_factor = funding.activity_factor(p, d.community_pop)
        self.activity_bonus = funding.activity_bonus(p, d.community_pop)
        self.professional_hours = funding.professional_hours(p, d.n_communities)
        self.professional_boost = funding.professional_boost(p, self.professional_hours)

        self._create_staff()
        self.units = staffing.build_units(p, d, self.staff_hours)
        self._create_firms()
        self._create_branches()
        self._create_couriers()
        self.grid = GridTeam(self, list(self.agents_by_type.get(GridWorker, ())))
        self.root_factor = np.ones((d.n_compounds, len(KINDS)))
        self.last_treated = np.full((d.n_compounds, len(KINDS)), np.iinfo(np.int32).min // 2)
        self.accountability = np.ones(len(self.units))
        self.visits = np.zeros(len(self.units), np.int64)
        self.visits_satisfied = np.zeros(len(self.units), np.int64)
        self.hours_used = np.zeros(len(self.units))
        self.treatment_hours = np.zeros(d.n_communities)
        self.cases = CaseTable()
        self.silent = outreach.SilentProblems()
        self.living_target = satisfaction.living_target(self)
        # residents start where their living conditions alone would settle them
        noise = self.rng.normal(0, p.satisfaction_noise, d.n_residents)
        self.satisfaction = np.clip(self.living_target + noise, 0, 1)
        self.experience = self.satisfaction.copy()
        participation.monthly(self)
        self.living_target = satisfaction.living_target(self)  # now with the first volunteers
        self.grid.follow_season()  # in their winter posts if the run starts in the season
        self.update_capacity()
        self.sampler = CaseSampler(self)
        self.daily = DailyLog(len(STREETS))
        self.datacollector = RunCollector(model_reporters=_REPORTERS)
        self.warm_up()
        self._schedule_month_start(0 if p.warmup_days else 1)
        self.build_seconds = perf_counter() - t0
        self.run_seconds = 0.0

    # --- the residents' arrays, owned by model.residents (read and replaced by name) -----
    present = _ResidentArray()
    satisfaction = _ResidentArray()
    experience = _ResidentArray()
    volunteer = _ResidentArray()

    # --- set-up -----------------------------------------------------------------------------
    def _create_residents(self) -> None:
        self.residents = Residents(self, self.district.n_residents)

    def _create_staff(self) -> None:
        """Grid workers per community, and the case hours they give per day."""
        p, d = self.p, self.district
        load = staffing.expected_load(self) if staffing.needs_load(p) else None
        staff, posts = staffing.staff_counts(p, d, load)
        for comm, (s, w) in enumerate(zip(staff.tolist(), posts.tolist(), strict=True)):
            committee = min(p.committee_per_community, s - w)
            for role, count, skill in (("committee", committee, 1.0),
                                       ("welfare_post", w, p.welfare_post_skill),
                                       ("full_time", s - w - committee, 1.0)):
                for _ in range(count):
                    GridWorker(self, comm, role, skill)
        self._hire_seasonal_staff()
        workers = self.agents_by_type.get(GridWorker)
        self.staff = staff
        self.staff_hours = np.zeros(d.n_communities)
        if workers is not None:
            for w in workers:
                self.staff_hours[w.community] += w.case_hours_per_day()

    def _hire_seasonal_staff(self) -> None:
        """Longqiao's seasonal workers (an option, none by default): on duty in the heating
        season only (model/seasonal_staff.py)."""
        p = self.p
        for comm, n in enumerate(seasonal_staff.counts(p, self.district).tolist()):
            for _ in range(n):
                GridWorker(self, comm, "seasonal", p.seasonal_staff_skill)

    def _create_firms(self) -> None:
        """One agent per firm; owners' committees are rare (red property builds them)."""
        d, p = self.district, self.p
        committee = self.rng.random(len(d.firm_quality)) < p.owners_committee_share
        for f in range(len(d.firm_quality)):
            PropertyFirm(self, f, self.units.of("firm", f),
                         np.flatnonzero(d.compound_firm == f).tolist(),
                         owners_committee=bool(committee[f] or p.red_property))
        self.firms = self.agents_by_type[PropertyFirm]

    def _create_branches(self) -> None:
        """The party organisation where it exists (building groups: buildings with a head),
        and what the branches read: the buildings of each compound, the party members of each
        building and the members' ties into it."""
        d = self.district
        levels = (("street_committee", d.street, np.ones(len(STREETS), bool)),
                  ("community_committee", d.community, np.ones(d.n_communities, bool)),
                  ("compound_branch", d.compound, d.compound_has_branch),
                  ("building_group", d.building, d.building_has_head))
        in_unit = np.bincount(d.community, d.in_unit & ~d.seasonal, d.n_communities).astype(int)
        for level, where, exists in levels:
            members = np.bincount(where, d.party, minlength=len(exists)).astype(int)
            for place in np.flatnonzero(exists).tolist():
                PartyBranch(self, level, place, int(members[place]),
                            int(in_unit[place]) if level == "community_committee" else 0)
        self.branches = self.agents_by_type[PartyBranch]
        self.building_members = np.bincount(d.building, d.party, len(d.building_compound))
        self.compound_buildings = compound_buildings(d.building_compound, d.n_compounds)
        self.member_ties = party_organisation.member_ties_by_building(self)
        self.member_hours = np.array([party_organisation.double_report_hours(self, int(m))
                                      for m in in_unit])

    def party_hours(self) -> np.ndarray:
        """Hours a day compound branches and building groups give to each compound."""
        d = self.district
        hours = np.zeros(d.n_compounds)
        for branch in self.branches:
            if branch.level == "compound_branch":
                hours[branch.place] += branch.mediation_hours_per_day()
            elif branch.level == "building_group":
                hours[d.building_compound[branch.place]] += branch.mediation_hours_per_day()
        return hours

    def _create_couriers(self) -> None:
        p, d, rng = self.p, self.district, self.rng
        n_c, n_r = round(p.couriers * p.scale), round(p.riders * p.scale)
        n = n_c + n_r
        shares = np.array([p.courier_hard_to_enter, p.courier_hard_to_park, p.courier_no_toilet])
        if p.courier_rest_points:
            shares = shares * np.array([p.rest_point_remaining_enter, p.rest_point_remaining_park,
                                        p.rest_point_remaining_toilet])
        problems = rng.random((n, 3)) < shares                    # F16
        local, aged, school = (rng.random((3, n)) < np.array([[p.courier_local_share], [p.courier_aged_share],
                                                         [p.courier_school_share]]))  # F15
        special = np.zeros(n, bool)
        if p.special_grid_workers:
            # locals who know the compounds and have schooling enrol most (F15; assumption)
            weight = local * (1.0 + school)
            chance = p.special_enrolment_share * weight / max(weight.mean(), 1e-9)
            special = rng.random(n) < np.minimum(chance, 1.0)
        self.couriers = Couriers(self, problems, special)
        for i in range(n):
            Courier(self, i, "courier" if i < n_c else "rider", bool(local[i]),
                    bool(aged[i]), bool(school[i]), tuple(problems[i].tolist()))
            if special[i]:
                GridWorker(self, int(rng.integers(d.n_communities)), "special", 0.0, courier=i)

    def warm_up(self) -> None:
        """Simulate the ``warmup_days`` before 1 January unrecorded, so the year starts with
        queues, reputations and satisfaction already in motion. Warm-up cases stay in the
        table (``opened < 0``): the monthly look-backs need them; metrics leave them out.

        Mesa's clock starts on 1 January (``time`` 0), so the warm-up's month starts (which
        cannot be events before time 0) are run here; the year's are Mesa events."""
        first = self.day
        while self.day < 0:
            if self.day != first and is_month_start(self.day):
                self.month_start()
            self.simulate_day()
            self.day += 1

    # --- the day --------------------------------------------------------------------------
    def step(self) -> None:
        """One recorded day (Mesa runs it at ``time`` = day + 1)."""
        t0 = perf_counter()
        self.daily.begin(self.day)
        self.simulate_day()
        self.record_day()
        self.day += 1
        self.run_seconds += perf_counter() - t0
        if self.day == self.p.days:
            self._finish()

    def _finish(self) -> None:
        """The configured days are done: stop, as Mesa's ``running`` says, and keep the run's
        summary where users (``summary``) and ``mesa.batch_run`` (the data collector) read it."""
        self.running = False
        self.summary = summarise(self, self.scenario_name)
        self.datacollector.record_summary(self.summary)

    def simulate_day(self) -> None:
        """One day: the agents act in turn."""
        self.cases.advance_first_open()  # the scans for open cases start there
        self.residents.step()      # who is here; new disputes and demands; channels chosen
        self.couriers.step()       # access complaints; special grid workers' reports
        self.grid.step()           # grid workers: winter posts, patrols of their grids
        tiered_ladder.handle(self)          # every unit works its queue; failures escalate
        hotline_loop.check_deadlines(self)  # the 12345 loop: push and supervise late tickets
        hotline_loop.visit(self)            # ... and call residents back
        self.residents.judge()     # raisers judge the cases closed today
        self.residents.listen()    # opinions drift and spread over the neighbour network

    def month_start(self) -> None:
        """The first morning of a month: the district evaluates its units, firms and party
        organisations do their monthly work, residents volunteer, and capacity and living
        conditions are brought up to date."""
        quality = self.district.firm_quality.copy()
        hotline_loop.evaluate(self)         # the loop's 'evaluate' step
        self.firms.do("step")               # fees, service, evaluation, dismissal
        treated = smart_service.monthly(self)
        self.branches.do("step")            # committees and branches
        self.residents.volunteer_for_month()
        self.update_capacity()
        self.living_target = satisfaction.living_target(self)
        # case hazards follow root treatment and the firms' service
        changed = set(treated) | ({"property"} if not np.array_equal(
            quality, self.district.firm_quality) else set())
        if changed & set(RESIDENT_KINDS):
            self.sampler.refresh(self, tuple(k for k in RESIDENT_KINDS if k in changed))

    def _schedule_month_start(self, after_day: int) -> None:
        """Schedule the first month start on or after ``after_day`` as a Mesa event on the
        night before it: day d's step runs at Mesa ``time`` d + 1, so the event is at d + 0.5,
        after the last step of the old month and before the first of the new."""
        start = next_month_start(after_day)
        self.schedule_event(self._month_start_event, at=start + 0.5)

    def _month_start_event(self) -> None:
        self.month_start()
        self._schedule_month_start(self.day + 1)

    def run(self, days: int | None = None, progress: bool = False) -> None:
        """Simulate ``days`` recorded days (the configured ``days`` when not given)."""
        from tqdm import tqdm

        days = self.p.days if days is None else days
        for _ in tqdm(range(days), desc="simulating days", unit="day", disable=not progress):
            self.step()

    def release(self) -> None:
        """Drop everything the model holds (agents, arrays, registries) now. Agents and the
        model refer to each other, so a finished model is otherwise freed only by Python's
        next full garbage collection, which comes rarely: a worker running many full-scale
        runs held several dead models (~3 GB). The model is unusable afterwards."""
        self.__dict__.clear()

    def new_resident_cases(self) -> None:
        """Residents' new disputes and demands, and where they take them."""
        d, rng = self.district, self.rng
        who, kinds = self.sampler.draw(self)
        idx = self.cases.add(
            len(who), resident=who, kind=kinds, channel=channel_choice.choose(self, who, kinds),
            compound=d.compound[who], community=d.community[who], street=d.street[who],
            opened=self.day, raised=self.day, patience=rng.exponential(self.p.patience_days, len(who))
            * derived(self.p, "patience_by_age", _patience_by_age)[d.age[who]])
        self.route(idx)

    def route(self, idx: np.ndarray) -> None:
        """Send new cases to their first unit by the channel chosen."""
        c = self.cases
        ch = c.channel[idx]
        silent = idx[ch == C["silence"]]
        c.state[silent] = S["silent"]
        c.closed[silent] = self.day
        self.silent.add(silent)
        satisfaction.record_silent(self, c.resident[silent][c.resident[silent] >= 0])
        compound_level = AT_COMPOUND[ch]
        tiered_ladder.place(self, idx[compound_level], 0)
        tiered_ladder.place(self, idx[ch == C["community"]], 1)
        hotline_loop.receive(self, idx[ch == C["hotline"]])
        self.daily.add_new(self.day, c, idx)

    # --- shared helpers ---------------------------------------------------------------------
    def season_factor(self) -> np.ndarray:
        return season_factor(self.p, winter_influx.in_heating_season(self.day, self.p))

    def update_capacity(self) -> None:
        """Units' hours per day: staff, plus party members, volunteers, in-unit members and
        bought professional services, minus time spent on root treatment."""
        d, first = self.district, self.units.first
        cap = self.units.base_hours.copy()
        cap[: d.n_compounds] += self.party_hours() + self.volunteer_hours
        comm = slice(first["community"], first["community"] + d.n_communities)
        cap[comm] += self.member_hours + self.professional_hours - self.treatment_hours
        self.capacity = np.maximum(cap, 0.0)

    def case_satisfaction(self, idx: np.ndarray) -> np.ndarray:
        """Each case's score if judged today (expectancy-disconfirmation). The delay felt runs
        to the day the case was last handled (a follow-up visit adds none), or to today."""
        c = self.cases
        res = c.resident[idx]
        expectation = np.where(res >= 0, self.district.expectation[np.maximum(res, 0)],
                               self.p.courier_expectation)
        until = np.where(c.handled[idx] != NOT_SET, c.handled[idx], self.day)
        return satisfaction.case_score(self.p, c.resolved[idx], until - c.raised[idx],
                                       expectation)

    def close(self, idx: np.ndarray, gave_up: bool | np.ndarray = False) -> None:
        """Close cases (resolved or not; ``gave_up``: because the resident gave up). Their
        raisers judge them at the end of the day (``residents.judge``), the day's closed cases
        all at once and in the order closed."""
        if len(idx) == 0:
            return
        c = self.cases
        c.state[idx] = np.where(c.resolved[idx], S["closed_resolved"], S["closed_unresolved"])
        c.closed[idx] = self.day
        c.gave_up[idx] = gave_up
        self.residents.closed_today.append(idx)

    # --- measurement ------------------------------------------------------------------------
    # Totals over all residents, recomputed only when their arrays are replaced (model.memo).
    def present_adults(self) -> np.ndarray:
        """Mask of present adults (shared: do not write into it)."""
        return self._memos["present_adults"](self)

    def mean_satisfaction(self) -> float:
        return self._memos["mean_satisfaction"](self)

    def present_by_street(self) -> np.ndarray:
        return self._memos["present_by_street"](self)

    def present_by_community(self) -> np.ndarray:
        return self._memos["present_by_community"](self)

    def compound_satisfaction(self) -> np.ndarray:
        """Mean satisfaction of each compound's present adults (what its owners think)."""
        return self._memos["compound_satisfaction"](self)

    def n_volunteers(self) -> int:
        return self._memos["n_volunteers"](self)

    def resident_rows_written(self) -> None:
        """Call after writing into rows of the resident arrays in place."""
        for memo in self._memos.values():
            memo.forget()

    def backlog(self) -> int:
        st = self.cases.open_window().state
        return int(np.count_nonzero((st == S["queued"]) | (st == S["awaiting_visit"])))

    def utilisation(self) -> float:
        """Hours used over hours available in the community offices today."""
        staff_units = self.units.type == U["community"]
        cap = self.capacity[staff_units].sum()
        return float(self.hours_used[staff_units].sum() / cap) if cap > 0 else 0.0

    def record_day(self) -> None:
        self.n_present = self._memos["n_present"](self)
        self.daily.close_day(self)
        self.datacollector.collect(self)
        if is_month_start(self.day + 1) or self.day + 1 == self.p.days:
            self.daily.month_snapshot(self)


def run_model(seed: int | None = 1, scenario: str | os.PathLike[str] = BASELINE,
              **params: Any) -> dict[str, Any]:
    """Build the model (as ``GovernanceModel(seed=seed, scenario=scenario, **params)``), run
    its days and return its summary (the content of summary.json)."""
    return _run_and_free(GovernanceModel(seed=seed, scenario=scenario, **params))


def run_summary(params: Params, seed: int | None) -> dict[str, Any]:
    """Run ``params`` with ``seed``; the summary (as ``run_model`` for a Params)."""
    return _run_and_free(GovernanceModel(params, seed=seed))


def _run_and_free(model: GovernanceModel) -> dict[str, Any]:
    """Run ``model``'s days; its summary. The model is freed at once: a process that runs
    many (calibration, validation) would otherwise hold every finished one until Python's
    next full garbage collection — gigabytes within minutes at scale 0.25."""
    model.run()
    summary = model.summary
    model.release()
    return summary


def _start_params(params: Params | None, scenario: str | os.PathLike[str],
                  overrides: dict[str, Any]) -> tuple[Params, str]:
    """The model's parameters and its scenario label: ``params`` or the scenario's, with
    ``overrides`` applied (each key and value checked by the schema)."""
    if params is not None:
        if not isinstance(params, Params):
            raise TypeError(f"params must be a Params, not {type(params).__name__}; give "
                            "parameters by keyword instead (GovernanceModel(scale=0.1))")
        if scenario != BASELINE:
            raise TypeError("give params or scenario, not both")
        start, name = params, CUSTOM
    elif not isinstance(scenario, str | os.PathLike):
        raise TypeError(f"scenario must be a scenario name or the path of a .toml file "
                        f"('{DEFAULTS}' for the schema defaults), not {scenario!r}")
    elif scenario == DEFAULTS:
        start, name = Params(), DEFAULTS
    else:
        loaded = scenarios.load(os.fspath(scenario))
        start, name = loaded.params, loaded.name
    return (start.with_updates(**overrides) if overrides else start), name


def checked_seed(seed: int | None) -> int:
    """``seed`` as a Python int (numpy integers too), or a fresh one for None; anything else
    raises ParameterError saying what is allowed (the dashboard checks its seed box with it)."""
    if seed is None:
        return secrets.randbits(32)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(f"seed {seed!r} is not allowed; allowed: a whole number >= 0, "
                             "or None for a fresh one")
    return int(seed)


def _resident_memos() -> dict[str, ArrayMemo]:
    return {
        "present_adults": ArrayMemo(lambda m: m.present & (m.district.age > A["child"]), "present"),
        "mean_satisfaction": ArrayMemo(
            lambda m: float(m.satisfaction[m.present_adults()].mean()), "satisfaction", "present"),
        "present_by_street": ArrayMemo(
            lambda m: np.bincount(m.district.street, m.present, minlength=len(STREETS)), "present"),
        "present_by_community": ArrayMemo(
            lambda m: np.bincount(m.district.community, m.present,
                                  minlength=m.district.n_communities), "present"),
        "n_present": ArrayMemo(lambda m: int(m.present.sum()), "present"),
        "n_volunteers": ArrayMemo(lambda m: int(m.volunteer.sum()), "volunteer"),
        "compound_satisfaction": ArrayMemo(property_service.compound_satisfaction,
                                           "satisfaction", "present"),
    }


def _reporter(key: str):
    return lambda m: m.daily.today[key]


_REPORTERS = {key: _reporter(key) for key in (
    "day", "month", "present", "new_cases", "new_disputes", "disputes_per_1000_per_day",
    "hotline_tickets", "backlog", "mean_satisfaction", "utilisation", "volunteers",
    "longqiao_present")}
