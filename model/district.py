"""The district generator: streets (街道), communities (社区), compounds (小区) of four types,
buildings (楼栋), households and residents, driven by the parameters and the seed.

Everything is stored as numpy arrays indexed by entity number; residents live in contiguous
blocks per compound and household, and the seasonal winter residents are appended at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import Params
from .vocabulary import AGE_GROUPS, COMPOUND_TYPES, LONGQIAO, ORIGINS, STREETS, A, O, T

# The compositions, expectations and conditions are parameters (model/params.py, 'district
# generator'): Gulou is the old town with relocation compounds such as Kuixinglou; Longqiao
# is peri-urban with new commercial and village-to-residence compounds (F10, F12).



def _row(p: Params, prefix: str, names) -> np.ndarray:
    """The parameters ``<prefix>_<name>`` for ``names``, as an array."""
    return np.array([getattr(p, f"{prefix}_{n}") for n in names])


@dataclass
class District:
    street_names: tuple[str, ...]
    community_street: np.ndarray
    community_pop: np.ndarray          # base residents (no seasonal)
    compound_community: np.ndarray
    compound_street: np.ndarray
    compound_type: np.ndarray
    compound_pop: np.ndarray           # base residents
    compound_infra: np.ndarray         # infrastructure condition 0..1
    compound_firm: np.ndarray          # firm index or -1
    compound_has_branch: np.ndarray    # bool
    firm_quality: np.ndarray
    firm_street: np.ndarray
    building_compound: np.ndarray
    building_has_head: np.ndarray      # bool
    building_mixing: np.ndarray        # Gini-Simpson origin diversity of base residents
    # residents
    household: np.ndarray
    building: np.ndarray
    compound: np.ndarray
    community: np.ndarray
    street: np.ndarray
    origin: np.ndarray
    age: np.ndarray
    party: np.ndarray
    in_unit: np.ndarray
    seasonal: np.ndarray
    expectation: np.ndarray

    @property
    def n_residents(self) -> int:
        return len(self.household)

    @property
    def n_compounds(self) -> int:
        return len(self.compound_type)

    @property
    def n_communities(self) -> int:
        return len(self.community_pop)


def split_integer(total: int, weights: np.ndarray) -> np.ndarray:
    """Largest-remainder split of ``total`` into integers proportional to ``weights``; equal
    shares when the weights give no basis (all zero: e.g. winter posts to move where no
    winter resident lives at a tiny scale), rather than NaN counts."""
    w = np.asarray(weights, dtype=float)
    if w.sum() <= 0:
        w = np.ones_like(w)
    exact = total * w / w.sum()
    out = np.floor(exact).astype(np.int64)
    rest = total - out.sum()
    if rest > 0:
        out[np.argsort(-(exact - out), kind="stable")[:rest]] += 1
    return out


def street_populations(p: Params) -> np.ndarray:
    total = round(p.urban_population * p.scale)
    longqiao = round(p.longqiao_population * p.scale)
    gulou = round((total - longqiao) * p.gulou_share_of_rest)
    return np.array([gulou, longqiao, total - longqiao - gulou], dtype=np.int64)


def community_sizes(pop: int, p: Params, rng: np.random.Generator) -> np.ndarray:
    """Community sizes drawn log-uniform between the F8 bounds until the street is filled;
    a remainder too small for a community of its own is spread over the others."""
    lo, hi = np.log(p.community_size_min), np.log(p.community_size_max)
    sizes: list[int] = []
    left = pop
    while left > p.community_size_max:
        size = int(np.exp(rng.uniform(lo, hi)))
        sizes.append(size)
        left -= size
    if left >= p.community_size_min or not sizes:
        sizes.append(left)
    else:
        extra = split_integer(left, np.ones(len(sizes)))
        sizes = [s + e for s, e in zip(sizes, extra.tolist(), strict=True)]
    return np.array(sizes, np.int64)


def _households(pop: int, mean_size: float, rng: np.random.Generator) -> np.ndarray:
    """Household sizes 1 + Poisson(mean - 1) that sum to exactly ``pop``."""
    sizes = 1 + rng.poisson(mean_size - 1.0, int(pop / mean_size * 1.3) + 10)
    cut = np.searchsorted(np.cumsum(sizes), pop)
    sizes = sizes[: cut + 1].copy()
    sizes[-1] -= sizes.sum() - pop
    return sizes[sizes > 0]


def generate(p: Params, rng: np.random.Generator) -> District:
    """Build the district for parameters ``p`` with generator ``rng``."""
    street_pop = street_populations(p)
    comm_street, comm_pop = [], []
    for s, pop in enumerate(street_pop):
        if pop <= 0:
            continue
        sizes = community_sizes(int(pop), p, rng)
        comm_street += [s] * len(sizes)
        comm_pop += sizes.tolist()

    cp_comm, cp_pop, cp_type = [], [], []
    for c, (s, pop) in enumerate(zip(comm_street, comm_pop, strict=True)):
        n = max(1, round(pop / p.compound_size_mean))
        sizes = split_integer(pop, rng.dirichlet(np.full(n, 4.0)))
        cp_comm += [c] * n
        cp_pop += sizes.tolist()
        cp_type += rng.choice(4, n, p=_row(p, f"type_mix_{STREETS[s].lower()}", COMPOUND_TYPES)).tolist()
    comm_street_a = np.array(comm_street)
    cp_comm_a, cp_type_a = np.array(cp_comm), np.array(cp_type)

    # households, buildings and residents, compound by compound
    res_hh, hh_building, b_compound, hh_origin = [], [], [], []
    n_hh = n_b = 0
    for k, pop in enumerate(cp_pop):
        hh = _households(pop, p.household_size, rng)
        n_build = max(1, int(np.ceil(len(hh) / p.households_per_building)))
        hh_b = n_b + np.sort(rng.integers(0, n_build, len(hh)))
        hh_building.append(hh_b)
        b_compound.append(np.full(n_build, k))
        hh_origin.append(rng.choice(5, len(hh), p=[getattr(p, f"origin_mix_{COMPOUND_TYPES[cp_type[k]]}_{o}")
                                                for o in ORIGINS[:5]]))
        res_hh.append(np.repeat(np.arange(n_hh, n_hh + len(hh)), hh))
        n_hh += len(hh)
        n_b += n_build
    household = np.concatenate(res_hh)
    hh_building_a = np.concatenate(hh_building)
    building_compound = np.concatenate(b_compound)
    hh_origin_a = np.concatenate(hh_origin)

    # winter residents join random Longqiao households (children bring parents, F11)
    n_seasonal = round(p.winter_influx * p.scale)
    longqiao_hh = np.flatnonzero(comm_street_a[cp_comm_a[building_compound[hh_building_a]]]
                                 == LONGQIAO)
    if n_seasonal and len(longqiao_hh) == 0:
        n_seasonal = 0
    seasonal_hh = rng.choice(longqiao_hh, n_seasonal) if n_seasonal else np.zeros(0, np.int64)
    household = np.concatenate([household, seasonal_hh])
    n_base = len(household) - n_seasonal
    seasonal = np.zeros(len(household), bool)
    seasonal[n_base:] = True

    building = hh_building_a[household]
    compound = building_compound[building]
    community = cp_comm_a[compound]
    origin = hh_origin_a[household].astype(np.int8)
    origin[seasonal] = O["seasonal"]
    age = rng.choice(4, len(household), p=[getattr(p, f"age_share_{a}") for a in AGE_GROUPS]).astype(np.int8)
    age[seasonal] = A["elderly"]
    adult = age > A["child"]
    party = adult & (rng.random(len(household)) < p.party_member_share)
    in_unit = party & (age < A["elderly"]) & (rng.random(len(household)) < p.in_unit_member_share)
    exp_by_origin = np.array([getattr(p, f"expectation_{o}") for o in ORIGINS])
    expectation = np.clip(exp_by_origin[origin] + rng.normal(0, 0.1, len(household)), 0, 1)

    n_cp = len(cp_pop)
    infra = np.clip(_row(p, "infra_condition", COMPOUND_TYPES)[cp_type_a] + rng.normal(0, 0.1, n_cp), 0.05, 1)
    firm = _assign_firms(cp_type_a, comm_street_a[cp_comm_a], p, rng)
    firm_quality = np.zeros(firm.max() + 1)
    firm_street = np.zeros(firm.max() + 1, np.int64)
    for f in range(len(firm_quality)):
        members = firm == f
        firm_quality[f] = np.mean(_row(p, "firm_quality", COMPOUND_TYPES)[cp_type_a[members]])
        firm_street[f] = comm_street_a[cp_comm_a[members]][0]
    firm_quality = np.clip(firm_quality + rng.normal(0, 0.08, len(firm_quality)), 0.05, 0.95)

    return District(
        street_names=STREETS,
        community_street=comm_street_a,
        community_pop=np.array(comm_pop, np.int64),
        compound_community=cp_comm_a,
        compound_street=comm_street_a[cp_comm_a],
        compound_type=cp_type_a,
        compound_pop=np.array(cp_pop, np.int64),
        compound_infra=infra,
        compound_firm=firm,
        compound_has_branch=rng.random(n_cp) < p.compound_branch_coverage,
        firm_quality=firm_quality,
        firm_street=firm_street,
        building_compound=building_compound,
        building_has_head=rng.random(n_b) < p.building_head_coverage,
        building_mixing=_mixing(building[:n_base], origin[:n_base], n_b),
        household=household, building=building, compound=compound, community=community,
        street=comm_street_a[community], origin=origin, age=age, party=party,
        in_unit=in_unit, seasonal=seasonal, expectation=expectation,
    )


def _assign_firms(cp_type: np.ndarray, cp_street: np.ndarray, p: Params,
                  rng: np.random.Generator) -> np.ndarray:
    """Each firm serves about compounds_per_firm compounds of one street; some old compounds
    have none (-1)."""
    firm = np.full(len(cp_type), -1, np.int64)
    served = ~((cp_type == T["old"]) & (rng.random(len(cp_type)) < p.no_firm_share_old))
    next_firm = 0
    for s in np.unique(cp_street):
        idx = np.flatnonzero(served & (cp_street == s))
        idx = rng.permutation(idx)
        firm[idx] = next_firm + np.arange(len(idx)) // p.compounds_per_firm
        next_firm = firm[idx].max() + 1 if len(idx) else next_firm
    if next_firm == 0:  # tiny districts: make sure one firm exists
        firm[0] = 0
    return firm


def _mixing(building: np.ndarray, origin: np.ndarray, n_b: int) -> np.ndarray:
    """Gini-Simpson diversity of origins per building: 1 - sum of squared origin shares."""
    counts = np.zeros((n_b, len(ORIGINS)))
    np.add.at(counts, (building, origin), 1)
    tot = counts.sum(1, keepdims=True)
    shares = np.divide(counts, tot, out=np.zeros_like(counts), where=tot > 0)
    return 1.0 - (shares**2).sum(1)
