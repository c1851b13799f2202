"""The daily processes, each on its own where possible: presence, case generation, channel
choice, queues, the hotline loop, satisfaction and staffing."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import GovernanceModel, Params, channel_choice, staffing, winter_influx
from model.case_generation import RK, rates_per_year
from model.cases import NOT_SET, CaseTable
from model.params import ParameterError
from model.queues import serve_queues
from model.satisfaction import case_score
from model.vocabulary import LONGQIAO, STREETS, A, C, K, S

# --- winter presence (F11, F18) ---------------------------------------------------------------


def test_heating_season_days():
    p = Params()
    inside = [0, 10, 73, 318, 330, 364, 365 + 10]
    outside = [74, 120, 180, 317, 365 + 180]
    assert all(winter_influx.in_heating_season(t, p) for t in inside)
    assert not any(winter_influx.in_heating_season(t, p) for t in outside)


def test_seasonal_residents_present_only_in_heating_season(fresh_model):
    d, p = fresh_model.district, fresh_model.p
    assert d.seasonal.sum() == round(15_000 * 0.05)
    for day in (10, 330):
        assert winter_influx.presence(d.seasonal, day, p).all()
    summer = winter_influx.presence(d.seasonal, 180, p)
    np.testing.assert_array_equal(summer, ~d.seasonal)
    # update_presence reports changes only
    m = fresh_model
    assert m.present.all()  # built on day 0, in season
    m.day = 180
    assert winter_influx.update_presence(m) is True
    np.testing.assert_array_equal(m.present, ~d.seasonal)
    assert winter_influx.update_presence(m) is False


def test_presence_over_a_year(year_run):
    m, _ = year_run
    ts = m.datacollector.get_model_vars_dataframe()
    base = int((~m.district.seasonal).sum())
    seasonal = int(m.district.seasonal.sum())
    season = np.array([winter_influx.in_heating_season(t, m.p) for t in ts["day"]])
    np.testing.assert_array_equal(ts["present"], base + seasonal * season)
    lq_base = int(np.count_nonzero((m.district.street == LONGQIAO) & ~m.district.seasonal))
    np.testing.assert_array_equal(ts["longqiao_present"], lq_base + seasonal * season)


def test_seasonal_residents_raise_cases_only_in_season(year_run):
    m, _ = year_run
    c = m.cases
    mine = c.resident >= 0
    seasonal_case = np.zeros(len(c), bool)
    seasonal_case[mine] = m.district.seasonal[c.resident[mine]]
    assert seasonal_case.any()
    assert all(winter_influx.in_heating_season(int(t), m.p) for t in np.unique(c.opened[seasonal_case]))


def test_heating_cases_only_in_heating_season(year_run):
    m, _ = year_run
    c = m.cases
    days = np.unique(c.opened[c.kind == K["heating"]])
    assert len(days) > 0
    assert all(winter_influx.in_heating_season(int(t), m.p) for t in days)


# --- case generation ------------------------------------------------------------------------


def _draw_many(m: GovernanceModel, n_days: int) -> tuple[np.ndarray, np.ndarray]:
    who, kinds = zip(*(m.sampler.draw(m) for _ in range(n_days)), strict=True)
    return np.concatenate(who), np.concatenate(kinds)


@pytest.mark.parametrize("day", [0, 180], ids=["winter", "summer"])
def test_case_sampler_mean_counts_match_rates(fresh_model, day):
    m = fresh_model
    m.day = day
    winter_influx.update_presence(m)
    m.sampler.refresh(m)
    rates = rates_per_year(m)                       # per resident per year, by resident kind
    per_day = rates.sum(axis=1) * m.season_factor()[RK] / 365.0
    n_days = 400
    who, kinds = _draw_many(m, n_days)
    for row, kind in enumerate(RK):
        expected = per_day[row] * n_days
        got = np.count_nonzero(kinds == kind)
        assert abs(got - expected) <= 5 * np.sqrt(expected) + 1, (kind, got, expected)
    expected = per_day.sum() * n_days
    assert expected > 1000  # enough draws for the check to mean something
    assert abs(len(who) - expected) <= 5 * np.sqrt(expected)
    # who raises them: only present adults with a positive hazard, in proportion to it
    assert m.present[who].all()
    assert np.all(m.district.age[who] > A["child"])
    if day == 180:
        assert not np.any(kinds == K["heating"])
        assert not m.district.seasonal[who].any()
    hazard = rates.sum(axis=0)
    street = m.district.street
    for s in range(len(STREETS)):
        share = hazard[street == s].sum() / hazard.sum()
        got = np.count_nonzero(street[who] == s)
        sd = np.sqrt(len(who) * share * (1 - share))
        assert abs(got - len(who) * share) <= 5 * sd + 1, STREETS[s]


def test_case_rate_scale_multiplies_all_rates():
    # no warm-up: in it, firms' service (and so the property rate) follows the cases
    a = GovernanceModel(Params(scale=0.05, days=5, warmup_days=0), seed=2)
    b = GovernanceModel(Params(scale=0.05, days=5, warmup_days=0, case_rate_scale=2.5), seed=2)
    np.testing.assert_allclose(b.sampler.total, 2.5 * a.sampler.total)


# --- channel choice -------------------------------------------------------------------------


def _random_cases(m: GovernanceModel, residents: np.ndarray, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    who = rng.choice(residents, n)
    kinds = rng.choice(RK, n)
    return who, kinds


def test_channel_choice_never_picks_unavailable_channel(fresh_model, rng):
    m = fresh_model
    d = m.district
    adults = d.age > A["child"]
    head = d.building_has_head[d.building]
    branch = d.compound_has_branch[d.compound]
    assert head.any() and (~head).any() and branch.any() and (~branch).any()
    who, kinds = _random_cases(m, np.flatnonzero(adults & ~head), 20_000, rng)
    ch = channel_choice.choose(m, who, kinds)
    assert not np.any(ch == C["building_head"])
    who, kinds = _random_cases(m, np.flatnonzero(adults & ~branch), 20_000, rng)
    ch = channel_choice.choose(m, who, kinds)
    assert not np.any(ch == C["compound_branch"])
    # where the channels exist they are used
    who, kinds = _random_cases(m, np.flatnonzero(adults & head & branch), 20_000, rng)
    ch = channel_choice.choose(m, who, kinds)
    assert np.any(ch == C["building_head"]) and np.any(ch == C["compound_branch"])
    assert set(np.unique(ch)) <= {C[x] for x in channel_choice.RESIDENT_CHANNELS}
    # couriers only call the hotline, tell a grid worker, or keep silent
    couriers = np.arange(len(m.couriers)).repeat(50)
    cc = channel_choice.choose_courier(m, couriers)
    assert set(np.unique(cc)) == {C["silence"], C["grid_worker"], C["hotline"]}


def test_channels_in_a_run_respect_availability():
    # building heads fixed for the run: the end state tells where heads were all along
    m = GovernanceModel(Params(scale=0.05, days=120, head_turnover=0.0,
                               head_recruitment_rate=0.0), seed=3)
    m.run()
    c, d = m.cases, m.district
    res = c.resident >= 0
    r = c.resident[res]
    ch = c.channel[res]
    assert np.all(d.building_has_head[d.building[r[ch == C["building_head"]]]])
    assert np.all(d.compound_has_branch[d.compound[r[ch == C["compound_branch"]]]])
    assert set(np.unique(c.channel[~res])) <= {C["silence"], C["grid_worker"], C["hotline"]}
    assert not np.any(c.channel == C["probe"])  # no probes without policies 6 and 7


def test_no_building_heads_means_no_building_head_channel():
    m = GovernanceModel(Params(scale=0.05, days=30, building_head_coverage=0.0), seed=4)
    m.run()
    assert not m.district.building_has_head.any()
    assert len(m.cases) > 0 and not np.any(m.cases.channel == C["building_head"])


# --- queues -----------------------------------------------------------------------------------


def _queue_model(m: GovernanceModel, capacity: float) -> int:
    """Empty the model's case table and give one community unit ``capacity`` hours."""
    m.cases = CaseTable()
    m.capacity = np.zeros(len(m.units))
    u = m.units.first["community"]
    m.capacity[u] = capacity
    m.day = 10
    return u


