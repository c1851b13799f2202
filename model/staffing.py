"""Community staffing (社区工作力量) and the handling units that hold case queues.

Staff headcount comes from ``staffing_per_10k`` over the resident (not seasonal) population
(F5-F7) and is split over communities by ``staff_allocation``: today's uniform rule (F9), or
by population, by expected case load (winter included), or a blend of the three. Each unit (compound,
community, street, property firm, district departments, the supervision team) has a daily
capacity in hours; the winter influx does not raise it (P3).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from . import winter_influx
from .case_generation import RK, rates_per_year, season_factor
from .district import District, split_integer
from .params import Params
from .vocabulary import KINDS, U


def allocate(total: int, weights: np.ndarray, committee: int) -> np.ndarray:
    """Headcount per community for ``total`` staff: ``committee`` members each (as far as the
    headcount allows), the rest split in proportion to ``weights`` (largest remainders)."""
    n = len(weights)
    core = min(committee, total // n) if n else 0
    return core + split_integer(total - core * n, weights)


def allocation_weights(p: Params, pops: np.ndarray, load: np.ndarray | None) -> np.ndarray:
    """Weights of the communities in the split of staff beyond the committee (F9 rule or the
    alternatives compared by ``run.py staffing``)."""
    rule = p.staff_allocation
    if rule in ("uniform", "proportional"):
        return np.ones(len(pops)) if rule == "uniform" else pops.astype(float)
    if load is None:
        raise ValueError(f"staff_allocation '{rule}' needs the expected case load")
    if rule == "demand":
        return load
    w_pop, w_load = p.staff_weight_population, p.staff_weight_demand
    return ((1 - w_pop - w_load) / len(pops) + w_pop * pops / pops.sum()
            + w_load * load / load.sum())


def needs_load(p: Params) -> bool:
    return p.staff_allocation in ("demand", "mix")


def expected_load(model) -> np.ndarray:
    """Expected resident cases per community per year before any policy takes effect: the
    case hazards with everyone present during the heating season (winter residents included)
    and without the seasonal residents the rest of the year."""
    d, p = model.district, model.p
    winter_days = (365 - p.heating_start_day) + p.heating_end_day
    load = np.zeros(d.n_communities)
    for in_season, days in ((False, 365 - winter_days), (True, winter_days)):
        view = SimpleNamespace(p=p, district=d, activity_factor=model.activity_factor,
                               root_factor=np.ones((d.n_compounds, len(KINDS))),
                               present=winter_influx.presence(d.seasonal, 0 if in_season else
                                                              p.heating_end_day, p))
        rates = rates_per_year(view) * season_factor(p, in_season)[RK][:, None]
        load += np.bincount(d.community, rates.sum(axis=0), minlength=d.n_communities) * days / 365
    return load


@dataclass
class Units:
    """Unit table: compounds, then communities, streets, firms, departments, supervision."""
    type: np.ndarray
    street: np.ndarray
    community: np.ndarray      # -1 for units above the community
    base_hours: np.ndarray     # hours/day from staff, before volunteers and funding
    first: dict[str, int]

    def __len__(self) -> int:
        return len(self.type)

    def of(self, kind: str, index: np.ndarray | int) -> np.ndarray | int:
        return self.first[kind] + index


def staff_counts(p: Params, d: District,
                 load: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(staff, welfare posts) per community; ``load`` is the expected case load, needed by
    the demand and mix rules."""
    base = d.community_pop.sum() / 10_000
    total = round(p.staffing_per_10k * base)
    welfare = round(p.welfare_posts_per_10k * base)
    weights = allocation_weights(p, d.community_pop, load)
    committee = 0 if p.staff_allocation == "proportional" else p.committee_per_community
    staff = allocate(total, weights, committee)
    posts = allocate(welfare, weights, 0)
    return staff, np.minimum(posts, staff)


def build_units(p: Params, d: District, staff_hours: np.ndarray) -> Units:
    """Lay out the units and their staff hours; ``staff_hours`` is per community."""
    n_k, n_c, n_s, n_f = d.n_compounds, d.n_communities, len(d.street_names), len(d.firm_quality)
    first = {"compound": 0, "community": n_k, "street": n_k + n_c, "firm": n_k + n_c + n_s,
             "department": n_k + n_c + n_s + n_f, "supervision": n_k + n_c + n_s + n_f + 1}
    n = first["supervision"] + 1
    typ = np.empty(n, np.int8)
    street = np.full(n, -1, np.int64)
    community = np.full(n, -1, np.int64)
    for kind, count in (("compound", n_k), ("community", n_c), ("street", n_s), ("firm", n_f),
                        ("department", 1), ("supervision", 1)):
        typ[first[kind]: first[kind] + count] = U[kind]
    street[:n_k], community[:n_k] = d.compound_street, d.compound_community
    street[n_k:n_k + n_c], community[n_k:n_k + n_c] = d.community_street, np.arange(n_c)
    street[first["street"]: first["street"] + n_s] = np.arange(n_s)
    street[first["firm"]: first["firm"] + n_f] = d.firm_street

    hours = np.zeros(n)
    day_hours = p.work_hours_per_day * 5 / 7
    street_pop = np.bincount(d.community_street, d.community_pop, minlength=n_s)
    hours[first["street"]: first["street"] + n_s] = (
        p.street_staff_per_10k * street_pop / 10_000 * day_hours)
    served = np.bincount(d.compound_firm[d.compound_firm >= 0],
                         d.compound_pop[d.compound_firm >= 0], minlength=n_f)
    hours[first["firm"]: first["firm"] + n_f] = (
        p.firm_staff_per_10k * served / 10_000 * day_hours * p.firm_complaint_share)
    total_pop = d.community_pop.sum()
    hours[first["department"]] = p.department_hours_per_10k * total_pop / 10_000
    hours[first["supervision"]] = p.supervision_hours_per_10k * total_pop / 10_000
    units = Units(typ, street, community, hours, first)
    set_staff_hours(units, p, d, staff_hours)
    return units


def set_staff_hours(units: Units, p: Params, d: District, staff_hours: np.ndarray) -> None:
    """Set the compounds' and community offices' staff hours from ``staff_hours`` per
    community: the share ``grid_time_share`` in the compounds of the grid (by population),
    the rest in the office."""
    n_k, n_c = d.n_compounds, d.n_communities
    share_in_comm = d.compound_pop / d.community_pop[d.compound_community]
    units.base_hours[:n_k] = p.grid_time_share * staff_hours[d.compound_community] * share_in_comm
    units.base_hours[n_k:n_k + n_c] = (1 - p.grid_time_share) * staff_hours

