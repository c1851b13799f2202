"""The one typed parameter schema shared by the model, scenario files, the CLI and sweeps.

Every parameter carries its type, default, allowed range or choices, and its source: an
F-number of the Yanzhou study (docs/source.md), a citation, or "assumption".
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

from . import study


class ParameterError(ValueError):
    """A parameter set, scenario or value that the schema refuses."""


Prior = tuple[str, float, float]
PRIOR_KINDS = ("uniform", "beta", "lognormal", "normal")  # every prior truncated to [lo, hi]
AUTO = "auto"
# The justifications of the automatic priors (``_auto_prior``): weakly informative, centred on
# the default, for parameters no source pins down.
WHY_BETA = "assumption: weakly informative, a beta with its mean at the default worth 10 cases"
WHY_LOGNORMAL = ("assumption: weakly informative, a lognormal with its median at the default "
                 "and a factor 1.65 either way at one sigma")
WHY_NORMAL = "assumption: weakly informative, a normal at the default (a utility shift)"
WHY_INT = "assumption: any whole value from half to twice the default"


def _is_input(source: str) -> bool:
    """A run setting, an option or policy lever, or a figure taken as an input (a study
    F-number alone, a census or a law): no prior, the value is given, not estimated."""
    codes = study.codes_in(source)
    return (source.startswith(("run setting", "option", "policy", "PRC ", "7th national census",
                               "CPC statistics"))
            or (codes == [source] and source.startswith("F")))


def _auto_prior(default: Any, lo: float | None, hi: float | None) -> tuple[Prior, str]:
    """A weakly informative prior centred on the default (see the WHY_* texts)."""
    if isinstance(default, int):
        a = max(lo, -(-default // 2)) if default > 0 else lo
        return ("uniform", float(a), float(min(hi, max(2 * default, a + 1)))), WHY_INT
    if lo is not None and lo >= 0.0 and hi <= 1.0:
        m = min(max(default, 0.02), 0.98)
        return ("beta", round(10 * m, 6), round(10 * (1 - m), 6)), WHY_BETA
    if default > 0.0:
        return ("lognormal", float(np.log(default)), 0.5), WHY_LOGNORMAL
    return ("normal", float(default), max(0.25, 0.5 * abs(default))), WHY_NORMAL


def _p(default: Any, source: str, doc: str, lo: float | None = None, hi: float | None = None,
       choices: tuple[str, ...] | None = None, prior: Prior | str | None = AUTO,
       prior_why: str | None = None) -> Any:
    """A schema field. ``prior`` (distribution, a, b), truncated to [lo, hi], with its one-line
    justification ``prior_why``: given, or AUTO (a weakly informative prior centred on the
    default for a behavioural number; none for switches, choices, run settings, levers and
    input figures), or None (an input, not estimated)."""
    if prior == AUTO:
        prior = None
        if (not isinstance(default, bool | str) and lo is not None
                and not _is_input(source)):
            prior, why = _auto_prior(default, lo, hi)
            prior_why = prior_why or why
    meta = {"source": source, "doc": doc, "lo": lo, "hi": hi, "choices": choices,
            "prior": prior, "prior_why": prior_why}
    return field(default=default, metadata=meta)


ALLOCATION_RULES = ("uniform", "proportional", "demand", "mix")
_ORIGINS5 = ("urban_native", "relocated", "commodity_buyer", "rural_migrant", "outsider")
_TYPES = ("old", "relocation", "commercial", "village")
# Shares that must sum to 1: parameter prefix -> the parts.
COMPOSITIONS = {
    **{f"type_mix_{s}": _TYPES for s in ("gulou", "longqiao", "jiuxianqiao")},
    **{f"origin_mix_{t}": _ORIGINS5 for t in _TYPES},
    "age_share": ("child", "young", "middle", "elderly"),
}
# Two shares of one whole (the rest goes elsewhere): their sum must not exceed 1.
SHARE_PAIRS = (("staff_weight_population", "staff_weight_demand"),
               ("professional_share", "activity_share"),
               ("courier_silence_share", "courier_grid_share"),
               ("special_courier_silence_share", "special_courier_grid_share"))


@dataclass(frozen=True, init=False)
class Params:
    """All parameters; ``Params(key=value, ...)`` validates every key and value."""

    # --- run -----------------------------------------------------------------------------
    scale: float = _p(1.0, "run setting", "population scale; 1.0 = the 244,000 urban residents",
                      lo=0.001, hi=10.0)
    days: int = _p(365, "run setting", "days to simulate; day 0 = 1 January", lo=1, hi=3650)
    warmup_days: int = _p(60, "assumption (burn-in: queues fill within about three weeks)",
                          "days simulated before 1 January and not recorded, so the year "
                          "starts with realistic backlogs", lo=0, hi=3650,
                          prior=None, prior_why="a run setting (burn-in), not behaviour")

    # --- population and district (F1, F2, F8, F10, F11, F18) -----------------------------
    urban_population: int = _p(244_000, "F2", "urban resident population at scale 1.0",
                               lo=1_000, hi=5_000_000)
    longqiao_population: int = _p(123_000, "F10", "Longqiao street residents at scale 1.0",
                                  lo=0, hi=5_000_000)
    gulou_share_of_rest: float = _p(0.55, "assumption", "share of the non-Longqiao urban "
                                    "residents living in Gulou street (rest: Jiuxianqiao)",
                                    lo=0.0, hi=1.0)
    community_size_min: int = _p(4_000, "F8", "smallest community (residents)", lo=100, hi=100_000)
    community_size_max: int = _p(16_000, "F8", "largest community (residents)", lo=100, hi=200_000)
    compound_size_mean: int = _p(1_800, "assumption", "mean residents per compound",
                                 lo=50, hi=50_000)
    households_per_building: int = _p(40, "assumption", "mean households per building",
                                      lo=2, hi=1_000)
    household_size: float = _p(2.62, "7th national census 2020, mean household size",
                               "mean residents per household", lo=1.0, hi=8.0)
    party_member_share: float = _p(0.084, "CPC statistics 2022: 96.7 M members / ~1.15 bn adults",
                                   "share of adult residents who are party members",
                                   lo=0.0, hi=1.0)
    in_unit_member_share: float = _p(0.4, "assumption", "share of party members employed by "
                                     "units who 'double report' (F19)", lo=0.0, hi=1.0)
    winter_influx: int = _p(15_000, "F11", "extra winter residents in Longqiao at scale 1.0",
                            lo=0, hi=1_000_000)
    heating_start_day: int = _p(318, "F18", "first day of the heating season (15 Nov)",
                                lo=0, hi=364)
    heating_end_day: int = _p(74, "F18", "first day after the heating season (16 Mar)",
                              lo=0, hi=364)

    # --- neighbour network -----------------------------------------------------------------
    ties_building: float = _p(4.0, "assumption", "mean ties drawn per resident in the building",
                              lo=0.0, hi=50.0)
    ties_compound: float = _p(1.5, "assumption", "mean ties drawn per resident elsewhere in "
                              "the compound", lo=0.0, hi=50.0)
    ties_cross_compound: float = _p(0.3, "assumption", "mean ties per resident drawn anywhere "
                                    "in the community, mostly in other compounds", lo=0.0, hi=10.0)
    origin_homophily: float = _p(0.6, "assumption (homophily; McPherson et al. 2001)",
                                 "probability a building or compound tie is drawn among the "
                                 "same origin", lo=0.0, hi=1.0)
    network_disputes: bool = _p(True, "assumption (P1: disputes arise between neighbours)",
                                "neighbour disputes arise on the network's non-household ties "
                                "(more where ties cross origins); off: a per-resident hazard "
                                "raised by the building's origin mix")
    tie_reference_degree: float = _p(10.3, "assumption (the mean non-household degree at the "
                                     "default ties_* settings, measured)", "non-household ties "
                                     "at which a resident's neighbour-dispute hazard is "
                                     "rate_neighbour (same-origin ties, everyone present); more "
                                     "ties, more disputes", lo=0.1, hi=500.0)
    word_of_mouth_weight: float = _p(3.0, "assumption (word of mouth; Brown & Reingen 1987)",
                                     "utility of a channel per unit of its mean recent score "
                                     "above word_of_mouth_neutral among the resident's "
                                     "neighbours", lo=0.0, hi=20.0)
    word_of_mouth_days: int = _p(180, "assumption", "days a neighbour's last closed case is "
                                 "still told about", lo=1, hi=3650)
    word_of_mouth_neutral: float = _p(0.5, "assumption (the midpoint of the 0..1 scale)",
                                      "case score that neither recommends a channel nor "
                                      "warns against it", lo=0.0, hi=1.0)
    recruitment_weight: float = _p(2.0, "assumption (recruitment through ties; Centola 2010, "
                                   "McAdam 1986)", "relative rise of the monthly volunteering "
                                   "probability when all of a resident's tie weight goes to "
                                   "last month's volunteers and party members", lo=0.0, hi=20.0)
    dissatisfied_margin: float = _p(0.15, "assumption (about one and a half baseline standard "
                                    "deviations)", "how far below the present adults' mean "
                                    "satisfaction a resident counts as dissatisfied "
                                    "(dissatisfied_share)", lo=0.0, hi=1.0)

    # --- case generation: base rates per adult resident per year (calibrated: F3, F4) ----
    case_rate_scale: float = _p(1.0, "calibrated to F3", "multiplier of all resident case "
                                "rates", lo=0.0, hi=100.0)
    rate_neighbour: float = _p(0.06, "assumption (P1)", "neighbour disputes", lo=0.0, hi=10.0)
    rate_family: float = _p(0.04, "assumption (P1)", "family disputes", lo=0.0, hi=10.0)
    rate_property: float = _p(0.05, "calibrated to F4", "property-management complaints at "
                              "a service gap of 0.3", lo=0.0, hi=10.0)
    rate_infrastructure: float = _p(0.020, "assumption (P2)", "water, power, roads, pipes in "
                                    "an average compound", lo=0.0, hi=10.0)
    rate_parking: float = _p(0.017, "assumption (P5)", "parking, fire lanes, flying-wire "
                             "charging", lo=0.0, hi=10.0)
    rate_environment: float = _p(0.018, "assumption (P5)", "green space turned to vegetable "
                                 "plots, sanitation", lo=0.0, hi=10.0)
    rate_public_service: float = _p(0.0095, "assumption (P8: jobs, schools, health care)",
                                    "public-service demands", lo=0.0, hi=10.0)
    rate_heating: float = _p(0.030, "assumption", "heating complaints per year of heating "
                             "season", lo=0.0, hi=10.0)
    rate_other: float = _p(0.011, "assumption", "other matters for district departments "
                           "(labour, consumer, traffic)", lo=0.0, hi=10.0)
    mixing_effect: float = _p(1.5, "assumption (P1)", "extra neighbour-dispute hazard at full "
                              "origin mixing in the building", lo=0.0, hi=20.0)
    crowding_effect: float = _p(1.0, "assumption (P3)", "hazard elasticity to compound "
                                "crowding (present / resident population)", lo=0.0, hi=10.0)

    # --- couriers and riders (F15, F16) -----------------------------------------------------
    couriers: int = _p(270, "F15", "couriers at scale 1.0", lo=0, hi=100_000)
    riders: int = _p(230, "F15", "delivery riders at scale 1.0", lo=0, hi=100_000)
    courier_hard_to_enter: float = _p(0.788, "F16", "share finding compounds hard to enter",
                                      lo=0.0, hi=1.0)
    courier_hard_to_park: float = _p(0.492, "F16", "share finding parking hard", lo=0.0, hi=1.0)
    courier_no_toilet: float = _p(0.339, "F16", "share finding a toilet hard", lo=0.0, hi=1.0)
    courier_patience_factor: float = _p(0.7, "assumption", "couriers' and riders' patience "
                                        "relative to residents' (they are passing through)",
                                        lo=0.01, hi=10.0)
    courier_case_rate: float = _p(1.0, "assumption", "access complaints per affected courier "
                                  "per problem per year", lo=0.0, hi=100.0)

    # --- channels ----------------------------------------------------------------------------
    hotline_propensity: float = _p(0.0, "assumption (O'Brien et al.: propensities differ)",
                                   "shift of the hotline's utility in channel choice",
                                   lo=-10.0, hi=10.0)
    silence_propensity: float = _p(0.0, "assumption (P8: elderly avoid 'causing trouble')",
                                   "shift of silence's utility in channel choice",
                                   lo=-10.0, hi=10.0)
    building_head_coverage: float = _p(0.5, "assumption (policy 1 not yet general)",
                                       "share of buildings with a building head", lo=0.0, hi=1.0)
    compound_branch_coverage: float = _p(0.4, "assumption (P11)", "share of compounds "
                                         "with a party branch", lo=0.0, hi=1.0)
    patience_days: float = _p(12.0, "assumption (Erlang-A abandonment)", "mean days a "
                              "resident waits at a tier before escalating", lo=0.5, hi=365.0)
    hotline_after_failure: float = _p(0.5, "assumption", "probability an unresolved resident "
                                      "turns to the hotline instead of giving up",
                                      lo=0.0, hi=1.0)

    # --- property firms (P4, P5; policies 2, 3b) --------------------------------------------
    fee_collection_base: float = _p(0.8, "assumption (property-fee collection in Chinese "
                                    "cities is commonly reported at 70-90 %)", "share of fees "
                                    "collected when owners are as satisfied as "
                                    "fee_reference_satisfaction", lo=0.01, hi=1.0)
    fee_reference_satisfaction: float = _p(0.65, "assumption (about the 2021 mean "
                                           "satisfaction of the baseline)", "owners' "
                                           "satisfaction at which the usual share of fees is "
                                           "collected", lo=0.0, hi=1.0)
    fee_collection_slope: float = _p(1.0, "assumption", "change of the collection rate per "
                                     "unit of owners' satisfaction above or below that level "
                                     "(0: fees do not follow satisfaction)", lo=0.0, hi=10.0)
    firm_service_response: float = _p(0.1, "assumption", "monthly share of the way a firm's "
                                      "quality moves toward what the fees collected pay for",
                                      lo=0.0, hi=1.0)
    firm_quality_cap: float = _p(0.9, "assumption", "no firm's service becomes better than "
                                 "this", lo=0.0, hi=1.0)
    firm_evaluation_months: int = _p(3, "assumption (policy 2: quarterly evaluation)",
                                     "months between the owners' evaluations of firms",
                                     lo=1, hi=24)
    good_firm_rating: float = _p(0.7, "assumption", "owners' rating (mean satisfaction of "
                                 "closed property cases) firms are held to under policy 2",
                                 lo=0.0, hi=1.0)
    firm_improvement_per_shortfall: float = _p(0.25, "assumption", "quality a firm gains per "
                                               "unit of shortfall of a published poor rating",
                                               lo=0.0, hi=5.0)
    red_property_monthly: float = _p(0.01, "assumption (policy 3b)", "quality a red-property "
                                     "branch adds each month", lo=0.0, hi=1.0)
    owners_committee_share: float = _p(0.2, "assumption (the study finds owners' committees "
                                       "rare; policy 3b builds them everywhere)", "share of "
                                       "firms whose compounds have an owners' committee",
                                       lo=0.0, hi=1.0)
    dismissal_rating: float = _p(0.5, "assumption", "owners' rating below which an owners' "
                                 "committee counts an evaluation against the firm",
                                 lo=0.0, hi=1.0)
    dismissal_evaluations: int = _p(2, "assumption", "poor evaluations in a row after which "
                                    "an owners' committee replaces the firm", lo=1, hi=40)

    # --- staff capacity (F5, F6, F7, F9) -----------------------------------------------------
    staffing_per_10k: float = _p(24.5, "F5", "community staff per 10,000 residents (all "
                                 "kinds, welfare posts included)", lo=0.0, hi=500.0)
    staff_allocation: str = _p("uniform", "F9", "uniform: 7 committee members per community "
                               "plus equal shares; proportional: by population; demand: "
                               "committee plus the rest by expected case load, winter included; "
                               "mix: committee plus the rest by the staff_weight_* blend",
                               choices=ALLOCATION_RULES)
    staff_weight_population: float = _p(0.0, "assumption (allocation search)", "with "
                                         "staff_allocation = mix: weight of population in the "
                                         "split of staff beyond the committee", lo=0.0, hi=1.0)
    staff_weight_demand: float = _p(0.0, "assumption (allocation search)", "with "
                                    "staff_allocation = mix: weight of expected case load; "
                                    "the rest of the weight is equal shares", lo=0.0, hi=1.0)
    committee_per_community: int = _p(7, "F9", "'two committees' members per community",
                                      lo=0, hi=100)
    welfare_posts_per_10k: float = _p(0.0, "F7", "public-welfare posts per 10,000 residents "
                                      "(part of staffing_per_10k)", lo=0.0, hi=500.0)
    welfare_post_skill: float = _p(0.6, "assumption (F7: new, less experienced posts)",
                                   "productivity of a welfare post relative to a full-time "
                                   "worker", lo=0.0, hi=2.0)
    work_hours_per_day: float = _p(8.0, "PRC Labour Law art. 36", "hours per working day",
                                   lo=0.0, hi=24.0)
    admin_share: float = _p(0.55, "assumption (P11: reports, inspections crowd out service)",
                            "share of staff time taken by administrative tasks",
                            lo=0.0, hi=1.0)
    admin_share_with_list: float = _p(0.35, "assumption (policy 4)", "admin share once the "
                                      "task admission list applies", lo=0.0, hi=1.0)
    grid_time_share: float = _p(0.4, "assumption", "share of community staff service time "
                                "spent in the compounds of their grid", lo=0.0, hi=1.0)
    street_staff_per_10k: float = _p(2.0, "assumption", "street-office staff per 10,000 "
                                     "residents handling hard matters", lo=0.0, hi=100.0)
    firm_staff_per_10k: float = _p(6.0, "assumption", "property-firm service staff per 10,000 "
                                   "served residents", lo=0.0, hi=200.0)
    department_hours_per_10k: float = _p(30.0, "assumption", "district-department hours per "
                                         "day per 10,000 residents for dispatched tickets",
                                         lo=0.0, hi=10_000.0)
    effort_scale: float = _p(1.0, "assumption", "multiplier of the hours every case needs "
                             "(all units)", lo=0.01, hi=100.0)
    case_time_share: float = _p(0.3, "calibrated to an assumed utilisation of 0.75",
                                "share of community staff service time spent on residents' "
                                "cases (the rest: other services, campaigns)", lo=0.001, hi=1.0)

    patrol_share: float = _p(0.3, "assumption", "share of the service time cases leave that "
                             "grid workers spend walking their grid", lo=0.0, hi=1.0)
    patrol_find_rate: float = _p(0.004, "assumption", "daily rate at which patrols find a "
                                 "recent silent problem one can see, per patrol hour a day "
                                 "per 1,000 present residents", lo=0.0, hi=10.0)
    winter_reassignment_share: float = _p(0.0, "option (P3: the winter peak in Longqiao)",
                                          "share of the other streets' full-time workers "
                                          "serving Longqiao in the heating season",
                                          lo=0.0, hi=1.0)
    seasonal_staff_per_10k_influx: float = _p(0.0, "option (P3: the winter peak in Longqiao; "
                                              "F11, F18)", "temporary community workers hired "
                                              "for Longqiao's communities for the heating "
                                              "season only, per 10,000 winter residents, placed "
                                              "by each community's winter residents",
                                              lo=0.0, hi=1_000.0)
    seasonal_staff_skill: float = _p(0.6, "assumption (temporary hires new to the community, "
                                     "as the welfare posts of F7)", "productivity of a "
                                     "seasonal worker relative to a full-time worker",
                                     lo=0.0, hi=2.0)

    # --- hotline closed loop (policy 8) -----------------------------------------------------
    closed_loop: bool = _p(True, "policy 8; State Council 2020 No. 53 (12345 follow-up)",
                           "six-step loop: receive, dispatch, handle, visit, supervise, "
                           "evaluate")
    hotline_deadline_days: int = _p(5, "assumption (common 12345 practice)",
                                    "days a unit has to handle a dispatched ticket",
                                    lo=1, hi=90)
    dispatch_days: float = _p(1.0, "assumption", "days from receiving to dispatching a ticket",
                              lo=0.0, hi=30.0)
    supervision_share: float = _p(0.6, "assumption (study: 'as appropriate')", "probability an "
                                  "unsatisfied ticket goes to supervision", lo=0.0, hi=1.0)
    supervision_rounds: int = _p(2, "assumption", "supervision rounds before discipline "
                                 "inspection", lo=0, hi=10)

    # --- satisfaction (Van Ryzin 2004; Friedkin-Johnsen) ------------------------------------
    sat_b0: float = _p(0.35, "assumption (Van Ryzin 2004 form)", "satisfaction intercept",
                       lo=-1.0, hi=1.0)
    sat_b1: float = _p(0.45, "assumption (Van Ryzin 2004 form)", "weight of performance",
                       lo=0.0, hi=2.0)
    sat_b2: float = _p(0.3, "assumption (Van Ryzin 2004 form)", "weight of disconfirmation",
                       lo=0.0, hi=2.0)
    delay_tolerance_days: float = _p(10.0, "assumption", "delay at which perceived performance "
                                     "loses half its value", lo=0.1, hi=365.0)
    case_weight: float = _p(0.4, "assumption", "weight of a closed case in the resident's "
                            "experience", lo=0.0, hi=1.0)
    susceptibility: float = _p(0.3, "assumption (Friedkin-Johnsen)", "weight of neighbours' "
                               "opinion against own experience", lo=0.0, hi=1.0)
    influence_every_days: int = _p(7, "assumption", "cadence of social influence (days)",
                                   lo=1, hi=365)
    drift_rate: float = _p(0.005, "assumption", "daily pull of experience toward living "
                           "conditions", lo=0.0, hi=1.0)
    initial_satisfaction: float = _p(0.6, "assumption", "satisfaction that average living "
                                     "conditions settle at (the 1 January start)",
                                     lo=0.0, hi=1.0)

    # --- funding (F13, F14; policy 3c) ---------------------------------------------------
    funding_per_community_yuan: float = _p(200_000.0, "F13", "yearly service funding per "
                                           "community party organisation", lo=0.0, hi=1e8)
    professional_share: float = _p(0.4, "assumption", "share of funding buying third-party "
                                   "professional services", lo=0.0, hi=1.0)
    activity_share: float = _p(0.3, "assumption", "share of funding for neighbourhood "
                               "activities", lo=0.0, hi=1.0)
    professional_hour_yuan: float = _p(150.0, "assumption", "cost of one hour of "
                                       "professional service", lo=1.0, hi=1e5)
    activity_yuan: float = _p(5_000.0, "assumption", "cost of one neighbourhood activity",
                              lo=1.0, hi=1e7)
    activity_effect: float = _p(0.05, "assumption", "relative drop of neighbour disputes and "
                                "rise of satisfaction per activity per 1,000 residents",
                                lo=0.0, hi=10.0)

    # --- budget: what a yuan buys (`run.py budget`, experiments/budget.py; F5, F13, F14) ----
    worker_yuan_per_year: float = _p(70_000.0, "assumption (pay of about 4,500 yuan a month "
                                     "plus about 30 % social insurance and housing fund; the "
                                     "study gives no figure)", "yearly cost of one full-time "
                                     "community worker", lo=1_000.0, hi=1e7)
    seasonal_worker_yuan_per_month: float = _p(3_000.0, "assumption (a temporary post near "
                                               "the local minimum wage, plus insurance; the "
                                               "study gives no figure)", "monthly cost of one "
                                               "seasonal worker", lo=100.0, hi=1e6)

    # --- participation (P8; policies 3d, 7) --------------------------------------------------
    volunteer_base: float = _p(0.02, "assumption (P8: low participation)", "monthly "
                               "probability an adult volunteers", lo=0.0, hi=1.0)
    volunteer_hours_per_month: float = _p(4.0, "assumption", "hours an active volunteer gives",
                                          lo=0.0, hi=200.0)
    volunteer_case_share: float = _p(0.1, "assumption (most volunteering is clean-ups, "
                                     "elderly care, campaigns)", "share of volunteers' and "
                                     "in-unit members' hours that helps settle cases",
                                     lo=0.0, hi=1.0)
    double_report_active: float = _p(0.3, "assumption (P11: 'registered but not seen')",
                                     "share of in-unit members who show up", lo=0.0, hi=1.0)
    double_report_active_policy: float = _p(0.8, "assumption (policy 7)", "that share once "
                                            "double reporting is made active", lo=0.0, hi=1.0)
    branch_mediation_hours: float = _p(1.0, "assumption", "hours a day a compound branch's "
                                       "members give to settling matters", lo=0.0, hi=100.0)
    head_mediation_hours: float = _p(0.05, "assumption", "hours a day a building head gives",
                                     lo=0.0, hi=24.0)
    head_recruitment_rate: float = _p(0.03, "assumption (recruitment through ties)",
                                      "monthly rate at which a compound branch finds a head "
                                      "for a head-less building, per party-member tie into "
                                      "the building per resident", lo=0.0, hi=100.0)
    head_turnover: float = _p(0.01, "assumption", "monthly probability a building head steps "
                              "down", lo=0.0, hi=1.0)
    double_report_hours_per_month: float = _p(4.0, "F19 (1 activity + 1 liaison a month)",
                                              "hours an in-unit member gives", lo=0.0, hi=200.0)

    # --- tiered ladder: resolution by unit and kind (assumption) ----------------------------------
    success_compound_neighbour: float = _p(0.6, "assumption",
        "probability a compound unit (building head, grid worker, branch) resolves a handled "
        "neighbour case",
        lo=0.0, hi=1.0)
    success_compound_family: float = _p(0.55, "assumption",
        "probability a compound unit (building head, grid worker, branch) resolves a handled family"
        " case",
        lo=0.0, hi=1.0)
    success_compound_property: float = _p(0.35, "assumption",
        "probability a compound unit (building head, grid worker, branch) resolves a handled "
        "property case",
        lo=0.0, hi=1.0)
    success_compound_infrastructure: float = _p(0.3, "assumption",
        "probability a compound unit (building head, grid worker, branch) resolves a handled "
        "infrastructure case",
        lo=0.0, hi=1.0)
    success_compound_parking: float = _p(0.35, "assumption",
        "probability a compound unit (building head, grid worker, branch) resolves a handled "
        "parking case",
        lo=0.0, hi=1.0)
    success_compound_environment: float = _p(0.35, "assumption",
        "probability a compound unit (building head, grid worker, branch) resolves a handled "
        "environment case",
        lo=0.0, hi=1.0)
    success_compound_public_service: float = _p(0.2, "assumption",
        "probability a compound unit (building head, grid worker, branch) resolves a handled "
        "public-service case",
        lo=0.0, hi=1.0)
    success_compound_heating: float = _p(0.2, "assumption",
        "probability a compound unit (building head, grid worker, branch) resolves a handled "
        "heating case",
        lo=0.0, hi=1.0)
    success_compound_courier_access: float = _p(0.35, "assumption",
        "probability a compound unit (building head, grid worker, branch) resolves a handled "
        "courier-access case",
        lo=0.0, hi=1.0)
    success_compound_other: float = _p(0.1, "assumption",
        "probability a compound unit (building head, grid worker, branch) resolves a handled other "
        "case",
        lo=0.0, hi=1.0)
    success_community_neighbour: float = _p(0.7, "assumption",
        "probability a community resolves a handled neighbour case",
        lo=0.0, hi=1.0)
    success_community_family: float = _p(0.65, "assumption",
        "probability a community resolves a handled family case",
        lo=0.0, hi=1.0)
    success_community_property: float = _p(0.55, "assumption",
        "probability a community resolves a handled property case",
        lo=0.0, hi=1.0)
    success_community_infrastructure: float = _p(0.45, "assumption",
        "probability a community resolves a handled infrastructure case",
        lo=0.0, hi=1.0)
    success_community_parking: float = _p(0.5, "assumption",
        "probability a community resolves a handled parking case",
        lo=0.0, hi=1.0)
    success_community_environment: float = _p(0.5, "assumption",
        "probability a community resolves a handled environment case",
        lo=0.0, hi=1.0)
    success_community_public_service: float = _p(0.5, "assumption",
        "probability a community resolves a handled public-service case",
        lo=0.0, hi=1.0)
    success_community_heating: float = _p(0.3, "assumption",
        "probability a community resolves a handled heating case",
        lo=0.0, hi=1.0)
    success_community_courier_access: float = _p(0.55, "assumption",
        "probability a community resolves a handled courier-access case",
        lo=0.0, hi=1.0)
    success_community_other: float = _p(0.3, "assumption",
        "probability a community resolves a handled other case",
        lo=0.0, hi=1.0)
    success_street_neighbour: float = _p(0.8, "assumption",
        "probability a street office resolves a handled neighbour case",
        lo=0.0, hi=1.0)
    success_street_family: float = _p(0.75, "assumption",
        "probability a street office resolves a handled family case",
        lo=0.0, hi=1.0)
    success_street_property: float = _p(0.7, "assumption",
        "probability a street office resolves a handled property case",
        lo=0.0, hi=1.0)
    success_street_infrastructure: float = _p(0.65, "assumption",
        "probability a street office resolves a handled infrastructure case",
        lo=0.0, hi=1.0)
    success_street_parking: float = _p(0.75, "assumption",
        "probability a street office resolves a handled parking case",
        lo=0.0, hi=1.0)
    success_street_environment: float = _p(0.75, "assumption",
        "probability a street office resolves a handled environment case",
        lo=0.0, hi=1.0)
    success_street_public_service: float = _p(0.65, "assumption",
        "probability a street office resolves a handled public-service case",
        lo=0.0, hi=1.0)
    success_street_heating: float = _p(0.5, "assumption",
        "probability a street office resolves a handled heating case",
        lo=0.0, hi=1.0)
    success_street_courier_access: float = _p(0.75, "assumption",
        "probability a street office resolves a handled courier-access case",
        lo=0.0, hi=1.0)
    success_street_other: float = _p(0.5, "assumption",
        "probability a street office resolves a handled other case",
        lo=0.0, hi=1.0)
    success_firm_neighbour: float = _p(0.3, "assumption",
        "probability a property firm resolves a handled neighbour case",
        lo=0.0, hi=1.0)
    success_firm_family: float = _p(0.3, "assumption",
        "probability a property firm resolves a handled family case",
        lo=0.0, hi=1.0)
    success_firm_infrastructure: float = _p(0.45, "assumption",
        "probability a property firm resolves a handled infrastructure case",
        lo=0.0, hi=1.0)
    success_firm_parking: float = _p(0.25, "assumption",
        "probability a property firm resolves a handled parking case",
        lo=0.0, hi=1.0)
    success_firm_environment: float = _p(0.25, "assumption",
        "probability a property firm resolves a handled environment case",
        lo=0.0, hi=1.0)
    success_firm_public_service: float = _p(0.2, "assumption",
        "probability a property firm resolves a handled public-service case",
        lo=0.0, hi=1.0)
    success_firm_heating: float = _p(0.4, "assumption",
        "probability a property firm resolves a handled heating case",
        lo=0.0, hi=1.0)
    success_firm_courier_access: float = _p(0.5, "assumption",
        "probability a property firm resolves a handled courier-access case",
        lo=0.0, hi=1.0)
    success_firm_other: float = _p(0.2, "assumption",
        "probability a property firm resolves a handled other case",
        lo=0.0, hi=1.0)
    success_department_neighbour: float = _p(0.5, "assumption",
        "probability a district department resolves a handled neighbour case",
        lo=0.0, hi=1.0)
    success_department_family: float = _p(0.5, "assumption",
        "probability a district department resolves a handled family case",
        lo=0.0, hi=1.0)
    success_department_property: float = _p(0.55, "assumption",
        "probability a district department resolves a handled property case",
        lo=0.0, hi=1.0)
    success_department_infrastructure: float = _p(0.7, "assumption",
        "probability a district department resolves a handled infrastructure case",
        lo=0.0, hi=1.0)
    success_department_parking: float = _p(0.6, "assumption",
        "probability a district department resolves a handled parking case",
        lo=0.0, hi=1.0)
    success_department_environment: float = _p(0.6, "assumption",
        "probability a district department resolves a handled environment case",
        lo=0.0, hi=1.0)
    success_department_public_service: float = _p(0.75, "assumption",
        "probability a district department resolves a handled public-service case",
        lo=0.0, hi=1.0)
    success_department_heating: float = _p(0.75, "assumption",
        "probability a district department resolves a handled heating case",
        lo=0.0, hi=1.0)
    success_department_courier_access: float = _p(0.6, "assumption",
        "probability a district department resolves a handled courier-access case",
        lo=0.0, hi=1.0)
    success_department_other: float = _p(0.75, "assumption",
        "probability a district department resolves a handled other case",
        lo=0.0, hi=1.0)
    success_supervision_neighbour: float = _p(0.8, "assumption",
        "probability the supervision team resolves a handled neighbour case",
        lo=0.0, hi=1.0)
    success_supervision_family: float = _p(0.8, "assumption",
        "probability the supervision team resolves a handled family case",
        lo=0.0, hi=1.0)
    success_supervision_property: float = _p(0.8, "assumption",
        "probability the supervision team resolves a handled property case",
        lo=0.0, hi=1.0)
    success_supervision_infrastructure: float = _p(0.8, "assumption",
        "probability the supervision team resolves a handled infrastructure case",
        lo=0.0, hi=1.0)
    success_supervision_parking: float = _p(0.8, "assumption",
        "probability the supervision team resolves a handled parking case",
        lo=0.0, hi=1.0)
    success_supervision_environment: float = _p(0.8, "assumption",
        "probability the supervision team resolves a handled environment case",
        lo=0.0, hi=1.0)
    success_supervision_public_service: float = _p(0.8, "assumption",
        "probability the supervision team resolves a handled public-service case",
        lo=0.0, hi=1.0)
    success_supervision_heating: float = _p(0.8, "assumption",
        "probability the supervision team resolves a handled heating case",
        lo=0.0, hi=1.0)
    success_supervision_courier_access: float = _p(0.8, "assumption",
        "probability the supervision team resolves a handled courier-access case",
        lo=0.0, hi=1.0)
    success_supervision_other: float = _p(0.8, "assumption",
        "probability the supervision team resolves a handled other case",
        lo=0.0, hi=1.0)
    firm_property_success_base: float = _p(0.3, "assumption",
        "probability a firm with quality 0 resolves a property case",
        lo=0.0, hi=1.0)
    firm_property_success_per_quality: float = _p(0.6, "assumption",
        "rise of that probability per unit of the firm's quality",
        lo=0.0, hi=1.0)
    success_cap: float = _p(0.98, "assumption",
        "no unit resolves a case more surely than this",
        lo=0.5, hi=1.0)
    platform_bonus_compound: float = _p(0.1, "assumption (policy 3a)",
        "resolution gain at a compound unit (building head, grid worker, branch) with "
        "three_tier_platform",
        lo=0.0, hi=1.0)
    platform_bonus_community: float = _p(0.05, "assumption (policy 3a)",
        "resolution gain at a community with three_tier_platform",
        lo=0.0, hi=1.0)
    platform_bonus_street: float = _p(0.05, "assumption (policy 3a)",
        "resolution gain at a street office with three_tier_platform",
        lo=0.0, hi=1.0)
    red_property_bonus: float = _p(0.15, "assumption (policy 3b)",
        "resolution gain of every case at a firm with red_property (firm branches)",
        lo=0.0, hi=1.0)
    grid_bonus: float = _p(0.1, "assumption (policy 5)",
        "resolution gain at compound units with grid_integration (the merged grid's call is "
        "answered)",
        lo=0.0, hi=1.0)
    step_up_compound: float = _p(0.35, "assumption",
        "without the platform: probability a failed or impatient compound case goes up to the "
        "community",
        lo=0.0, hi=1.0)
    step_up_community: float = _p(0.25, "assumption",
        "without the platform: probability a failed or impatient community case goes up to the "
        "street",
        lo=0.0, hi=1.0)
    mediated_hotline_share: float = _p(0.5, "assumption",
        "share of the usual turn to the hotline (hotline_after_failure) after a failed neighbour or"
        " family mediation",
        lo=0.0, hi=1.0)

    # --- channel choice: utilities of the multinomial logit (assumption; Epstein 2002, P8) --------
    util_silence_base: float = _p(0.2, "assumption",
        "utility of silence",
        lo=-10.0, hi=10.0)
    util_silence_elderly: float = _p(0.9, "assumption",
        "added to silence for the elderly (P8)",
        lo=-10.0, hi=10.0)
    util_silence_newcomer: float = _p(0.4, "assumption",
        "added to silence for outsiders, rural migrants and seasonal residents",
        lo=-10.0, hi=10.0)
    util_head_base: float = _p(-0.3, "assumption",
        "utility of the building head, where there is one",
        lo=-10.0, hi=10.0)
    util_head_elderly: float = _p(0.5, "assumption",
        "added to the building head for the elderly",
        lo=-10.0, hi=10.0)
    util_head_party: float = _p(0.4, "assumption",
        "added to the building head for party members",
        lo=-10.0, hi=10.0)
    util_head_department_penalty: float = _p(1.5, "assumption",
        "taken from the building head for matters of district departments",
        lo=-10.0, hi=10.0)
    util_grid_base: float = _p(-0.4, "assumption",
        "utility of the grid worker",
        lo=-10.0, hi=10.0)
    util_grid_integration: float = _p(0.6, "assumption",
        "added to the grid worker with grid_integration (policy 5)",
        lo=-10.0, hi=10.0)
    util_grid_department_penalty: float = _p(1.5, "assumption",
        "taken from the grid worker for matters of district departments",
        lo=-10.0, hi=10.0)
    util_branch_base: float = _p(-0.8, "assumption",
        "utility of the compound party branch, where there is one",
        lo=-10.0, hi=10.0)
    util_branch_party: float = _p(1.0, "assumption",
        "added to the branch for party members",
        lo=-10.0, hi=10.0)
    util_branch_department_penalty: float = _p(1.5, "assumption",
        "taken from the branch for matters of district departments",
        lo=-10.0, hi=10.0)
    util_community_base: float = _p(-0.3, "assumption",
        "utility of the community",
        lo=-10.0, hi=10.0)
    util_community_local: float = _p(0.5, "assumption",
        "added to the community for matters it can act on (not departments')",
        lo=-10.0, hi=10.0)
    util_community_young_penalty: float = _p(0.5, "assumption",
        "taken from the community for the young",
        lo=-10.0, hi=10.0)
    util_hotline_base: float = _p(-0.9, "assumption",
        "utility of the 12345 hotline (plus hotline_propensity)",
        lo=-10.0, hi=10.0)
    util_hotline_young: float = _p(0.8, "assumption",
        "added to the hotline for the young",
        lo=-10.0, hi=10.0)
    util_hotline_distrust: float = _p(2.0, "assumption",
        "added to the hotline per unit of satisfaction below util_hotline_trust_neutral",
        lo=-10.0, hi=10.0)
    util_hotline_trust_neutral: float = _p(0.6, "assumption",
        "satisfaction at which trust neither pushes toward the hotline nor away",
        lo=0.0, hi=1.0)
    util_hotline_department: float = _p(1.8, "assumption",
        "added to the hotline for matters of district departments",
        lo=-10.0, hi=10.0)
    util_hotline_property: float = _p(0.5, "assumption",
        "added to the hotline for property complaints",
        lo=-10.0, hi=10.0)
    util_hotline_enforcement: float = _p(0.3, "assumption",
        "added to the hotline for enforcement matters (parking, environment)",
        lo=-10.0, hi=10.0)
    util_hotline_mediated_penalty: float = _p(1.6, "assumption",
        "taken from the hotline for neighbour and family quarrels",
        lo=-10.0, hi=10.0)
    courier_silence_share: float = _p(0.4, "assumption",
        "share of couriers' and riders' problems left unreported (the hotline takes what neither "
        "silence nor the grid does)",
        lo=0.0, hi=1.0)
    courier_grid_share: float = _p(0.2, "assumption",
        "share of couriers' and riders' problems told to a grid worker",
        lo=0.0, hi=1.0)
    special_courier_silence_share: float = _p(0.1, "assumption (policy 6)",
        "that silence share for special grid workers",
        lo=0.0, hi=1.0)
    special_courier_grid_share: float = _p(0.7, "assumption (policy 6)",
        "that grid share for special grid workers",
        lo=0.0, hi=1.0)

    # --- case effort: staff hours a case needs (assumption; times effort_scale) -------------------
    effort_hours_neighbour: float = _p(6.0, "assumption",
        "staff hours a neighbour case needs at a community",
        lo=0.0, hi=1000.0)
    effort_hours_family: float = _p(6.0, "assumption",
        "staff hours a family case needs at a community",
        lo=0.0, hi=1000.0)
    effort_hours_property: float = _p(4.0, "assumption",
        "staff hours a property case needs at a community",
        lo=0.0, hi=1000.0)
    effort_hours_infrastructure: float = _p(5.0, "assumption",
        "staff hours a infrastructure case needs at a community",
        lo=0.0, hi=1000.0)
    effort_hours_parking: float = _p(3.0, "assumption",
        "staff hours a parking case needs at a community",
        lo=0.0, hi=1000.0)
    effort_hours_environment: float = _p(3.0, "assumption",
        "staff hours a environment case needs at a community",
        lo=0.0, hi=1000.0)
    effort_hours_public_service: float = _p(3.0, "assumption",
        "staff hours a public-service case needs at a community",
        lo=0.0, hi=1000.0)
    effort_hours_heating: float = _p(2.0, "assumption",
        "staff hours a heating case needs at a community",
        lo=0.0, hi=1000.0)
    effort_hours_courier_access: float = _p(3.0, "assumption",
        "staff hours a courier-access case needs at a community",
        lo=0.0, hi=1000.0)
    effort_hours_other: float = _p(2.0, "assumption",
        "staff hours a other case needs at a community",
        lo=0.0, hi=1000.0)
    unit_effort_compound: float = _p(0.7, "assumption (hard matters take longer)",
        "relative effort of a case at a compound unit (building head, grid worker, branch)",
        lo=0.0, hi=100.0)
    unit_effort_community: float = _p(1.0, "assumption (hard matters take longer)",
        "relative effort of a case at a community",
        lo=0.0, hi=100.0)
    unit_effort_street: float = _p(1.5, "assumption (hard matters take longer)",
        "relative effort of a case at a street office",
        lo=0.0, hi=100.0)
    unit_effort_firm: float = _p(1.0, "assumption (hard matters take longer)",
        "relative effort of a case at a property firm",
        lo=0.0, hi=100.0)
    unit_effort_department: float = _p(1.0, "assumption (hard matters take longer)",
        "relative effort of a case at a district department",
        lo=0.0, hi=100.0)
    unit_effort_supervision: float = _p(1.5, "assumption (hard matters take longer)",
        "relative effort of a case at the supervision team",
        lo=0.0, hi=100.0)

    # --- case generation: relative hazards by age, compound type and origin (assumption; P5, P8) ---
    age_factor_family_young: float = _p(1.0, "assumption (P8)",
        "relative hazard of family cases for the young (children raise nothing)",
        lo=0.0, hi=20.0)
    age_factor_family_middle: float = _p(1.2, "assumption (P8)",
        "relative hazard of family cases for the middle (children raise nothing)",
        lo=0.0, hi=20.0)
    age_factor_family_elderly: float = _p(0.8, "assumption (P8)",
        "relative hazard of family cases for the elderly (children raise nothing)",
        lo=0.0, hi=20.0)
    age_factor_public_service_young: float = _p(1.0, "assumption (P8)",
        "relative hazard of public-service cases for the young (children raise nothing)",
        lo=0.0, hi=20.0)
    age_factor_public_service_middle: float = _p(0.9, "assumption (P8)",
        "relative hazard of public-service cases for the middle (children raise nothing)",
        lo=0.0, hi=20.0)
    age_factor_public_service_elderly: float = _p(1.4, "assumption (P8)",
        "relative hazard of public-service cases for the elderly (children raise nothing)",
        lo=0.0, hi=20.0)
    age_factor_heating_young: float = _p(0.8, "assumption (P8)",
        "relative hazard of heating cases for the young (children raise nothing)",
        lo=0.0, hi=20.0)
    age_factor_heating_middle: float = _p(1.0, "assumption (P8)",
        "relative hazard of heating cases for the middle (children raise nothing)",
        lo=0.0, hi=20.0)
    age_factor_heating_elderly: float = _p(1.4, "assumption (P8)",
        "relative hazard of heating cases for the elderly (children raise nothing)",
        lo=0.0, hi=20.0)
    age_factor_other_kinds_young: float = _p(1.0, "assumption (P8)",
        "relative hazard of every other kind for the young (children raise nothing)",
        lo=0.0, hi=20.0)
    age_factor_other_kinds_middle: float = _p(1.1, "assumption (P8)",
        "relative hazard of every other kind for the middle (children raise nothing)",
        lo=0.0, hi=20.0)
    age_factor_other_kinds_elderly: float = _p(0.8, "assumption (P8)",
        "relative hazard of every other kind for the elderly (children raise nothing)",
        lo=0.0, hi=20.0)
    parking_factor_old: float = _p(1.0, "assumption (P5)",
        "relative hazard of parking cases in old compounds",
        lo=0.0, hi=20.0)
    parking_factor_relocation: float = _p(1.2, "assumption (P5)",
        "relative hazard of parking cases in relocation compounds",
        lo=0.0, hi=20.0)
    parking_factor_commercial: float = _p(1.3, "assumption (P5)",
        "relative hazard of parking cases in commercial compounds",
        lo=0.0, hi=20.0)
    parking_factor_village: float = _p(0.9, "assumption (P5)",
        "relative hazard of parking cases in village compounds",
        lo=0.0, hi=20.0)
    environment_factor_old: float = _p(1.0, "assumption (P5)",
        "relative hazard of environment cases in old compounds",
        lo=0.0, hi=20.0)
    environment_factor_relocation: float = _p(1.3, "assumption (P5)",
        "relative hazard of environment cases in relocation compounds",
        lo=0.0, hi=20.0)
    environment_factor_commercial: float = _p(0.7, "assumption (P5)",
        "relative hazard of environment cases in commercial compounds",
        lo=0.0, hi=20.0)
    environment_factor_village: float = _p(1.6, "assumption (P5)",
        "relative hazard of environment cases in village compounds",
        lo=0.0, hi=20.0)
    heating_factor_old: float = _p(1.5, "assumption (P5)",
        "relative hazard of heating cases in old compounds",
        lo=0.0, hi=20.0)
    heating_factor_relocation: float = _p(1.0, "assumption (P5)",
        "relative hazard of heating cases in relocation compounds",
        lo=0.0, hi=20.0)
    heating_factor_commercial: float = _p(0.7, "assumption (P5)",
        "relative hazard of heating cases in commercial compounds",
        lo=0.0, hi=20.0)
    heating_factor_village: float = _p(1.2, "assumption (P5)",
        "relative hazard of heating cases in village compounds",
        lo=0.0, hi=20.0)
    public_service_factor_rural_migrant: float = _p(1.5, "assumption (P8)",
        "relative hazard of public-service demands of rural migrant residents (others 1)",
        lo=0.0, hi=20.0)
    public_service_factor_outsider: float = _p(1.8, "assumption (P8)",
        "relative hazard of public-service demands of outsider residents (others 1)",
        lo=0.0, hi=20.0)
    public_service_factor_seasonal: float = _p(2.0, "assumption (P8)",
        "relative hazard of public-service demands of seasonal residents (others 1)",
        lo=0.0, hi=20.0)
    winter_infrastructure_factor: float = _p(1.3, "assumption",
        "relative hazard of infrastructure faults in the heating season (frozen pipes)",
        lo=0.0, hi=20.0)
    property_reference_gap: float = _p(0.3, "assumption",
        "expectation-quality gap at which the property hazard is rate_property",
        lo=0.01, hi=1.0)
    infrastructure_reference: float = _p(0.6, "assumption",
        "infrastructure condition at which the infrastructure hazard is rate_infrastructure",
        lo=0.0, hi=0.99)
    no_firm_quality: float = _p(0.2, "assumption",
        "service quality an unmanaged compound (no firm) feels like",
        lo=0.0, hi=1.0)

    # --- satisfaction: targets, silence and reputation (assumption) -------------------------------
    sat_silent_penalty: float = _p(0.03, "assumption",
        "experience an unvoiced grievance takes off",
        lo=0.0, hi=1.0)
    sat_infra_weight: float = _p(0.2, "assumption",
        "satisfaction target gained per unit of infrastructure condition above sat_infra_reference",
        lo=0.0, hi=5.0)
    sat_infra_reference: float = _p(0.6, "assumption",
        "infrastructure condition that leaves the satisfaction target unchanged",
        lo=0.0, hi=1.0)
    sat_gap_weight: float = _p(0.3, "assumption",
        "satisfaction target lost per unit of property-service gap above sat_typical_gap",
        lo=0.0, hi=5.0)
    sat_typical_gap: float = _p(0.2, "assumption",
        "property-service gap that leaves the target unchanged",
        lo=0.0, hi=1.0)
    sat_reputation_weight: float = _p(0.4, "assumption",
        "weight of the community's recent case scores in the target",
        lo=0.0, hi=5.0)
    sat_reputation_days: int = _p(90, "assumption",
        "days of closed cases the community's reputation counts",
        lo=1, hi=3650)
    sat_participation_bonus: float = _p(0.05, "assumption",
        "satisfaction target gained by volunteering",
        lo=0.0, hi=1.0)
    satisfaction_noise: float = _p(0.1, "assumption",
        "spread of residents' starting satisfaction around the target",
        lo=0.0, hi=1.0)
    courier_expectation: float = _p(0.5, "assumption",
        "couriers' and riders' expectation of service",
        lo=0.0, hi=1.0)

    # --- hotline loop: visits, repeat calls and accountability (assumption; policy 8) -------------
    visit_after_days: int = _p(2, "assumption",
        "days after the unit reports that the hotline calls back",
        lo=0, hi=90)
    satisfied_threshold: float = _p(0.6, "assumption",
        "case score at or above which a caller counts as satisfied",
        lo=0.0, hi=1.0)
    repeat_call: float = _p(0.3, "assumption",
        "probability an unresolved caller calls again (closed loop off)",
        lo=0.0, hi=1.0)
    max_tickets: int = _p(3, "assumption",
        "most tickets one matter gives",
        lo=1, hi=100)
    accountability_min: float = _p(0.85, "assumption",
        "lowest accountability factor on a unit's resolution",
        lo=0.0, hi=1.0)
    accountability_max: float = _p(1.1, "assumption",
        "highest accountability factor",
        lo=1.0, hi=2.0)
    accountability_slope: float = _p(0.4, "assumption",
        "accountability gained per unit of satisfied share above accountability_reference",
        lo=0.0, hi=5.0)
    accountability_reference: float = _p(0.75, "assumption",
        "satisfied share that leaves a unit's accountability at 1",
        lo=0.0, hi=1.0)
    min_visits_to_evaluate: int = _p(5, "assumption",
        "return visits a unit needs before it is evaluated",
        lo=1, hi=1000)
    stuck_after_deadlines: int = _p(3, "assumption",
        "deadlines missed after which a ticket is escalated to supervision",
        lo=1, hi=100)
    supervision_hours_per_10k: float = _p(4.0, "assumption",
        "hours a day of the district's special supervision team per 10,000 residents",
        lo=0.0, hi=1000.0)

    # --- outreach: special grid workers and secretaries (assumption; policies 6, 7) ---------------
    probe_rate: float = _p(0.003, "assumption",
        "daily detection rate of a visible silent problem per special grid worker per 10,000 "
        "residents",
        lo=0.0, hi=1.0)
    special_enrolment_share: float = _p(0.3, "assumption (policy 6)",
        "share of couriers and riders who enrol as special grid workers",
        lo=0.0, hi=1.0)
    secretary_hear_share: float = _p(0.2, "assumption (policy 7)",
        "share of recent silent cases a monthly secretary's visit hears",
        lo=0.0, hi=1.0)
    silent_lookback_days: int = _p(60, "assumption",
        "days after which a silent problem is no longer raised by outreach",
        lo=1, hi=3650)

    # --- participation: who volunteers (assumption; P8, policies 1, 3d) ---------------------------
    volunteer_age_young: float = _p(0.5, "assumption (P8: the young are busy)",
        "relative volunteering of the young (children 0)",
        lo=0.0, hi=20.0)
    volunteer_age_middle: float = _p(1.0, "assumption (P8: the young are busy)",
        "relative volunteering of the middle (children 0)",
        lo=0.0, hi=20.0)
    volunteer_age_elderly: float = _p(1.5, "assumption (P8: the young are busy)",
        "relative volunteering of the elderly (children 0)",
        lo=0.0, hi=20.0)
    volunteer_party_factor: float = _p(3.0, "assumption",
        "relative volunteering of party members",
        lo=0.0, hi=50.0)
    volunteer_five_level_factor: float = _p(1.3, "assumption (policy 1 mobilises members)",
        "further factor for party members with five_level_coverage",
        lo=0.0, hi=20.0)
    volunteer_points_factor: float = _p(1.5, "assumption (policy 3d)",
        "factor on volunteering with volunteer_points",
        lo=0.0, hi=20.0)
    volunteer_trust_slope: float = _p(1.0, "assumption (satisfied residents join more)",
        "relative rise of volunteering per unit of satisfaction above volunteer_trust_reference",
        lo=0.0, hi=20.0)
    volunteer_trust_reference: float = _p(0.6, "assumption",
        "satisfaction at which trust leaves volunteering unchanged",
        lo=0.0, hi=1.0)
    volunteer_trust_min: float = _p(0.2, "assumption",
        "lowest trust factor on volunteering",
        lo=0.0, hi=1.0)
    volunteer_trust_max: float = _p(2.0, "assumption",
        "highest trust factor on volunteering",
        lo=1.0, hi=20.0)

    # --- smart service: root treatment of recurring demands (assumption; policy 3e) ---------------
    root_window_days: int = _p(90, "assumption",
        "days of cases looked back on for a recurring pattern",
        lo=1, hi=3650)
    root_min_cases: int = _p(3, "assumption",
        "fewest cases of a kind in a compound that make a pattern",
        lo=1, hi=1000)
    root_cases_per_1000: float = _p(2.0, "assumption",
        "cases per 1,000 compound residents that make a pattern (if more than root_min_cases)",
        lo=0.0, hi=1000.0)
    root_effect: float = _p(0.4, "assumption",
        "share of the hazard a root treatment removes",
        lo=0.0, hi=1.0)
    root_floor: float = _p(0.3, "assumption",
        "lowest share of a hazard left after treatments (no kind disappears)",
        lo=0.0, hi=1.0)
    root_hours_per_treatment: float = _p(16.0, "assumption",
        "staff hours to analyse and fix one pattern",
        lo=0.0, hi=10000.0)
    root_max_office_share: float = _p(0.2, "assumption",
        "largest share of office hours root treatment takes",
        lo=0.0, hi=1.0)

    # --- funding, staff and others' effects (assumption; policy 3c) -------------------------------
    professional_boost_max: float = _p(0.2, "assumption",
        "largest gain of dispute resolution from professional services",
        lo=0.0, hi=1.0)
    professional_half_hours: float = _p(2.0, "assumption",
        "professional hours a day giving half that gain",
        lo=0.001, hi=1000.0)
    activity_satisfaction_max: float = _p(0.1, "assumption",
        "largest satisfaction gain from neighbourhood activities",
        lo=0.0, hi=1.0)
    firm_complaint_share: float = _p(0.5, "assumption",
        "share of property-firm staff time spent on complaints",
        lo=0.0, hi=1.0)
    household_tie_weight: float = _p(2.0, "assumption (kin count twice as much as neighbours)",
        "weight of a household tie (other ties 1)",
        lo=1.000001, hi=100.0)
    patience_young: float = _p(0.7, "assumption (the young escalate sooner)",
        "patience of the young relative to other adults",
        lo=0.01, hi=10.0)
    patience_elderly: float = _p(1.4, "assumption",
        "patience of the elderly relative to other adults",
        lo=0.01, hi=10.0)
    rest_point_remaining_enter: float = _p(0.4, "assumption (policy 4)",
        "share of couriers' 'enter' problems (F16) left once rest points and access passes exist",
        lo=0.0, hi=1.0)
    rest_point_remaining_park: float = _p(0.6, "assumption (policy 4)",
        "share of couriers' 'park' problems (F16) left once rest points and access passes exist",
        lo=0.0, hi=1.0)
    rest_point_remaining_toilet: float = _p(0.2, "assumption (policy 4)",
        "share of couriers' 'toilet' problems (F16) left once rest points and access passes exist",
        lo=0.0, hi=1.0)
    courier_local_share: float = _p(0.915, "F15",
        "share of couriers and riders who are locals",
        lo=0.0, hi=1.0)
    courier_aged_share: float = _p(0.813, "F15",
        "share of couriers and riders aged 30-49",
        lo=0.0, hi=1.0)
    courier_school_share: float = _p(0.75, "F15",
        "share of couriers and riders with high school or more",
        lo=0.0, hi=1.0)

    # --- district generator: compositions, expectations, conditions (assumption; P2, F4) ----------
    type_mix_gulou_old: float = _p(0.45, "assumption",
        "share of Gulou's compounds that are old (the street's four shares sum to 1)",
        lo=0.0, hi=1.0)
    type_mix_gulou_relocation: float = _p(0.3, "assumption",
        "share of Gulou's compounds that are relocation (the street's four shares sum to 1)",
        lo=0.0, hi=1.0)
    type_mix_gulou_commercial: float = _p(0.2, "assumption",
        "share of Gulou's compounds that are commercial (the street's four shares sum to 1)",
        lo=0.0, hi=1.0)
    type_mix_gulou_village: float = _p(0.05, "assumption",
        "share of Gulou's compounds that are village (the street's four shares sum to 1)",
        lo=0.0, hi=1.0)
    type_mix_longqiao_old: float = _p(0.1, "assumption",
        "share of Longqiao's compounds that are old (the street's four shares sum to 1)",
        lo=0.0, hi=1.0)
    type_mix_longqiao_relocation: float = _p(0.2, "assumption",
        "share of Longqiao's compounds that are relocation (the street's four shares sum to 1)",
        lo=0.0, hi=1.0)
    type_mix_longqiao_commercial: float = _p(0.45, "assumption",
        "share of Longqiao's compounds that are commercial (the street's four shares sum to 1)",
        lo=0.0, hi=1.0)
    type_mix_longqiao_village: float = _p(0.25, "assumption",
        "share of Longqiao's compounds that are village (the street's four shares sum to 1)",
        lo=0.0, hi=1.0)
    type_mix_jiuxianqiao_old: float = _p(0.3, "assumption",
        "share of Jiuxianqiao's compounds that are old (the street's four shares sum to 1)",
        lo=0.0, hi=1.0)
    type_mix_jiuxianqiao_relocation: float = _p(0.2, "assumption",
        "share of Jiuxianqiao's compounds that are relocation (the street's four shares sum to 1)",
        lo=0.0, hi=1.0)
    type_mix_jiuxianqiao_commercial: float = _p(0.3, "assumption",
        "share of Jiuxianqiao's compounds that are commercial (the street's four shares sum to 1)",
        lo=0.0, hi=1.0)
    type_mix_jiuxianqiao_village: float = _p(0.2, "assumption",
        "share of Jiuxianqiao's compounds that are village (the street's four shares sum to 1)",
        lo=0.0, hi=1.0)
    origin_mix_old_urban_native: float = _p(0.65, "assumption",
        "share of households in old compounds of origin urban native (the five shares sum to 1)",
        lo=0.0, hi=1.0)
    origin_mix_old_relocated: float = _p(0.05, "assumption",
        "share of households in old compounds of origin relocated (the five shares sum to 1)",
        lo=0.0, hi=1.0)
    origin_mix_old_commodity_buyer: float = _p(0.1, "assumption",
        "share of households in old compounds of origin commodity buyer (the five shares sum to 1)",
        lo=0.0, hi=1.0)
    origin_mix_old_rural_migrant: float = _p(0.1, "assumption",
        "share of households in old compounds of origin rural migrant (the five shares sum to 1)",
        lo=0.0, hi=1.0)
    origin_mix_old_outsider: float = _p(0.1, "assumption",
        "share of households in old compounds of origin outsider (the five shares sum to 1)",
        lo=0.0, hi=1.0)
    origin_mix_relocation_urban_native: float = _p(0.15, "assumption",
        "share of households in relocation compounds of origin urban native (the five shares sum to"
        " 1)",
        lo=0.0, hi=1.0)
    origin_mix_relocation_relocated: float = _p(0.6, "assumption",
        "share of households in relocation compounds of origin relocated (the five shares sum to 1)",
        lo=0.0, hi=1.0)
    origin_mix_relocation_commodity_buyer: float = _p(0.15, "assumption",
        "share of households in relocation compounds of origin commodity buyer (the five shares sum"
        " to 1)",
        lo=0.0, hi=1.0)
    origin_mix_relocation_rural_migrant: float = _p(0.05, "assumption",
        "share of households in relocation compounds of origin rural migrant (the five shares sum "
        "to 1)",
        lo=0.0, hi=1.0)
    origin_mix_relocation_outsider: float = _p(0.05, "assumption",
        "share of households in relocation compounds of origin outsider (the five shares sum to 1)",
        lo=0.0, hi=1.0)
    origin_mix_commercial_urban_native: float = _p(0.2, "assumption",
        "share of households in commercial compounds of origin urban native (the five shares sum to"
        " 1)",
        lo=0.0, hi=1.0)
    origin_mix_commercial_relocated: float = _p(0.05, "assumption",
        "share of households in commercial compounds of origin relocated (the five shares sum to 1)",
        lo=0.0, hi=1.0)
    origin_mix_commercial_commodity_buyer: float = _p(0.45, "assumption",
        "share of households in commercial compounds of origin commodity buyer (the five shares sum"
        " to 1)",
        lo=0.0, hi=1.0)
    origin_mix_commercial_rural_migrant: float = _p(0.2, "assumption",
        "share of households in commercial compounds of origin rural migrant (the five shares sum "
        "to 1)",
        lo=0.0, hi=1.0)
    origin_mix_commercial_outsider: float = _p(0.1, "assumption",
        "share of households in commercial compounds of origin outsider (the five shares sum to 1)",
        lo=0.0, hi=1.0)
    origin_mix_village_urban_native: float = _p(0.05, "assumption",
        "share of households in village compounds of origin urban native (the five shares sum to 1)",
        lo=0.0, hi=1.0)
    origin_mix_village_relocated: float = _p(0.1, "assumption",
        "share of households in village compounds of origin relocated (the five shares sum to 1)",
        lo=0.0, hi=1.0)
    origin_mix_village_commodity_buyer: float = _p(0.1, "assumption",
        "share of households in village compounds of origin commodity buyer (the five shares sum to"
        " 1)",
        lo=0.0, hi=1.0)
    origin_mix_village_rural_migrant: float = _p(0.65, "assumption",
        "share of households in village compounds of origin rural migrant (the five shares sum to "
        "1)",
        lo=0.0, hi=1.0)
    origin_mix_village_outsider: float = _p(0.1, "assumption",
        "share of households in village compounds of origin outsider (the five shares sum to 1)",
        lo=0.0, hi=1.0)
    age_share_child: float = _p(0.18, "7th national census 2020 (rounded)",
        "share of residents who are child (the four shares sum to 1)",
        lo=0.0, hi=1.0)
    age_share_young: float = _p(0.38, "7th national census 2020 (rounded)",
        "share of residents who are young (the four shares sum to 1)",
        lo=0.0, hi=1.0)
    age_share_middle: float = _p(0.305, "7th national census 2020 (rounded)",
        "share of residents who are middle (the four shares sum to 1)",
        lo=0.0, hi=1.0)
    age_share_elderly: float = _p(0.135, "7th national census 2020 (rounded)",
        "share of residents who are elderly (the four shares sum to 1)",
        lo=0.0, hi=1.0)
    expectation_urban_native: float = _p(0.55, "assumption (F4: 'expectations sometimes too high')",
        "expectation of service of urban native residents",
        lo=0.0, hi=1.0)
    expectation_relocated: float = _p(0.6, "assumption (F4: 'expectations sometimes too high')",
        "expectation of service of relocated residents",
        lo=0.0, hi=1.0)
    expectation_commodity_buyer: float = _p(0.72, "assumption (F4: 'expectations sometimes too high')",
        "expectation of service of commodity buyer residents",
        lo=0.0, hi=1.0)
    expectation_rural_migrant: float = _p(0.45, "assumption (F4: 'expectations sometimes too high')",
        "expectation of service of rural migrant residents",
        lo=0.0, hi=1.0)
    expectation_outsider: float = _p(0.5, "assumption (F4: 'expectations sometimes too high')",
        "expectation of service of outsider residents",
        lo=0.0, hi=1.0)
    expectation_seasonal: float = _p(0.4, "assumption (F4: 'expectations sometimes too high')",
        "expectation of service of seasonal residents",
        lo=0.0, hi=1.0)
    infra_condition_old: float = _p(0.35, "assumption (P2)",
        "mean infrastructure condition of old compounds (0 failing, 1 new)",
        lo=0.0, hi=1.0)
    infra_condition_relocation: float = _p(0.7, "assumption (P2)",
        "mean infrastructure condition of relocation compounds (0 failing, 1 new)",
        lo=0.0, hi=1.0)
    infra_condition_commercial: float = _p(0.85, "assumption (P2)",
        "mean infrastructure condition of commercial compounds (0 failing, 1 new)",
        lo=0.0, hi=1.0)
    infra_condition_village: float = _p(0.55, "assumption (P2)",
        "mean infrastructure condition of village compounds (0 failing, 1 new)",
        lo=0.0, hi=1.0)
    firm_quality_old: float = _p(0.35, "assumption",
        "starting service quality of a firm for old compounds",
        lo=0.0, hi=1.0)
    firm_quality_relocation: float = _p(0.45, "assumption",
        "starting service quality of a firm for relocation compounds",
        lo=0.0, hi=1.0)
    firm_quality_commercial: float = _p(0.55, "assumption",
        "starting service quality of a firm for commercial compounds",
        lo=0.0, hi=1.0)
    firm_quality_village: float = _p(0.4, "assumption",
        "starting service quality of a firm for village compounds",
        lo=0.0, hi=1.0)
    no_firm_share_old: float = _p(0.5, "assumption",
        "share of old compounds with no property firm",
        lo=0.0, hi=1.0)
    compounds_per_firm: int = _p(3, "assumption",
        "compounds of one street a property firm serves",
        lo=1, hi=1000)

    # --- policies of the study (section 4), all off in the 2021 baseline ----------------------
    five_level_coverage: bool = _p(False, "policy 1", "branch in every compound, party group "
                                   "and building head in every building")
    joint_meetings: bool = _p(False, "policy 1 (P5)", "joint meetings route enforcement "
                              "matters to the authorities instead of the property firm")
    two_evaluations: bool = _p(False, "policy 2", "residents evaluate property firms; poorly "
                               "rated firms improve")
    three_tier_platform: bool = _p(False, "policy 3a", "small matters stay in the compound, "
                                   "big in the community, hard in the street")
    neighbourhood_pacts: bool = _p(False, "policy 3a", "pacts and festivals soften disputes "
                                   "in mixed buildings")
    pacts_mixing_remaining: float = _p(0.6, "assumption (policy 3a)", "with "
                                       "neighbourhood_pacts: share of the origin-mixing effect "
                                       "on neighbour disputes that remains", lo=0.0, hi=1.0)
    red_property: bool = _p(False, "policy 3b", "party branches in property firms and owners' "
                            "committees")
    volunteer_points: bool = _p(False, "policy 3d", "volunteer-points reward scheme")
    smart_service: bool = _p(False, "policy 3e", "treat recurring shared demands at the root")
    task_admission_list: bool = _p(False, "policy 4", "admission list of tasks pushed down to "
                                   "communities")
    courier_rest_points: bool = _p(False, "policy 4 (F16)", "red-sail stations, rest points "
                                   "and compound access for couriers and riders")
    grid_integration: bool = _p(False, "policy 5", "one merged grid: 'grid calls, block responds, "
                                "department reports' (faster dispatch, grid cases settled more "
                                "often, the grid worker a more obvious channel)")
    grid_dispatch_factor: float = _p(0.5, "assumption (policy 5)", "with grid_integration: "
                                     "dispatch time as a share of dispatch_days",
                                     lo=0.0, hi=1.0)
    special_grid_workers: bool = _p(False, "policy 6 (F15)", "couriers and riders as special "
                                    "grid workers who spot unreported problems")
    double_reporting: bool = _p(False, "policy 7 (F19)", "active double reporting and monthly "
                                "people's-condition secretaries")

    def __init__(self, **values: Any) -> None:
        check_keys(values, where="Params(...)")
        for f in fields(self):
            object.__setattr__(self, f.name, _widened(f.name, plain(values.get(f.name, f.default))))
        validate(self)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_updates(self, **changes: Any) -> Params:
        """A copy with ``changes`` applied; every key and value validated."""
        check_keys(changes, where="parameters")
        return replace(self, **{k: coerce(k, v) for k, v in changes.items()})


FIELDS = {f.name: f for f in fields(Params)}
TYPES: dict[str, type] = {f.name: type(f.default) for f in fields(Params)}
# name -> (distribution, a, b) for every parameter that has a prior (read by SALib problems and
# ABC); the distribution is truncated to the parameter's allowed range.
PRIORS: dict[str, Prior] = {f.name: f.metadata["prior"] for f in fields(Params)
                            if f.metadata["prior"] is not None}


def prior_of(name: str) -> Prior | None:
    """The prior (distribution, a, b) of parameter ``name``, truncated to its allowed range, or
    None for run settings, switches, choices, policy levers and input figures."""
    if name not in FIELDS:
        check_keys({name: None}, where="prior_of")
    return PRIORS.get(name)


def sample_prior(name: str, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` draws from the prior of ``name``, truncated to its range (by rejection)."""
    kind, a, b = PRIORS[name]
    lo, hi = FIELDS[name].metadata["lo"], FIELDS[name].metadata["hi"]
    draw = {"uniform": lambda k: rng.uniform(a, b, k), "beta": lambda k: rng.beta(a, b, k),
            "lognormal": lambda k: rng.lognormal(a, b, k),
            "normal": lambda k: rng.normal(a, b, k)}[kind]
    out = np.empty(0)
    while len(out) < n:
        x = draw(max(n, 16))
        out = np.concatenate([out, x[(x >= lo) & (x <= hi)]])
    out = out[:n]
    return np.round(out) if TYPES[name] is int else out