def test_serve_queues_priority_then_fifo_within_capacity(fresh_model):
    m = fresh_model
    u = _queue_model(m, 5.0)
    other = u + 1
    m.capacity[other] = 3.0
    c = m.cases
    c.add(6, state=S["queued"], unit=u, level=1, kind=K["neighbour"], opened=1, entered=1,
          ready=1, priority=np.array([0, 0, 1, 0, 2, 0]), work_left=2.0)
    c.add(1, state=S["queued"], unit=u, level=1, kind=K["neighbour"], opened=1, entered=1,
          ready=11, priority=3, work_left=1.0)                     # not ready until tomorrow
    c.add(2, state=S["queued"], unit=other, level=1, kind=K["neighbour"], opened=2, entered=2,
          ready=2, priority=0, work_left=np.array([2.0, 2.0]))
    c.add(1, state=S["awaiting_visit"], unit=u, level=3, kind=K["other"], opened=1,
          entered=1, ready=1, priority=3, work_left=1.0)           # not in a queue
    done = serve_queues(m)
    # unit u: priority 2 (case 4), priority 1 (case 2), then case 0 gets the last hour
    assert set(done.tolist()) == {4, 2, 7}
    np.testing.assert_allclose(c.work_left[:6], [1.0, 2.0, 0.0, 2.0, 0.0, 2.0])
    assert c.work_left[6] == 1.0 and c.work_left[9] == 1.0
    np.testing.assert_allclose(c.work_left[7:9], [0.0, 1.0])
    assert m.hours_used[u] == pytest.approx(5.0)
    assert m.hours_used[other] == pytest.approx(3.0)
    assert np.all(m.hours_used <= m.capacity + 1e-9)
    assert np.count_nonzero(m.hours_used) == 2


