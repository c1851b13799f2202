"""Case generation (矛盾纠纷与诉求的产生): disputes and demands arise per kind with hazards
that depend on the origin mix of the building (P1), compound type and infrastructure (P2),
crowding (P3), the property firm's service against the resident's expectation (P4), age and
origin, neighbourhood activities, root treatment by smart service, and the season.

Per kind, today's count is drawn from the total rate, then who raises each case is drawn in
proportion to the residents' hazards (equivalent to independent Poisson hazards per resident).

Neighbour disputes on the network (``network_disputes``, P1): each non-household tie (i, j)
carries a hazard ``rate_neighbour / tie_reference_degree × w_ij × (s_i p_j + s_j p_i)``, where
``w_ij = 1 + mixing_effect × [origins differ]`` (model.network.dispute_ties), ``p`` is presence
and ``s_i`` resident i's propensity to raise (age, crowding of its compound, the community's
activities, root treatment, presence); the raiser is i with probability
``s_i p_j / (s_i p_j + s_j p_i)``, so children and absent residents never raise and a tie with
an absent end carries nothing. Summed over a resident's ties this is the per-resident hazard
``rate_neighbour × s_i × (W p)_i / tie_reference_degree``, one sparse mat-vec per refresh: the
sampler draws raisers from it exactly as for the other kinds (the same Poisson process as
drawing ties and then raisers, without a cumulative sum over the 2-3 M ties). A resident with
``tie_reference_degree`` same-origin ties, all present, has the hazard ``rate_neighbour``, so
the calibration stays close; more ties (degree) or more ties across origins (less homophily)
mean more disputes. With the switch off, the building's origin mix raises the hazard instead.
"""

from __future__ import annotations

import numpy as np

from .params import derived
from .vocabulary import COMPOUND_TYPES, KINDS, ORIGINS, K, O

RESIDENT_KINDS = tuple(k for k in KINDS if k != "courier_access")
RK = np.array([K[k] for k in RESIDENT_KINDS])

AGE_FACTOR_KINDS = ("family", "public_service", "heating")  # the rest: age_factor_other_kinds_*
PUBLIC_SERVICE_ORIGINS = ("rural_migrant", "outsider", "seasonal")


def hazard_factors(p) -> dict[str, np.ndarray]:
    """The relative hazards from their parameters (once per Params: ``derived``): by age group
    (child, young, middle, elderly; children raise nothing, the elderly fewer disputes but more
    service demands, P8) per kind; of parking, environment (vegetable plots) and heating by
    compound type (P5); of public-service demands by origin (migrants, outsiders and the
    seasonal elderly ask more about jobs, schools, health, P8)."""
    def ages(kind: str) -> np.ndarray:
        return np.array([0.0] + [getattr(p, f"age_factor_{kind}_{a}")
                                 for a in ("young", "middle", "elderly")])
    out = {f"age_{k}": ages(k) for k in (*AGE_FACTOR_KINDS, "other_kinds")}
    for kind in ("parking", "environment", "heating"):
        out[f"type_{kind}"] = np.array([getattr(p, f"{kind}_factor_{t}") for t in COMPOUND_TYPES])
    return out


def rates_per_year(model, kinds: tuple[str, ...] = RESIDENT_KINDS) -> np.ndarray:
    """Hazard per resident per year for each of ``kinds`` (resident kinds): array
    (len(kinds), N), zero for absent residents. Heating is the rate while in season.

    Per kind, rate = base × age factor × compound factor × resident factor × presence. The
    first three depend only on the resident's (compound, age group) cell, so they are
    multiplied on the few thousand cells and looked up once per resident."""
    p, d = model.p, model.district
    factors = derived(p, "hazard_factors", hazard_factors)
    n_ages = len(factors["age_other_kinds"])
    cell = d.compound * n_ages + d.age
    present = model.present.astype(np.float64)
    ctype = d.compound_type
    present_pop = np.bincount(d.compound, present, minlength=d.n_compounds)
    crowd = (present_pop / np.maximum(d.compound_pop, 1)) ** p.crowding_effect  # per compound
    by_compound = {  # the compound's relative hazard (1 where none)
        "neighbour": crowd,
        "infrastructure": (1 - d.compound_infra) / (1 - p.infrastructure_reference),
        "parking": factors["type_parking"][ctype] * crowd,
        "environment": factors["type_environment"][ctype],
        "heating": factors["type_heating"][ctype],
    }
    by_resident = {  # the resident's own relative hazard (none where absent)
        "neighbour": lambda: _neighbour_place(model),
        "property": lambda: _property_gap(model),
        "public_service": lambda: _public_service(model),
    }
    out = np.empty((len(kinds), d.n_residents))
    for row, kind in enumerate(kinds):
        age = factors[f"age_{kind if kind in AGE_FACTOR_KINDS else 'other_kinds'}"]
        compound = (getattr(p, f"rate_{kind}") * p.case_rate_scale
                    * by_compound.get(kind, 1.0) * model.root_factor[:, K[kind]])
        out[row] = np.multiply.outer(compound, age).ravel()[cell]
        if kind in by_resident:
            out[row] *= by_resident[kind]()
        out[row] *= present
    return out


