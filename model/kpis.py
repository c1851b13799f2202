"""The measure registry: every output measure of a run, declared once — key, label, unit,
display format, the values it can take, which way is better, where it is shown (the KPI
table, the headline of experiments, the staffing objectives, the bottom line of reports) and,
for a measure added without touching ``model/metrics.py``, how it is computed.

Everything that names measures reads :data:`MEASURES`: summary.json (``metrics.summarise``
adds the measures that carry a ``compute``), the command line's KPI table and ``--objective``,
``experiments.runner.measure_names`` (the outputs a sensitivity problem may name),
``experiments.aggregate`` (which columns are aggregated, the headline, bounds of intervals),
the staffing objectives, sweep and report figures, and the report tables and sentences.
docs/experiments.md, "Adding a measure", says how to add one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .study import F3_TICKETS_PER_10K, F4_PROPERTY_SHARE
from .vocabulary import CHANNELS, DISPUTE_KINDS, KINDS, LEVELS, ORIGINS, STATES

# Below this population scale each street has only one or two communities: district-wide
# rates stay comparable with scale 1.0, per-street and per-community measures do not.
REPRESENTATIVE_SCALE = 0.25

# What a measure can possibly be (model/metrics.py): shares, rates of cases and the 0..1
# satisfaction scale in [0, 1]; counts, days and rates per population at least 0.
# Utilisation is hours used over hours available, and a unit never works beyond its hours
# (model/queues.py), so it is a share too.
UNIT_INTERVAL = (0.0, 1.0)
NON_NEGATIVE = (0.0, math.inf)
UNBOUNDED = (-math.inf, math.inf)
PERCENT_FORMAT = re.compile(r"\{:\.(\d+)%\}")

Compute = Callable[[Any, dict[str, Any]], "float | None"]


@dataclass(frozen=True)
class Measure:
    """One output measure. ``better`` is +1 when higher is better, -1 when lower, 0 when
    neither (calibration targets, population, run times, load measures whose best value is a
    trade-off): reports say "better in k of n seeds" by it and the staffing search minimises
    ``-better × value``, so an ``objective`` needs a direction."""

    key: str
    label: str
    unit: str = ""
    fmt: str | None = None
    bounds: tuple[float, float] = UNBOUNDED
    better: int = 0
    headline: bool = False   # printed and plotted by default by sweeps, staffing and reports
    kpi_row: bool = False    # a row of the KPI table (`run`, `compare`)
    objective: bool = False  # may be optimised by `staffing --objective`
    # place in a report's bottom line (1 first; 0: not there): what a policymaker funds staff
    # for — speed, success, satisfaction and conflict
    lead: int = 0
    target: tuple[str, float] | None = None  # (study code, value) the model is compared with
    timing: bool = False     # a wall time, not a model result: not aggregated, not an output
    same_as: str | None = None   # repeats another measure under a headline name
    family: str | None = None    # the summary dict it is a member of (``category_shares``)
    compute: Compute | None = None   # (model, summary so far) -> value; None: metrics.py does
    doc: str = ""

    def __post_init__(self) -> None:
        if self.objective and not self.better:
            raise ValueError(f"measure {self.key}: an objective needs a better direction")
        if self.compute and (self.family or self.same_as):
            raise ValueError(f"measure {self.key}: only a top-level measure has a compute")


def family(prefix: str, subs: Iterable[str], label: str, unit: str, fmt: str,
           bounds: tuple[float, float], doc: str, **flags: Any) -> tuple[Measure, ...]:
    """The members of a summary dict ``prefix`` (``prefix.sub`` for each of ``subs``, names
    from model/vocabulary.py); ``label`` has one ``{}`` for the member's name; ``flags``
    (``better``, ``headline``, ...) hold for every member."""
    return tuple(Measure(f"{prefix}.{sub}", label.format(sub.replace("_", " ")), unit, fmt,
                         bounds, family=prefix, doc=doc, **flags) for sub in subs)


SHARE, DAYS, SCALE = "% of cases", "days", "0–1 scale"
PER_1000 = "disputes / 1,000 / month"

MEASURES: tuple[Measure, ...] = (
    Measure("population", "mean present residents", "residents", "{:,.0f}", NON_NEGATIVE,
            kpi_row=True, doc="residents present, mean over the days"),
    Measure("hotline_tickets_per_10k_per_year", "hotline tickets per 10,000 per year",
            "tickets / 10,000 / year", "{:.0f}", NON_NEGATIVE, headline=True, kpi_row=True,
            target=("F3", F3_TICKETS_PER_10K), doc="12345 hotline tickets per present resident"),
    Measure("property_share", "property share of tickets", "% of tickets", "{:.1%}",
            UNIT_INTERVAL, headline=True, kpi_row=True, target=("F4", F4_PROPERTY_SHARE),
            same_as="category_shares.property", doc="the F4 headline of category_shares"),
    *family("category_shares", KINDS, "share of hotline tickets about {}", "% of tickets",
            "{:.1%}", UNIT_INTERVAL, "hotline tickets by kind over all tickets"),
    Measure("disputes_per_1000_per_month", "disputes per 1,000 per month", PER_1000, "{:.2f}",
            NON_NEGATIVE, better=-1, headline=True, kpi_row=True, objective=True, lead=4,
            doc="new disputes (DISPUTE_KINDS) raised in the run"),
    Measure("cases_per_1000_per_month", "cases per 1,000 per month", "cases / 1,000 / month",
            "{:.2f}", NON_NEGATIVE, doc="new cases of every kind raised in the run"),
    *family("disputes_by_kind_per_1000_per_month", DISPUTE_KINDS,
            "{} disputes per 1,000 per month", PER_1000, "{:.2f}", NON_NEGATIVE,
            "new disputes of each kind"),
    *family("settled_shares", LEVELS, "share of resolved cases settled at the {} level",
            "% of resolved cases", "{:.1%}", UNIT_INTERVAL,
            "where closed and resolved cases were settled"),
    Measure("resolution_rate", "resolution rate", SHARE, "{:.1%}", UNIT_INTERVAL, better=1,
            headline=True, kpi_row=True, objective=True, lead=2,
            doc="reported cases closed in the run that were resolved"),
    Measure("mean_days_to_close", "mean days to close", DAYS, "{:.2f}", NON_NEGATIVE, better=-1,
            headline=True, kpi_row=True, objective=True, lead=1,
            doc="raised to closed, over reported cases closed in the run"),
    Measure("mean_days_to_resolve", "mean days to resolve", DAYS, "{:.2f}", NON_NEGATIVE,
            better=-1, doc="raised to closed, over the resolved ones"),
    Measure("mean_days_to_handle", "mean days to the last handling", DAYS, "{:.2f}",
            NON_NEGATIVE, better=-1,
            doc="raised to last handled, over closed cases handled at least once"),
    # What mean days to close hide under overload: residents give up, and a case given up
    # closes fast, often before any unit worked on it (docs/ODD.md 4.11).
    Measure("abandoned_share", "share of closed cases given up by the resident", SHARE,
            "{:.1%}", UNIT_INTERVAL, better=-1, headline=True, kpi_row=True, objective=True,
            doc="reported cases closed in the run because the resident gave up: after a "
                "failure or a wait beyond their patience on the ladder, or a failed or stuck "
                "ticket not called again without the closed loop"),
    Measure("never_handled_share", "share of closed cases never handled", SHARE, "{:.1%}",
            UNIT_INTERVAL, better=-1, headline=True, kpi_row=True, objective=True,
            doc="reported cases closed in the run that no unit ever finished work on"),
    *family("wait_before_handling_mean", LEVELS, "mean wait before first handling at the {} tier",
            DAYS, "{:.2f}", NON_NEGATIVE, "raised to first handled, over the cases first "
            "handled in the run, by the tier that first handled them", better=-1,
            headline=True, kpi_row=True),
    *family("wait_before_handling_p90", LEVELS,
            "90th percentile of the wait before first handling at the {} tier", DAYS, "{:.1f}",
            NON_NEGATIVE, "the 90th percentile of the same waits", better=-1, headline=True,
            kpi_row=True),
    Measure("backlog_at_year_end", "cases open at the end of the run", "cases", "{:,.0f}",
            NON_NEGATIVE, better=-1, kpi_row=True,
            doc="queued or awaiting a follow-up visit on the last day"),
    Measure("reached_community_or_higher", "share reaching the community or higher", SHARE,
            "{:.1%}", UNIT_INTERVAL, kpi_row=True, doc="reported cases above the compound"),
    Measure("escalated_share", "share escalated (failed or waited too long)", SHARE, "{:.1%}",
            UNIT_INTERVAL, better=-1, headline=True, kpi_row=True, objective=True,
            doc="reported cases escalated at least once"),
    *family("escalation_shares", LEVELS, "share of reported cases reaching the {} level",
            SHARE, "{:.1%}", UNIT_INTERVAL, "reported cases that reached each level"),
    Measure("silence_share", "share of new cases kept silent", SHARE, "{:.1%}", UNIT_INTERVAL,
            doc="new cases never reported"),
    *family("channel_shares", CHANNELS, "share of new cases by channel: {}", SHARE, "{:.1%}",
            UNIT_INTERVAL, "new cases by the channel they were raised through"),
    Measure("carried_over_from_warmup", "cases carried over from the warm-up", "cases",
            "{:,.0f}", NON_NEGATIVE, doc="open on 1 January, raised in the warm-up"),
    Measure("supervised_share", "share of district-loop cases supervised", SHARE, "{:.1%}",
            UNIT_INTERVAL, doc="of the cases in the hotline loop during the run"),
    Measure("overdue_share", "share of district-loop cases overdue", SHARE, "{:.1%}",
            UNIT_INTERVAL, better=-1, doc="of the cases in the hotline loop during the run"),
    Measure("discipline_referrals", "discipline referrals", "cases", "{:,.0f}", NON_NEGATIVE,
            doc="cases the run referred to discipline inspection"),
    Measure("mean_satisfaction", "mean satisfaction", SCALE, "{:.3f}", UNIT_INTERVAL, better=1,
            headline=True, kpi_row=True, objective=True, lead=3,
            doc="adults' satisfaction, mean over the days"),
    Measure("mean_case_satisfaction", "mean satisfaction with closed cases", SCALE, "{:.3f}",
            UNIT_INTERVAL, better=1, kpi_row=True, objective=True,
            doc="satisfaction of the raisers of cases closed in the run"),
    Measure("final_satisfaction", "satisfaction at the end of the run", SCALE, "{:.3f}",
            UNIT_INTERVAL, better=1, doc="adults' mean satisfaction on the last day"),
    Measure("unsatisfied_share", "share of adults below 0.5 satisfaction", "% of adults",
            "{:.1%}", UNIT_INTERVAL, better=-1, headline=True, objective=True,
            doc="present adults below the neutral point on the last day"),
    Measure("satisfaction_sd", "spread of satisfaction (sd)", SCALE, "{:.3f}", NON_NEGATIVE,
            doc="standard deviation over present adults on the last day"),
    # What social influence changes (model/satisfaction.py): averaging over neighbours keeps
    # the mean and pulls the tail of unhappy residents in. Measured from the mean, not from a
    # fixed level, so that it reads the spread whatever the level (unsatisfied_share does).
    Measure("dissatisfied_share", "share of adults well below the mean satisfaction",
            "% of adults", "{:.1%}", UNIT_INTERVAL, better=-1,
            compute=lambda model, summary: _dissatisfied_share(model),
            doc="present adults more than dissatisfied_margin below the present adults' "
                "mean satisfaction on the last day"),
    *family("satisfaction_by_origin", ORIGINS, "mean satisfaction of {} residents", SCALE,
            "{:.3f}", UNIT_INTERVAL, "adults' satisfaction by origin, mean over snapshots"),
    Measure("participation_rate", "participation rate", "% of adults", "{:.2%}", UNIT_INTERVAL,
            kpi_row=True, doc="adults taking part, mean over snapshots"),
    Measure("workload_per_worker", "cases per community worker per month",
            "cases / worker / month", "{:.1f}", NON_NEGATIVE, headline=True, kpi_row=True,
            doc="cases entering community staff queues per staff member"),
    Measure("utilisation", "staff utilisation", "busy share of staff time", "{:.2f}",
            UNIT_INTERVAL, headline=True, kpi_row=True, doc="hours used over hours available"),
    Measure("staff", "community staff", "staff", "{:,.0f}", NON_NEGATIVE,
            doc="community staff in the district"),
    Measure("longqiao_winter_days_to_close", "mean days to close in Longqiao's winter", DAYS,
            "{:.2f}", NON_NEGATIVE, better=-1,
            compute=lambda model, _: _metrics().longqiao_winter_days_to_close(model),
            doc="reported Longqiao cases raised in the heating season (P3's peak)"),
    Measure("patrol_finds_per_10k_per_year", "silent problems found by grid patrols",
            "problems / 10,000 / year", "{:.0f}", NON_NEGATIVE,
            compute=lambda model, s: _per_10k_per_year(model, s, model.grid.found),
            doc="problems residents kept silent about, brought to the ladder by patrols"),
    Measure("fee_collection_rate", "property-fee collection rate", "% of fees due", "{:.1%}",
            UNIT_INTERVAL, better=1,
            compute=lambda model, _: _property_service().collection_rate(model),
            doc="the firms' collection rates of the last month, weighted by residents served"),
    Measure("firms_replaced", "firms replaced by owners' committees", "firms", "{:,.0f}",
            NON_NEGATIVE, compute=lambda model, _: _property_service().firms_replaced(model),
            doc="dismissals after poor evaluations, in the warm-up and the run"),
    Measure("buildings_with_head", "share of buildings with a head", "% of buildings",
            "{:.1%}", UNIT_INTERVAL, better=1,
            compute=lambda model, _: float(model.district.building_has_head.mean()),
            doc="on the last day; compound branches recruit heads, heads step down"),
    *family("case_states", STATES, "cases {} at the end", "cases", "{:,.0f}", NON_NEGATIVE,
            "cases the run saw, by their state at its end"),
    Measure("build_seconds", "build time (s)", "s", "{:.1f}", NON_NEGATIVE, timing=True,
            doc="wall time to build the model"),
    Measure("runtime_seconds", "runtime (s)", "s", "{:.1f}", NON_NEGATIVE, kpi_row=True,
            timing=True, doc="wall time to build and run the model"),
)


def _metrics():  # imported when computing: model.metrics imports this module
    from . import metrics

    return metrics


def _property_service():
    from . import property_service

    return property_service


def _per_10k_per_year(model: Any, summary: dict[str, Any], count: int) -> float:
    days = len(model.daily.new_cases)
    return count / max(summary["population"], 1) * 10_000 * 365 / max(days, 1)


def _dissatisfied_share(model: Any) -> float:
    sat = model.satisfaction[model.present_adults()]
    return float(np.mean(sat < sat.mean() - model.p.dissatisfied_margin)) if len(sat) else 0.0


def declared(key: str) -> Measure | None:
    """The declaration of measure ``key`` (None when there is none). Read at each call, not
    at import, so that a measure added to MEASURES is seen everywhere (tests add one)."""
    return next((m for m in MEASURES if m.key == key), None)


def keys(where: Callable[[Measure], Any]) -> tuple[str, ...]:
    """The keys of the measures for which ``where`` is true, in declaration order."""
    return tuple(m.key for m in MEASURES if where(m))


def kpi_keys() -> tuple[str, ...]:
    """The rows of the KPI table."""
    return keys(lambda m: m.kpi_row)


def headline() -> tuple[str, ...]:
    """The measures experiments print and plot by default."""
    return keys(lambda m: m.headline)


def objectives() -> tuple[str, ...]:
    """What `staffing --objective` may optimise."""
    return keys(lambda m: m.objective)


def leads() -> tuple[str, ...]:
    """What a report's bottom line leads with, in its order."""
    return tuple(m.key for m in sorted((m for m in MEASURES if m.lead), key=lambda m: m.lead))