def test_serve_queues_zero_capacity_serves_nothing(fresh_model):
    m = fresh_model
    u = _queue_model(m, 0.0)
    m.cases.add(3, state=S["queued"], unit=u, level=1, kind=K["family"], opened=1, entered=1,
                ready=1, work_left=1.0)
    assert len(serve_queues(m)) == 0
    assert np.all(m.cases.work_left == 1.0) and m.hours_used.sum() == 0


def test_serve_queues_fifo_by_arrival_at_the_unit(fresh_model):
    """First come, first served means first *at this unit*: a case that escalated here today
    must not overtake one that has been waiting here for days at the same priority, even if
    the escalated case was opened (and numbered) earlier."""
    m = fresh_model
    u = _queue_model(m, 2.0)  # hours for one case
    c = m.cases
    c.add(1, state=S["queued"], unit=u, level=1, kind=K["neighbour"], opened=1, entered=10,
          ready=10, work_left=2.0)   # opened day 1 at the compound, escalated here today
    c.add(1, state=S["queued"], unit=u, level=1, kind=K["neighbour"], opened=3, entered=3,
          ready=3, work_left=2.0)    # waiting here since day 3
    done = serve_queues(m)
    assert done.tolist() == [1]


def test_unit_hours_never_exceed_capacity_over_a_run():
    # effort raised so that queues build up and capacity binds
    m = GovernanceModel(Params(scale=0.05, days=75, effort_scale=4.0), seed=5)
    binding = 0
    for _ in range(m.p.days):
        m.step()
        assert np.all(m.hours_used >= 0)
        assert np.all(m.hours_used <= m.capacity + 1e-6), m.day
        binding += np.count_nonzero(np.isclose(m.hours_used, m.capacity) & (m.capacity > 0))
    assert binding > 0  # the invariant was actually tested under load
    assert m.backlog() > 0


# --- the hotline's closed loop (policy 8) ------------------------------------------------------


def test_closed_loop_visits_and_supervises(year_run):
    m, s = year_run
    c, p = m.cases, m.p
    assert p.closed_loop
    tickets = c.tickets > 0
    assert tickets.sum() > 100
    assert np.any(c.supervised > 0)
    assert s["supervised_share"] > 0
    visited = c.visit_day >= 0
    assert visited.any()
    assert np.all(tickets[visited])  # only tickets are visited
    # the visit comes visit_after_days after the (last) handling
    np.testing.assert_array_equal(c.visit_day[visited], c.handled[visited] + p.visit_after_days)
    # closed tickets were closed on their visit day, after it was handled
    closed = tickets & np.isin(c.state, (S["closed_resolved"], S["closed_unresolved"]))
    assert closed.any()
    np.testing.assert_array_equal(c.closed[closed], c.visit_day[closed])
    # supervision rounds are bounded; discipline follows only after all rounds
    assert c.supervised.max() <= p.supervision_rounds
    assert np.all(c.supervised[c.discipline] == p.supervision_rounds)
    assert np.all(c.max_level[c.supervised > 0] == 3)
    # overdue tickets are pushed to the front
    assert np.all(c.priority[c.overdue & (c.state == S["queued"])] == 2)


def test_open_loop_never_visits_or_supervises():
    m = GovernanceModel(Params(scale=0.05, days=120, closed_loop=False), seed=6)
    for _ in range(m.p.days):
        m.step()
        assert m.cases.count_states()["awaiting_visit"] == 0, m.day
    c = m.cases
    assert np.count_nonzero(c.tickets) > 100
    assert not np.any(c.supervised)
    assert np.all(c.visit_day == NOT_SET)
    assert not np.any(c.discipline)
    assert c.priority.max() <= 1
    assert np.any(c.tickets > 1)       # unresolved callers call again
    assert c.tickets.max() <= 3        # ... up to MAX_TICKETS
    assert np.all(m.accountability == 1.0)  # nothing evaluated


