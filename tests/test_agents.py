"""Each agent type's step on a small district (what it changes, and only that), the month
start as a Mesa event, and each agent mechanism's effect with paired seeds."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import beyond_noise

from agents import GridWorker, PartyBranch, PropertyFirm
from model import GovernanceModel, kpis
from model.calendar import MONTH_STARTS
from model.vocabulary import LONGQIAO, S

TINY = {"scale": 0.02, "days": 40}


def paired_effect(measure: str, off: dict, on: dict, seeds: range, **common) -> np.ndarray:
    """On-minus-off differences of ``measure`` over the same seeds (common random numbers)."""
    diffs = []
    for seed in seeds:
        runs = []
        for change in (off, on):
            m = GovernanceModel(seed=seed, **common, **change)
            m.run()
            runs.append(kpis.value(m.summary, measure))
        diffs.append(runs[1] - runs[0])
    return np.array(diffs, float)


def state(m: GovernanceModel) -> dict[str, np.ndarray]:
    """The arrays an agent's step may change, copied."""
    return {"quality": m.district.firm_quality.copy(), "heads": m.district.building_has_head.copy(),
            "satisfaction": m.satisfaction.copy(), "volunteer": m.volunteer.copy(),
            "member_hours": m.member_hours.copy(), "cases": m.cases.state[: m.cases.n].copy(),
            "grid": m.grid.community.copy()}


def changed(before: dict, after: dict) -> set[str]:
    return {k for k in before if not np.array_equal(before[k], after[k])}


# --- the month start is a Mesa event ------------------------------------------------------


def test_month_starts_are_mesa_events_on_the_first_of_each_month(monkeypatch):
    days: list[int] = []
    original = GovernanceModel.month_start
    monkeypatch.setattr(GovernanceModel, "month_start",
                        lambda self: (days.append(self.day), original(self))[1])
    m = GovernanceModel(scale=0.02, days=365, warmup_days=40)
    warm = list(days)
    assert warm == [-31]  # the warm-up's 1 December, run by the warm-up itself
    m.run()
    assert days[1:] == MONTH_STARTS.tolist()
    assert m.time == 365 and m.steps == 365


def test_a_model_run_further_with_mesa_keeps_its_months():
    m = GovernanceModel(scale=0.02, days=20, warmup_days=0)
    m.run()
    assert not m.running
    m.run_for(20)  # Mesa's own clock: days 20..39, 1 February among them
    assert m.day == 40 and m.volunteer.any()


# --- property firms --------------------------------------------------------------------------


def test_fees_follow_owners_satisfaction_and_fund_service():
    m = GovernanceModel(**TINY, fee_collection_slope=1.0)
    firm = next(iter(m.firms))
    homes = np.isin(m.district.compound, firm.compounds)
    for level, direction in ((0.95, 1), (0.2, -1)):
        m.satisfaction = np.where(homes, level, m.satisfaction)
        q0 = firm.quality
        firm.collect_fees()
        firm.spend_on_service()
        expected = np.clip(m.p.fee_collection_base + (level - m.p.fee_reference_satisfaction), 0, 1)
        assert firm.collection_rate == pytest.approx(expected, abs=0.02)
        assert np.sign(firm.quality - q0) == direction or firm.quality == m.p.firm_quality_cap


def test_a_firm_step_changes_only_its_own_quality():
    m = GovernanceModel(**TINY, red_property=True)
    firm = list(m.firms)[-1]
    before = state(m)
    firm.step()
    after = state(m)
    assert changed(before, after) <= {"quality"}
    others = np.arange(len(before["quality"])) != firm.idx
    np.testing.assert_array_equal(before["quality"][others], after["quality"][others])