def _groups() -> dict[str, str]:
    """Parameter -> the mechanism heading of its section (the ``# --- ... ---`` comment above
    it in this file), for ``run.py params``."""
    import re
    from pathlib import Path

    group, out = "", {}
    for line in Path(__file__).read_text(encoding="utf-8").splitlines():
        head = re.match(r"\s*# --- (.*?) -*$", line)
        if head:
            group = head.group(1)
        name = re.match(r"    (\w+): \w+ = _p\(", line)
        if name:
            out[name.group(1)] = group
    return out


GROUP_OF: dict[str, str] = _groups()


def derived(p: Params, key: str, build) -> Any:
    """``build(p)`` computed once per Params instance and kept on it (the tables the mechanisms
    index, built from their named parameters)."""
    cache = p.__dict__.get("_derived")
    if cache is None:
        cache = {}
        object.__setattr__(p, "_derived", cache)
    if key not in cache:
        cache[key] = build(p)
    return cache[key]


def describe(name: str) -> str:
    """One line: default, type, allowed values, source (with what a study code means), doc."""
    f = FIELDS[name]
    m = f.metadata
    allowed = allowed_text(name)
    cited = study.codes_in(m["source"])
    source = (study.explain(cited[0]) if [m["source"]] == cited
              else m["source"] + "".join(f" [{line}]" for line in study.glossary(m["source"])))
    prior = (f"; prior: {m['prior'][0]}({m['prior'][1]:g}, {m['prior'][2]:g}), {m['prior_why']}"
             if m["prior"] else "")
    return (f"{name} = {f.default!r} ({TYPES[name].__name__}, {allowed}; source: {source}"
            f"{prior}): {m['doc']}")


