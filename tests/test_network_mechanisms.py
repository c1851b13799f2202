"""The neighbour network matters: each of its four mechanisms, switched off against the
defaults on the same seeds, moves its target measure by more than its paired noise, in the
direction the mechanism predicts (docs/ODD.md, "Network submodels").

Paired seeds: a run with the mechanism and one without share the district, the network and
the start of the random stream; the mean of the paired differences is compared with its
standard error over the seeds. Runs are cached so that the defaults run once per seed.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from helpers import beyond_noise

from model import GovernanceModel, Params, channel_choice, network
from model.case_generation import RESIDENT_KINDS, RK, rates_per_year

SCALE = 0.1
DAYS = 365
SEEDS = (1, 2, 3, 4, 5)
NEIGHBOUR_ROW = RESIDENT_KINDS.index("neighbour")


@cache
def _summary(seed: int, changes: tuple[tuple[str, object], ...] = ()) -> dict:
    m = GovernanceModel(Params(scale=SCALE, days=DAYS, **dict(changes)), seed=seed)
    m.run()
    summary = m.summary
    m.release()
    return summary


def _neighbour_disputes(s: dict) -> float:
    return s["disputes_by_kind_per_1000_per_month"]["neighbour"]


def _paired(measure, on: dict, off: dict) -> np.ndarray:
    """measure(on) - measure(off) for each of SEEDS."""
    return np.array([measure(_summary(seed, tuple(sorted(on.items()))))
                     - measure(_summary(seed, tuple(sorted(off.items())))) for seed in SEEDS])


# --- 1. disputes on ties --------------------------------------------------------------------

def test_disputes_on_ties_are_fewer_than_by_building_mix():
    """Homophily makes ties cross origins less often than residents of a building differ, so
    at the reference degree disputes on ties are fewer than the building-mix hazard gives."""
    diffs = _paired(_neighbour_disputes, {}, {"network_disputes": False})
    assert beyond_noise(diffs, -1), diffs


def test_less_homophily_more_neighbour_disputes_on_ties():
    diffs = _paired(_neighbour_disputes, {"origin_homophily": 0.0}, {})
    assert beyond_noise(diffs, +1), diffs


def test_more_ties_more_neighbour_disputes():
    diffs = _paired(_neighbour_disputes, {"ties_building": 8.0}, {})
    assert beyond_noise(diffs, +1), diffs


@pytest.mark.parametrize("change", [{"origin_homophily": 0.0}, {"ties_building": 8.0}],
                         ids=["homophily", "degree"])
def test_network_shape_sets_the_dispute_hazard_only_with_network_disputes(change):
    """The neighbour hazards of the same district: with the switch on, homophily and degree
    change them; off, they are identical (the network then enters no dispute hazard)."""
    def hazard(**kw) -> np.ndarray:
        m = GovernanceModel(Params(scale=0.05, days=1, warmup_days=0, **kw), seed=3)
        return rates_per_year(m)[NEIGHBOUR_ROW]

    on, on_changed = hazard(), hazard(**change)
    assert on_changed.sum() > 1.05 * on.sum()
    off = hazard(network_disputes=False)
    np.testing.assert_array_equal(off, hazard(network_disputes=False, **change))
    # the other kinds do not depend on the switch
    m_on = GovernanceModel(Params(scale=0.05, days=1, warmup_days=0), seed=3)
    m_off = GovernanceModel(Params(scale=0.05, days=1, warmup_days=0, network_disputes=False),
                            seed=3)
    rest = np.arange(len(RK)) != NEIGHBOUR_ROW
    np.testing.assert_array_equal(rates_per_year(m_on)[rest], rates_per_year(m_off)[rest])


def test_tie_hazard_is_the_sum_over_ties():
    """Reference: the per-resident neighbour hazard is rate / reference degree times the
    resident's propensity times the sum over its present non-household ties of
    1 + mixing_effect x [origins differ], tie by tie."""
    m = GovernanceModel(Params(scale=0.02, days=1, warmup_days=0), seed=5)
    d, p, adj = m.district, m.p, m.adj
    off = GovernanceModel(Params(scale=0.02, days=1, warmup_days=0, network_disputes=False,
                                 mixing_effect=0.0), seed=5)
    # with no mixing effect the building-mix hazard is the propensity part alone
    propensity = rates_per_year(off)[NEIGHBOUR_ROW]
    expected = np.zeros(d.n_residents)
    for i in range(d.n_residents):
        for at in range(adj.indptr[i], adj.indptr[i + 1]):
            j = adj.indices[at]
            if d.household[i] != d.household[j] and m.present[j]:
                expected[i] += 1.0 + p.mixing_effect * (d.origin[i] != d.origin[j])
    expected *= propensity / p.tie_reference_degree
    np.testing.assert_allclose(rates_per_year(m)[NEIGHBOUR_ROW], expected, rtol=1e-12)


# --- 2. word of mouth -----------------------------------------------------------------------

def test_word_of_mouth_draws_cases_out_of_silence():
    """Neighbours' closed cases mostly scored above neutral, so hearing of them makes the
    reporting channels more attractive: fewer cases are kept silent. (Which reporting channel
    gains is spread over all five; no single one, the hotline included, moves clearly.)"""
    silence = _paired(lambda s: s["channel_shares"]["silence"], {},
                      {"word_of_mouth_weight": 0.0})
    assert beyond_noise(silence, -1), silence


def test_word_of_mouth_is_the_tie_weighted_mean_of_recent_scores():
    m = GovernanceModel(Params(scale=0.02, days=60), seed=2)
    m.run()
    p = m.p
    residents = np.flatnonzero(m.present_adults())[:200]
    got = channel_choice.word_of_mouth(m, residents)
    assert np.count_nonzero(got) > 0
    for row, i in enumerate(residents):
        total, heard = np.zeros(len(channel_choice.RESIDENT_CHANNELS)), np.zeros(
            len(channel_choice.RESIDENT_CHANNELS))
        for at in range(m.adj.indptr[i], m.adj.indptr[i + 1]):
            j, w = m.adj.indices[at], m.adj.data[at]
            ch = int(m.last_channel[j])
            if ch < 0 or m.last_closed[j] < m.day - p.word_of_mouth_days:
                continue
            col = channel_choice.COLUMN[ch]
            if col > 0:
                total[col] += w * (m.last_score[j] - p.word_of_mouth_neutral)
                heard[col] += w
        want = np.divide(total, heard, out=np.zeros_like(total), where=heard > 0)
        np.testing.assert_allclose(got[row], want, atol=1e-12)


def test_neighbour_pairs_lists_every_tie():
    m = GovernanceModel(Params(scale=0.02, days=1, warmup_days=0), seed=1)
    residents = np.array([0, 5, 5, m.district.n_residents - 1])
    owner, nb, w = network.neighbour_pairs(m.adj, residents)
    for k, i in enumerate(residents):
        row = m.adj.getrow(i)
        np.testing.assert_array_equal(nb[owner == k], row.indices)
        np.testing.assert_array_equal(w[owner == k], row.data)


# --- 3. recruitment through ties ------------------------------------------------------------

def test_recruitment_through_ties_raises_participation():
    diffs = _paired(lambda s: s["participation_rate"], {}, {"recruitment_weight": 0.0})
    assert beyond_noise(diffs, +1), diffs


# --- 4. satisfaction spreads ----------------------------------------------------------------

def test_social_influence_pulls_in_the_dissatisfied():
    """Listening to neighbours barely moves the mean but shrinks the unhappy tail."""
    diffs = _paired(lambda s: s["dissatisfied_share"], {}, {"susceptibility": 0.0})
    assert beyond_noise(diffs, -1), diffs
    spread = _paired(lambda s: s["satisfaction_sd"], {}, {"susceptibility": 0.0})
    assert beyond_noise(spread, -1), spread


def test_same_seed_same_outputs_with_the_network_mechanisms():
    a = GovernanceModel(Params(scale=0.02, days=60), seed=9)
    b = GovernanceModel(Params(scale=0.02, days=60), seed=9)
    a.run()
    b.run()
    for key in ("disputes_per_1000_per_month", "channel_shares", "participation_rate",
                "dissatisfied_share"):
        assert a.summary[key] == b.summary[key]
