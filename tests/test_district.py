"""The district generator: populations (F2, F10, F11), community sizes (F8), compound types,
party members, and the containment of households, buildings, compounds and communities."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import LONGQIAO_POPULATION, URBAN_POPULATION, WINTER_INFLUX

from model import Params, district
from model.vocabulary import AGE_GROUPS, COMPOUND_TYPES, LONGQIAO, STREETS, A, O


def generate(scale: float, seed: int = 0, **kw) -> district.District:
    return district.generate(Params(scale=scale, **kw), np.random.default_rng(seed))


@pytest.fixture(scope="module")
def d25() -> district.District:
    return generate(0.25, seed=4)


@pytest.mark.parametrize("scale", [0.013, 0.05, 0.1, 0.25, 1.0])
def test_population_counts(scale):
    d = generate(scale, seed=1)
    base = round(URBAN_POPULATION * scale)
    seasonal = round(WINTER_INFLUX * scale)
    assert d.n_residents == base + seasonal
    assert d.seasonal.sum() == seasonal
    # the seasonal residents are appended after the base residents, all in Longqiao
    assert not d.seasonal[:base].any() and d.seasonal[base:].all()
    assert np.all(d.street[d.seasonal] == LONGQIAO)
    assert np.count_nonzero((d.street == LONGQIAO) & ~d.seasonal) == round(LONGQIAO_POPULATION * scale)
    # community and compound populations are the base residents they contain
    assert d.community_pop.sum() == base
    np.testing.assert_array_equal(d.community_pop,
                                  np.bincount(d.community[~d.seasonal], minlength=d.n_communities))
    np.testing.assert_array_equal(d.compound_pop,
                                  np.bincount(d.compound[~d.seasonal], minlength=d.n_compounds))


def test_no_winter_influx_means_no_seasonal_residents():
    d = generate(0.1, winter_influx=0)
    assert d.n_residents == round(URBAN_POPULATION * 0.1) and not d.seasonal.any()


def test_seasonal_residents_are_elderly_of_seasonal_origin_in_existing_households():
    d = generate(0.1, seed=2)
    assert np.all(d.origin[d.seasonal] == O["seasonal"])
    assert np.all(d.age[d.seasonal] == A["elderly"])
    assert not np.any(d.origin[~d.seasonal] == O["seasonal"])
    # they join households of base residents (children bring their parents, F11)
    assert np.isin(d.household[d.seasonal], d.household[~d.seasonal]).all()


def test_containment_is_consistent(d25):
    d = d25
    # every household lives in one building, every building in one compound
    order = np.argsort(d.household, kind="stable")
    hh, b = d.household[order], d.building[order]
    same_hh = hh[1:] == hh[:-1]
    assert np.all(b[1:][same_hh] == b[:-1][same_hh])
    np.testing.assert_array_equal(d.compound, d.building_compound[d.building])
    np.testing.assert_array_equal(d.community, d.compound_community[d.compound])
    np.testing.assert_array_equal(d.street, d.community_street[d.community])
    np.testing.assert_array_equal(d.compound_street, d.community_street[d.compound_community])
    assert len(d.building_has_head) == len(d.building_compound) == len(d.building_mixing)
    assert np.all((d.building_mixing >= 0) & (d.building_mixing < 1))
    # firms serve compounds of one street; compounds without a firm are old ones
    has_firm = d.compound_firm >= 0
    assert np.all(d.firm_street[d.compound_firm[has_firm]] == d.compound_street[has_firm])
    assert np.all(d.compound_type[~has_firm] == COMPOUND_TYPES.index("old"))
    assert np.all((d.firm_quality > 0) & (d.firm_quality < 1))
    assert np.all((d.compound_infra > 0) & (d.compound_infra <= 1))
    assert np.all((d.expectation >= 0) & (d.expectation <= 1))


@pytest.mark.parametrize(("scale", "seed"), [(0.25, 4), (1.0, 0), (1.0, 1), (1.0, 2)])
def test_community_sizes_respect_f8_bounds_ratio(scale, seed):
    """Sizes are drawn one at a time between community_size_min and _max (F8: under 5,000 to
    over 15,000); a remainder too small for a community is spread over the others, so the
    ratio stays near max/min = 16,000/4,000."""
    p = Params(scale=scale)
    d = generate(scale, seed=seed)
    bound = p.community_size_max / p.community_size_min
    for s in range(len(STREETS)):
        pops = d.community_pop[d.community_street == s]
        assert len(pops) >= 1 and pops.min() > 0
        if len(pops) > 1:
            # +1 resident of slack for the integer split of the street total
            assert pops.max() <= bound * pops.min() + 1, (STREETS[s], sorted(pops))
    assert np.all(np.isin(np.arange(len(STREETS)), d.community_street))


def test_full_scale_community_count_matches_f8_sizes():
    """At scale 1 the ~244,000 residents make 20 to 40 communities of 4,000-16,000."""
    d = generate(1.0, seed=0)
    assert 244_000 / 16_000 <= d.n_communities <= 244_000 / 4_000
    assert 4_000 <= np.median(d.community_pop) <= 16_000


def test_four_compound_types_present(d25):
    assert set(np.unique(d25.compound_type).tolist()) == set(range(len(COMPOUND_TYPES)))
    # Longqiao (peri-urban, F10/F12) has relatively more commercial and village compounds
    # than Gulou, the old town (assumption TYPE_MIX): checked on residents' compound types
    res_type = d25.compound_type[d25.compound]
    newer = np.isin(res_type, (COMPOUND_TYPES.index("commercial"), COMPOUND_TYPES.index("village")))
    gulou = (d25.street == STREETS.index("Gulou")) & ~d25.seasonal
    longqiao = (d25.street == LONGQIAO) & ~d25.seasonal
    assert newer[longqiao].mean() > newer[gulou].mean()


def test_party_members_share_of_adults(d25):
    """Party members: the schema's share of adults, which makes ~6.9 % of all residents
    (CPC 2022: 96.7 M members in a population of 1.41 bn)."""
    adults = d25.age > A["child"]
    assert not d25.party[~adults].any()
    target = Params().party_member_share
    share = d25.party[adults].mean()
    se = np.sqrt(target * (1 - target) / adults.sum())
    assert abs(share - target) < 5 * se, (share, target, se)
    base = ~d25.seasonal
    assert abs(d25.party[base].mean() - 0.069) < 0.004, d25.party[base].mean()
    # in-unit members are working-age party members
    assert not (d25.in_unit & ~d25.party).any()
    assert not (d25.in_unit & (d25.age == A["elderly"])).any()
    assert d25.in_unit.any()


def test_age_shares_follow_census(d25):
    base = ~d25.seasonal
    shares = np.bincount(d25.age[base], minlength=4) / base.sum()
    np.testing.assert_allclose(shares, [getattr(Params(), f"age_share_{a}") for a in AGE_GROUPS], atol=0.01)


def test_household_sizes_average_census_mean(d25):
    sizes = np.bincount(d25.household[~d25.seasonal])
    sizes = sizes[sizes > 0]
    assert sizes.min() >= 1
    assert abs(sizes.mean() - Params().household_size) < 0.1


def test_same_seed_same_district_different_seed_differs():
    a, b, c = generate(0.05, seed=9), generate(0.05, seed=9), generate(0.05, seed=10)
    for name in ("household", "building", "origin", "age", "party", "compound_type"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.origin, c.origin)


def test_split_integer_is_exact_and_proportional(rng):
    for _ in range(50):
        w = rng.random(rng.integers(1, 20)) + 1e-3
        total = int(rng.integers(0, 100_000))
        parts = district.split_integer(total, w)
        assert parts.sum() == total and np.all(parts >= 0)
        assert np.all(np.abs(parts - total * w / w.sum()) < 1)


def test_split_integer_spreads_equally_when_the_weights_give_no_basis():
    from model.district import split_integer

    assert split_integer(7, np.array([2.0, 1.0, 1.0])).tolist() == [3, 2, 2]
    out = split_integer(5, np.zeros(3))
    assert out.sum() == 5 and out.min() >= 1 and out.max() <= 2