def value(summary: dict[str, Any], key: str) -> Any:
    """Measure ``key`` of a summary: top level, a family member or a repeated one."""
    m = declared(key)
    key = (m.same_as or key) if m else key
    prefix, _, sub = key.partition(".")
    return summary[prefix][sub] if sub else summary[key]


def computed(model: Any, summary: dict[str, Any]) -> dict[str, Any]:
    """The measures declared with a ``compute``, for ``metrics.summarise`` to add."""
    out: dict[str, Any] = {}
    for m in MEASURES:
        if m.compute:
            out[m.key] = m.compute(model, {**summary, **out})
    return out


def kpis(summary: dict[str, Any]) -> dict[str, Any]:
    """The KPI table's numbers of a summary, flattened."""
    return {key: value(summary, key) for key in kpi_keys()}


def label(key: str) -> str:
    """The label of a measure, with the study figure it is compared with (its key when it
    is not declared)."""
    m = declared(key)
    if m is None:
        return key
    return f"{m.label} ({m.target[0]}: {_target_text(m)})" if m.target else m.label


def _target_text(m: Measure) -> str:
    """A target value in the measure's format, per cent with a space ('13.3 %')."""
    pct = PERCENT_FORMAT.fullmatch(m.fmt or "")
    return f"{m.target[1] * 100:.{pct.group(1)}f} %" if pct else (m.fmt or "{}").format(m.target[1])


def fmt(key: str) -> str | None:
    """The display format of a measure, or None when it is not declared."""
    m = declared(key)
    return m.fmt if m else None


def unit(key: str) -> str:
    """The unit of a measure for a table column ('' when it is not declared)."""
    m = declared(key)
    return m.unit if m else ""


def better(key: str) -> int:
    """+1 when a higher value of measure ``key`` is better, -1 when lower, 0 when neither."""
    m = declared(key)
    return m.better if m else 0


def bounds(key: str) -> tuple[float, float]:
    """(lowest, highest) value measure ``key`` can take; unbounded when not declared."""
    m = declared(key)
    return m.bounds if m else UNBOUNDED