def test_owners_committee_replaces_a_firm_rated_poorly_twice():
    m = GovernanceModel(**TINY, owners_committee_share=1.0, dismissal_evaluations=2)
    firm = min(m.firms, key=lambda f: f.quality)
    m.district.firm_quality[firm.idx] = 0.1
    c = m.cases
    mine = (c.kind[: c.n] == 2) & np.isin(c.compound[: c.n], firm.compounds)
    for evaluation in range(2):
        assert firm.replaced == 0
        m.day = 90 * (evaluation + 1)  # an evaluation month (April, July)
        c.closed[: c.n][mine] = m.day - 1
        c.satisfaction[: c.n][mine] = 0.1  # every property case of the firm ended badly
        c.satisfaction[: c.n][~mine] = np.where(np.isnan(c.satisfaction[: c.n][~mine]),
                                                np.nan, 0.9)
        if not mine.any():
            pytest.skip("no property case in the firm's compounds")
        firm.answer_evaluation()
    assert firm.replaced == 1 and firm.poor_evaluations == 0
    assert firm.quality >= np.median(m.district.firm_quality) - 1e-12
    assert firm.since_day == m.day and firm.rating is None


def test_without_a_committee_a_poor_firm_stays():
    m = GovernanceModel(scale=0.1, days=365, owners_committee_share=0.0, dismissal_rating=0.9)
    m.run()
    assert m.summary["firms_replaced"] == 0
    m2 = GovernanceModel(scale=0.1, days=365, owners_committee_share=1.0, dismissal_rating=0.9)
    m2.run()
    assert m2.summary["firms_replaced"] > 0


def test_fee_feedback_moves_property_complaints_when_owners_are_unhappy():
    """Owners less satisfied than the reference pay less; service falls; property's share of
    tickets rises. Switched off (slope 0), fees and service stay put."""
    common = {"scale": 0.1, "fee_reference_satisfaction": 0.75}
    diffs = paired_effect("category_shares.property", {"fee_collection_slope": 0.0},
                          {"fee_collection_slope": 2.0}, range(1, 5), **common)
    assert beyond_noise(diffs, +1)


# --- grid workers ---------------------------------------------------------------------------


def test_grid_workers_are_agents_with_observable_caseloads():
    m = GovernanceModel(scale=0.05, days=30)
    m.run()
    workers = [w for w in m.agents_by_type[GridWorker] if w.role != "special"]
    assert len(workers) == len(m.grid) and sum(m.staff) == len(workers)
    loads = m.grid.caseload()
    w = workers[0]
    assert w.caseload == loads[w.community]
    open_cases = np.isin(m.cases.state[: m.cases.n], (S["queued"],)).sum()
    assert 0 < (loads * np.bincount(m.grid.community, minlength=len(loads))).sum() <= open_cases


def test_patrols_find_silent_problems_and_leave_fewer_unvoiced():
    diffs = paired_effect("case_states.silent", {"patrol_find_rate": 0.0}, {},
                          range(1, 7), scale=0.05)
    assert beyond_noise(diffs, -1)
    m = GovernanceModel(scale=0.05, days=120)
    m.run()
    assert m.grid.found > 0
    assert m.summary["patrol_finds_per_10k_per_year"] > 0


def test_winter_posts_move_workers_to_longqiao_and_back():
    m = GovernanceModel(scale=0.1, days=1, warmup_days=0, winter_reassignment_share=0.5)
    d = m.district
    in_longqiao = d.community_street[m.grid.community] == LONGQIAO
    home = d.community_street[m.grid.home] == LONGQIAO
    assert m.grid.in_winter_posts  # 1 January is in the heating season
    movable = m.grid.movable & ~home
    assert in_longqiao[movable].mean() == pytest.approx(0.5, abs=0.05)
    assert not in_longqiao[~m.grid.movable & ~home].any()  # committee members stay
    workers = list(m.agents_by_type[GridWorker])
    assert [w.community for w in workers[: len(m.grid)]] == m.grid.community.tolist()
    office = m.units.of("community", np.arange(d.n_communities))
    winter_hours = m.units.base_hours[office].copy()
    m.day = 120
    m.grid.follow_season()
    assert not m.grid.in_winter_posts
    np.testing.assert_array_equal(m.grid.community, m.grid.home)
    longqiao = d.community_street == LONGQIAO
    assert m.units.base_hours[office][longqiao].sum() < winter_hours[longqiao].sum()