# --- satisfaction -----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(e=st.floats(0, 1), d1=st.floats(0, 300), extra=st.floats(0.01, 300),
       b0=st.floats(-1, 1), b1=st.floats(0, 2), b2=st.floats(0, 2), tol=st.floats(0.1, 365))
def test_case_score_is_monotone(e, d1, extra, b0, b1, b2, tol):
    p = Params(sat_b0=b0, sat_b1=b1, sat_b2=b2, delay_tolerance_days=tol)
    d2 = d1 + extra
    resolved = case_score(p, np.array([True, True]), np.array([d1, d2]), np.array([e, e]))
    unresolved = case_score(p, np.array([False, False]), np.array([d1, d2]), np.array([e, e]))
    assert resolved[0] >= resolved[1]                       # shorter delay, no worse
    assert np.all(resolved >= unresolved)                   # resolved, no worse
    assert unresolved[0] == unresolved[1]                   # delay does not matter unresolved
    assert np.all((resolved >= 0) & (resolved <= 1) & (unresolved >= 0) & (unresolved <= 1))


def test_case_score_strict_at_defaults():
    p = Params()
    e = np.full(3, 0.6)
    res = case_score(p, np.array([True, True, True]), np.array([0.0, 5.0, 30.0]), e)
    assert res[0] > res[1] > res[2]
    unres = case_score(p, np.zeros(3, bool), np.array([0.0, 5.0, 30.0]), e)
    assert np.all(res > unres)
    # higher expectation, lower score (disconfirmation)
    hi = case_score(p, np.array([True]), np.array([5.0]), np.array([0.9]))
    lo = case_score(p, np.array([True]), np.array([5.0]), np.array([0.3]))
    assert lo[0] > hi[0]


def test_closed_cases_are_scored(year_run):
    m, _ = year_run
    c = m.cases
    closed = np.isin(c.state, (S["closed_resolved"], S["closed_unresolved"]))
    assert np.all(np.isfinite(c.satisfaction[closed]))
    assert np.all(np.isnan(c.satisfaction[~closed]))
    assert c.satisfaction[c.state == S["closed_resolved"]].mean() > \
        c.satisfaction[c.state == S["closed_unresolved"]].mean()


# --- staffing (F5, F9) ------------------------------------------------------------------------