def allowed_text(name: str) -> str:
    m = FIELDS[name].metadata
    if m["choices"]:
        return "one of " + ", ".join(m["choices"])
    if TYPES[name] is bool:
        return "true or false"
    return f"{m['lo']} to {m['hi']}"


def did_you_mean(word: str, choices) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or nothing."""
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


KEY_SHOWN = 60  # longer keys are cut in messages (and get no close-match hint)


def shorten(text: str, limit: int = 120) -> str:
    """``text`` as shown in a one-line message: cut to ``limit`` characters, saying its length."""
    return text if len(text) <= limit else f"{text[:limit - 10]}…({len(text):,} characters)"


def check_keys(mapping: dict[str, Any], where: str) -> None:
    unknown = [k for k in mapping if k not in FIELDS]
    if unknown:
        k = str(unknown[0])
        hint = did_you_mean(k, FIELDS) if len(k) <= KEY_SHOWN else ""
        raise ParameterError(f"unknown parameter '{shorten(k, KEY_SHOWN)}' in {where}{hint}; "
                             f"allowed: {', '.join(FIELDS)}")


def plain(value: Any) -> Any:
    """A numpy scalar (from a pandas design, a SALib sample, ``np.array`` loops) as the Python
    scalar of the same kind, so that it is checked, stored, hashed and written exactly as
    that Python value: np.int64 -> int, np.float64 -> float, np.bool_ -> bool."""
    return value.item() if isinstance(value, np.generic) else value


def _widened(name: str, value: Any) -> Any:
    """An int given for a float parameter as that float (``Params(staffing_per_10k=18)``, as
    the command line and TOML accept 18); every other type is left for ``validate`` to judge."""
    if TYPES[name] is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def coerce(name: str, value: Any) -> Any:
    """Convert ``value`` to the type of parameter ``name`` or raise ParameterError.

    Strings (from the command line) are parsed; other values must already have the right
    type (an int is accepted for a float, an integral float for an int, nothing else is
    converted silently); numpy scalars count as the Python scalars of their kind.
    """
    kind = TYPES[name]
    bad = ParameterError(f"parameter '{name}': {value!r} is not a valid {kind.__name__} "
                         f"(allowed: {allowed_text(name)})")
    value = plain(value)
    if isinstance(value, str) and kind is not str:
        text = value.strip().lower()
        if kind is bool:
            if text in ("true", "1", "yes", "on"):
                return True
            if text in ("false", "0", "no", "off"):
                return False
            raise bad
        try:
            number = float(text)
        except ValueError:
            raise bad from None
        if kind is float:
            return number
        if not number.is_integer():  # "20" and "20.0" (as SALib writes) are 20; "20.5" is not
            raise bad
        return int(number)
    if kind is bool:
        if not isinstance(value, bool):
            raise bad
        return value
    if isinstance(value, bool):
        raise bad
    if kind is float and isinstance(value, int | float):
        return float(value)
    if kind is int and isinstance(value, int):
        return value
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind is str and isinstance(value, str):
        return value
    raise bad


def validate(p: Params) -> None:
    for name in FIELDS:
        check_allowed(name, getattr(p, name))
    _cross_checks(p)


def check_allowed(name: str, value: Any) -> None:
    """Refuse a value of the wrong type, not among the choices or outside the range."""
    m = FIELDS[name].metadata
    if not isinstance(value, TYPES[name]) or (TYPES[name] is not bool and isinstance(value, bool)):
        raise ParameterError(f"parameter '{name}': {value!r} has type "
                             f"{type(value).__name__}, expected {TYPES[name].__name__}")
    if m["choices"] and value not in m["choices"]:
        hint = did_you_mean(value, m["choices"])
        raise ParameterError(f"parameter '{name}': {value!r} is not allowed{hint}; "
                             f"allowed: {allowed_text(name)}")
    if m["lo"] is not None and not (m["lo"] <= value <= m["hi"]):
        raise ParameterError(f"parameter '{name}': {value!r} is out of range; "
                             f"allowed: {allowed_text(name)}")


def checked(name: str, value: Any, where: str = "parameters") -> Any:
    """``value`` (text or a number) as parameter ``name``, refused at once if it is not
    allowed on its own (the cross-field checks need the whole set: ``Params``)."""
    check_keys({name: value}, where=where)
    typed = coerce(name, value)
    check_allowed(name, typed)
    return typed


def _cross_checks(p: Params) -> None:
    for a, b in (("community_size_min", "community_size_max"),
                 ("longqiao_population", "urban_population"),
                 ("welfare_posts_per_10k", "staffing_per_10k"),
                 ("accountability_min", "accountability_max"),
                 ("volunteer_trust_min", "volunteer_trust_max")):
        if getattr(p, a) > getattr(p, b):
            raise ParameterError(f"parameter '{a}' ({getattr(p, a)}) must not exceed '{b}' "
                                 f"({getattr(p, b)})")
    for a, b in SHARE_PAIRS:
        if getattr(p, a) + getattr(p, b) > 1.0 + 1e-9:
            raise ParameterError(f"parameters '{a}' + '{b}' ({getattr(p, a)} + {getattr(p, b)}) "
                                 "must not exceed 1")
    for prefix, parts in COMPOSITIONS.items():
        total = sum(getattr(p, f"{prefix}_{x}") for x in parts)
        if abs(total - 1.0) > 1e-6:
            raise ParameterError(f"parameters '{prefix}_*' ({', '.join(parts)}) must sum to 1, "
                                 f"not {total:g}")
    if p.heating_start_day <= p.heating_end_day:
        raise ParameterError(f"parameter 'heating_start_day' ({p.heating_start_day}) must come "
                             f"after 'heating_end_day' ({p.heating_end_day}): the season spans "
                             "the new year")
    if round(p.urban_population * p.scale) < 100:
        raise ParameterError(f"parameter 'scale' ({p.scale}) leaves fewer than 100 residents; "
                             "allowed: a scale giving at least 100 residents")


def make_params(values: dict[str, Any] | None = None) -> Params:
    """Build Params from a mapping of (possibly string) values, validating every key."""
    values = dict(values or {})
    check_keys(values, where="parameters")
    return Params(**{k: coerce(k, v) for k, v in values.items()})

