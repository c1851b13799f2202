"""Mechanisms added after the first review: reputation, smart service's memory and cost cap,
stuck tickets, outreach into the district loop, evaluation of the responsible unit."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import run_model

from model import GovernanceModel, Params, satisfaction, smart_service
from model.vocabulary import LEVELS, C, S, U

HOTLINE = LEVELS.index("hotline")


def test_reputation_is_neutral_without_cases_and_follows_scores():
    m = GovernanceModel(Params(scale=0.05, days=30, warmup_days=0), seed=2)
    neutral = satisfaction.community_reputation(m)
    np.testing.assert_allclose(neutral, m.p.initial_satisfaction)
    m.run()
    rep = satisfaction.community_reputation(m)
    c = m.cases
    recent = (c.closed >= m.day - m.p.sat_reputation_days) & ~np.isnan(c.satisfaction)
    for comm in range(m.district.n_communities):
        scores = c.satisfaction[recent & (c.community == comm)]
        if len(scores):
            assert rep[comm] == pytest.approx(scores.mean(), abs=1e-6)


def test_worse_case_outcomes_lower_the_living_target():
    m = GovernanceModel(Params(scale=0.05, days=30), seed=3)
    m.run()
    before = satisfaction.living_target(m).mean()
    closed = ~np.isnan(m.cases.satisfaction)
    m.cases.satisfaction[closed] = 0.0  # every recent case ended as badly as possible
    after = satisfaction.living_target(m).mean()
    assert after < before - 0.1


def test_smart_service_does_not_retreat_without_new_cases_and_caps_its_hours():
    m = GovernanceModel(Params(scale=0.1, days=120, smart_service=True), seed=5)
    m.run()
    treated = m.last_treated >= 0
    assert treated.any()
    # treat today, then again on the same day: nothing new was raised in between
    smart_service.monthly(m)
    before = m.root_factor.copy()
    assert smart_service.monthly(m) == ()
    np.testing.assert_array_equal(m.root_factor, before)
    office = m.units.base_hours[m.units.of("community", np.arange(m.district.n_communities))]
    assert np.all(m.treatment_hours <= m.p.root_max_office_share * office + 1e-9)
    assert np.all(m.capacity >= 0)


def test_tickets_do_not_wait_forever_at_a_unit_without_hours():
    """Firms with no staff: with the loop, stuck tickets go to supervision; without it,
    their callers give up. Either way none waits past three deadlines at the firm."""
    for loop in (True, False):
        m = GovernanceModel(Params(scale=0.05, days=90, firm_staff_per_10k=0.0,
                                   closed_loop=loop), seed=1)
        m.run()
        c = m.cases
        firm_units = m.units.type[np.maximum(c.unit, 0)] == U["firm"]
        waiting = (c.state == S["queued"]) & (c.level == HOTLINE) & firm_units & (c.unit >= 0)
        limit = 3 * m.p.hotline_deadline_days + 1
        assert not np.any(waiting & (m.day - c.entered > limit))
        if loop:
            assert np.any((c.supervised > 0) & (c.responsible >= 0)
                          & (m.units.type[np.maximum(c.responsible, 0)] == U["firm"]))


def test_outreach_finds_problems_without_hotline_tickets():
    m, s = run_model(Params(scale=0.1, days=120, special_grid_workers=True,
                            double_reporting=True), seed=4)
    c = m.cases
    found = c.channel == C["probe"]
    assert found.any()
    assert np.all((c.levels_seen[found] >> HOTLINE) & 1)  # they entered the district loop
    # with the loop on, a found problem never becomes a 12345 ticket
    assert np.all(c.tickets[found] == 0)
    assert m.couriers.points.sum() > 0


def test_visits_judge_the_responsible_unit():
    m = GovernanceModel(Params(scale=0.05, days=60), seed=6)
    m.run()
    c = m.cases
    loop = (c.level == HOTLINE) & (c.responsible >= 0)
    supervised = loop & (c.supervised > 0)
    assert supervised.any()
    # after supervision the case sits with the team, but stays answerable to its unit
    assert np.all(c.responsible[supervised] != m.units.first["supervision"])