def _property_gap(model) -> np.ndarray:
    """How far the service of the resident's firm (``no_firm_quality`` without one) falls
    short of the resident's expectation, relative to ``property_reference_gap`` (P4)."""
    p, d = model.p, model.district
    quality = np.where(d.compound_firm >= 0, d.firm_quality[np.maximum(d.compound_firm, 0)],
                       p.no_firm_quality)[d.compound]
    return np.maximum(0.02, d.expectation - quality) / p.property_reference_gap


def _public_service(model) -> np.ndarray:
    """Public-service demands by origin (migrants, outsiders and the seasonal elderly ask
    more, P8)."""
    p, d = model.p, model.district
    factor = np.ones(len(ORIGINS))
    for origin in PUBLIC_SERVICE_ORIGINS:
        factor[O[origin]] = getattr(p, f"public_service_factor_{origin}")
    return factor[d.origin]


def mixing_multiplier(p) -> float:
    """Share of the origin-mixing effect left: pacts and festivals (policy 3a) take part of
    it off."""
    return p.pacts_mixing_remaining if p.neighbourhood_pacts else 1.0


def _neighbour_place(model) -> np.ndarray:
    """Relative neighbour-dispute hazard per resident (crowding apart, a compound factor):
    over the network's ties (see the module docstring), or by the building's origin mix when
    ``network_disputes`` is off; times the community's activities. A model view without the
    network (staffing's expected load) falls back to the building mix."""
    p, d = model.p, model.district
    local = model.activity_factor[d.community]
    ties = getattr(model, "dispute_ties", None)
    if p.network_disputes and ties is not None:
        return local * (ties @ model.present.astype(np.float64)) / p.tie_reference_degree
    mixing = d.building_mixing[d.building] * mixing_multiplier(p)
    return (1 + p.mixing_effect * mixing) * local


class CaseSampler:
    """Cumulative hazards per kind (one row per resident kind), refreshed when presence or
    hazards change: only the rows of the kinds that changed."""

    def __init__(self, model) -> None:
        self.refresh(model)

    def refresh(self, model, kinds: tuple[str, ...] | None = None) -> None:
        """Recompute the hazards of ``kinds`` (all resident kinds when None): a firm's
        service changes only the property hazard, a ninth of the cost of all nine."""
        if kinds is None:
            self.cum = np.cumsum(rates_per_year(model), axis=1)
        else:
            rows = [RESIDENT_KINDS.index(k) for k in kinds]
            self.cum[rows] = np.cumsum(rates_per_year(model, kinds), axis=1)
        self.total = self.cum[:, -1].copy()

    def draw(self, model) -> tuple[np.ndarray, np.ndarray]:
        """Today's (residents, kinds) of new resident cases: a Poisson count per kind, then
        each case's raiser in proportion to the hazards of its kind (one search per kind
        with cases today)."""
        rng = model.rng
        counts = rng.poisson(self.total * model.season_factor()[RK] / 365.0)
        row = np.repeat(np.arange(len(RK)), counts)
        at = rng.random(len(row)) * self.total[row]
        who = np.empty(len(row), np.int64)
        end = np.cumsum(counts)
        for r in np.flatnonzero(counts).tolist():
            cases = slice(end[r] - counts[r], end[r])
            who[cases] = np.searchsorted(self.cum[r], at[cases], side="right")
        # rounding at a row's very end must not point past the last resident
        return np.minimum(who, self.cum.shape[1] - 1), RK[row]


def season_factor(p, in_season: bool) -> np.ndarray:
    """Multiplier per kind for today's season (read-only: one array per season and Params)."""
    return derived(p, "season_factors", _season_factors)[bool(in_season)]


def _season_factors(p) -> dict[bool, np.ndarray]:
    return {season: _season_factor(p, season) for season in (False, True)}


def _season_factor(p, in_season: bool) -> np.ndarray:
    f = np.ones(len(KINDS))
    f[K["heating"]] = 1.0 if in_season else 0.0
    if in_season:
        f[K["infrastructure"]] = p.winter_infrastructure_factor
    f.flags.writeable = False
    return f




def courier_draw(model) -> np.ndarray:
    """Couriers and riders raising access complaints today (F16): one draw per problem flag."""
    flags = model.couriers.problems.sum(axis=1)
    counts = model.rng.poisson(flags * model.p.courier_case_rate / 365.0)
    return np.repeat(np.arange(len(flags)), counts)