@pytest.mark.parametrize("pops", [[4000, 9000, 16000], [5000] * 4, [12000, 4100, 7000, 15000, 6000]])
@pytest.mark.parametrize("total", [21, 60, 157, 598])
def test_allocate_uniform(pops, total):
    pops = np.array(pops)
    n = len(pops)
    staff = staffing.allocate(total, np.ones(n), 7)
    assert staff.sum() == total
    core = min(7, total // n)
    assert np.all(staff >= core)
    assert staff.max() - staff.min() <= 1  # committee plus equal shares, whatever the size
    np.testing.assert_array_equal(staff - core, staffing.split_integer(total - core * n, np.ones(n)))


@pytest.mark.parametrize("pops", [[4000, 9000, 16000], [12000, 4100, 7000, 15000, 6000]])
@pytest.mark.parametrize("total", [21, 60, 598])
def test_allocate_proportional(pops, total):
    pops = np.array(pops)
    staff = staffing.allocate(total, pops, 0)
    assert staff.sum() == total
    assert np.all(np.abs(staff - total * pops / pops.sum()) < 1)
    assert np.all(np.diff(staff[np.argsort(pops)]) >= 0)


def test_allocate_fewer_staff_than_committees():
    staff = staffing.allocate(10, np.ones(3), 7)
    assert staff.sum() == 10 and staff.max() - staff.min() <= 1


def _load_by_day(m, present_on):
    """Reference for staffing.expected_load: the hazards summed day by day."""
    from types import SimpleNamespace

    from model.case_generation import season_factor
    d = m.district
    load = np.zeros(d.n_communities)
    for day in range(365):
        view = SimpleNamespace(p=m.p, district=d, activity_factor=m.activity_factor,
                               root_factor=np.ones_like(m.root_factor), present=present_on(day))
        season = season_factor(m.p, winter_influx.in_heating_season(day, m.p))[RK][:, None]
        load += np.bincount(d.community, (rates_per_year(view) * season).sum(axis=0),
                            minlength=d.n_communities) / 365
    return load


def test_expected_load_counts_winter_residents():
    """The demand rule's load is the year's hazards, day by day; the seasonal residents add
    load to Longqiao's communities only."""
    m = GovernanceModel(Params(scale=0.05, days=1, warmup_days=0), seed=4)
    d = m.district
    load = staffing.expected_load(m)
    np.testing.assert_allclose(
        load, _load_by_day(m, lambda day: winter_influx.presence(d.seasonal, day, m.p)), rtol=1e-9)
    extra = load - _load_by_day(m, lambda day: ~d.seasonal)
    longqiao = d.community_street == LONGQIAO
    assert np.all(extra[longqiao] > 0)
    np.testing.assert_allclose(extra[~longqiao], 0, atol=1e-9)


def test_allocation_weights_mix_spans_the_rules():
    pops = np.array([4000.0, 9000.0, 16000.0])
    load = np.array([50.0, 300.0, 150.0])
    def weights(**kw):
        w = staffing.allocation_weights(Params(staff_allocation="mix", **kw), pops, load)
        return w / w.sum()
    np.testing.assert_allclose(weights(), 1 / 3)
    np.testing.assert_allclose(weights(staff_weight_population=1.0), pops / pops.sum())
    np.testing.assert_allclose(weights(staff_weight_demand=1.0), load / load.sum())
    with pytest.raises(ParameterError, match="staff_weight_population"):
        Params(staff_allocation="mix", staff_weight_population=0.7, staff_weight_demand=0.5)


@pytest.mark.parametrize("rule", ["uniform", "proportional", "demand", "mix"])
def test_model_staff_and_grid_workers(rule):
    from agents import GridWorker

    p = Params(scale=0.25, days=1, staff_allocation=rule, staff_weight_demand=0.5)
    m = GovernanceModel(p, seed=8)
    d = m.district
    assert m.staff.sum() == round(p.staffing_per_10k * d.community_pop.sum() / 10_000)
    workers = m.agents_by_type[GridWorker]
    per_comm = np.bincount([w.community for w in workers if w.role != "special"],
                           minlength=d.n_communities)
    np.testing.assert_array_equal(per_comm, m.staff)
    committee = np.bincount([w.community for w in workers if w.role == "committee"],
                            minlength=d.n_communities)
    assert np.all(committee == np.minimum(p.committee_per_community, m.staff))
    per_10k = m.staff / d.community_pop * 10_000
    if rule == "uniform":  # F9: large communities are relatively under-staffed
        big, small = np.argmax(d.community_pop), np.argmin(d.community_pop)
        assert per_10k[big] < per_10k[small]
    elif rule == "proportional":
        assert per_10k.max() - per_10k.min() < 10_000 / d.community_pop.min()
    else:  # beyond the committee, staff follow the expected case load
        load = staffing.expected_load(m)
        share = 0.5 if rule == "mix" else 1.0
        rest = m.staff - p.committee_per_community
        target = rest.sum() * (share * load / load.sum() + (1 - share) / len(load))
        assert np.all(np.abs(rest - target) < 1)


def test_winter_does_not_raise_capacity(year_run):
    """P3: staff capacity does not follow the seasonal residents."""
    m, _ = year_run
    summer = GovernanceModel(m.p, seed=m.seed)
    assert summer.present.all()
    base, cap = summer.units.base_hours.copy(), summer.capacity.copy()
    summer.day = 180
    summer.residents.step()
    assert not summer.present.all()
    np.testing.assert_array_equal(summer.units.base_hours, base)
    np.testing.assert_array_equal(summer.capacity, cap)
    np.testing.assert_array_equal(m.units.base_hours, base)


# --- routing --------------------------------------------------------------------------------


@pytest.mark.parametrize("joint", [False, True])
def test_enforcement_routing_without_deprecated_bool_inversion(joint):
    """Parking and environment cases at the compound go to the property firm (P5) unless joint
    meetings route them to the authorities. The routing must not rely on ``~`` applied to a
    Python bool (deprecated since Python 3.12; an error in future versions)."""
    from model.tiered_ladder import place

    m = GovernanceModel(Params(scale=0.05, days=5, joint_meetings=joint), seed=3)
    d = m.district
    comp = np.flatnonzero(d.compound_firm >= 0)[:5]
    m.cases = CaseTable()
    idx = m.cases.add(len(comp), kind=K["parking"], compound=comp,
                      community=d.compound_community[comp], street=d.compound_street[comp],
                      opened=0, resident=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        place(m, idx, 0)
    expected = comp if joint else m.units.first["firm"] + d.compound_firm[comp]
    np.testing.assert_array_equal(m.cases.unit[idx], expected)