def test_winter_posts_shorten_longqiaos_winter_waits():
    diffs = paired_effect("longqiao_winter_days_to_close", {}, {"winter_reassignment_share": 0.5},
                          range(1, 6), scale=0.1)
    assert beyond_noise(diffs, -1)


# --- party branches ---------------------------------------------------------------------------


def test_building_groups_follow_the_heads_recruited_and_stepping_down():
    m = GovernanceModel(scale=0.05, days=365, head_turnover=0.05, head_recruitment_rate=0.5)
    m.run()
    groups = [b for b in m.agents_by_type[PartyBranch] if b.level == "building_group"]
    assert len(groups) == m.district.building_has_head.sum()
    assert sorted(b.place for b in groups) == np.flatnonzero(m.district.building_has_head).tolist()
    assert sum(b.recruited for b in m.branches if b.level == "compound_branch") > 0


def test_a_compound_branch_recruits_only_in_its_own_compound():
    m = GovernanceModel(**TINY)
    m.p = m.p.with_updates(head_recruitment_rate=100.0)  # from now on: found for certain
    d = m.district

    def reachable(place: int) -> bool:  # a head-less building its members have ties into
        buildings = m.compound_buildings[place]
        return bool(np.any(~d.building_has_head[buildings] & (m.member_ties[buildings] > 0)))

    branch = next(b for b in m.branches if b.level == "compound_branch" and reachable(b.place))
    before = d.building_has_head.copy()
    branch.step()
    new = np.flatnonzero(m.district.building_has_head & ~before)
    assert len(new) and np.all(m.district.building_compound[new] == branch.place)


def test_branch_steps_change_only_what_they_own():
    m = GovernanceModel(**TINY, double_reporting=True)
    for level, allowed in (("street_committee", {"cases"}),
                           ("community_committee", {"member_hours"}),
                           ("compound_branch", {"heads"})):
        branch = next(b for b in m.branches if b.level == level)
        before = state(m)
        branch.step()
        assert changed(before, state(m)) <= allowed, level


def test_head_recruitment_keeps_buildings_covered():
    # ten seeds: at this scale a district has some 120 buildings, and in a seed or two no
    # head steps down in a year, so recruitment has nothing to refill
    diffs = paired_effect("buildings_with_head", {"head_recruitment_rate": 0.0}, {},
                          range(1, 11), scale=0.05)
    assert beyond_noise(diffs, +1)


# --- residents --------------------------------------------------------------------------------


def test_the_residents_step_raises_cases_and_leaves_opinions_to_listen():
    m = GovernanceModel(scale=0.05, days=30)
    n0 = m.cases.n
    before = m.satisfaction.copy()
    m.residents.step()
    assert m.cases.n > n0
    np.testing.assert_array_equal(m.satisfaction, before)
    m.day = 7 * 10  # an influence day
    m.residents.listen()
    assert not np.array_equal(m.satisfaction, before)


def test_agent_types_in_mesas_registry():
    m = GovernanceModel(**TINY)
    for agent_type in (GridWorker, PartyBranch, PropertyFirm):
        assert len(m.agents_by_type[agent_type]) > 0


def test_outputs_count_the_workers_serving_in_each_street():
    """Longqiao's winter load per worker is over the workers serving there that month."""
    m = GovernanceModel(scale=0.1, days=40, winter_reassignment_share=0.5)
    m.run()
    d = m.district
    home = np.bincount(d.community_street, m.staff, minlength=len(d.street_names))
    serving = m.daily.staff_by_street
    assert np.all(serving[:, LONGQIAO] > home[LONGQIAO])  # January: in the heating season
    assert np.all(serving.sum(axis=1) == home.sum())      # moved, not added
    longqiao = m.summary["by_street"][LONGQIAO]
    january_load = m.daily.staff_load_by_street[:31, LONGQIAO].sum()
    assert longqiao["monthly_load_per_worker"][0] == pytest.approx(
        january_load / serving[:31, LONGQIAO].mean())
