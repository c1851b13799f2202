"""The headline measures of a run summary: key, label and display format (the command line's
KPI table, ``run.py compare`` and the HTML reports share them), with units for tables and the
range of values each measure can take (confidence intervals stay inside it)."""

from __future__ import annotations

import math
from typing import Any

# Below this population scale each street has only one or two communities: district-wide
# rates stay comparable with scale 1.0, per-street and per-community measures do not.
REPRESENTATIVE_SCALE = 0.25

KPI_ROWS = (
    ("population", "mean present residents", "{:,.0f}"),
    ("hotline_tickets_per_10k_per_year", "hotline tickets per 10,000 per year (F3: 588)", "{:.0f}"),
    ("property_share", "property share of tickets (F4: 13.3 %)", "{:.1%}"),
    ("disputes_per_1000_per_month", "disputes per 1,000 per month", "{:.2f}"),
    ("resolution_rate", "resolution rate", "{:.1%}"),
    ("mean_days_to_close", "mean days to close", "{:.2f}"),
    ("reached_community_or_higher", "share reaching the community or higher", "{:.1%}"),
    ("escalated_share", "share escalated (failed or waited too long)", "{:.1%}"),
    ("mean_satisfaction", "mean satisfaction", "{:.3f}"),
    ("mean_case_satisfaction", "mean satisfaction with closed cases", "{:.3f}"),
    ("participation_rate", "participation rate", "{:.2%}"),
    ("workload_per_worker", "cases per community worker per month", "{:.1f}"),
    ("utilisation", "staff utilisation", "{:.2f}"),
    ("runtime_seconds", "runtime (s)", "{:.1f}"),
)

# Measures that are not in the KPI table but are printed elsewhere (experiments' HEADLINE).
EXTRA_ROWS = (
    ("unsatisfied_share", "share of adults below 0.5 satisfaction", "{:.1%}"),
    ("cases_per_1000_per_month", "cases per 1,000 per month", "{:.2f}"),
    ("final_satisfaction", "satisfaction at the end of the run", "{:.3f}"),
)

UNITS = {
    "population": "residents",
    "hotline_tickets_per_10k_per_year": "tickets / 10,000 / year",
    "disputes_per_1000_per_month": "disputes / 1,000 / month",
    "cases_per_1000_per_month": "cases / 1,000 / month",
    "mean_days_to_close": "days",
    "mean_satisfaction": "0–1 scale",
    "mean_case_satisfaction": "0–1 scale",
    "final_satisfaction": "0–1 scale",
    "workload_per_worker": "cases / worker / month",
    "utilisation": "busy share of staff time",
    "runtime_seconds": "s",
}
# What each stored measure can possibly be (model/metrics.py): shares, rates of cases and the
# 0..1 satisfaction scale in [0, 1]; counts, days and rates per population at least 0.
# Utilisation is hours used over hours available, and a unit never works beyond its hours
# (model/queues.py), so it is a share too. A measure not listed here is unbounded.
UNIT_INTERVAL = (0.0, 1.0)
NON_NEGATIVE = (0.0, math.inf)
UNBOUNDED = (-math.inf, math.inf)
BOUNDS: dict[str, tuple[float, float]] = {
    **dict.fromkeys((
        "property_share", "resolution_rate", "reached_community_or_higher", "escalated_share",
        "silence_share", "supervised_share", "overdue_share", "unsatisfied_share",
        "participation_rate", "utilisation", "mean_satisfaction", "final_satisfaction",
        "mean_case_satisfaction"), UNIT_INTERVAL),
    **dict.fromkeys((
        "population", "hotline_tickets_per_10k_per_year", "disputes_per_1000_per_month",
        "cases_per_1000_per_month", "mean_days_to_close", "mean_days_to_resolve",
        "mean_days_to_handle", "carried_over_from_warmup", "discipline_referrals",
        "satisfaction_sd", "workload_per_worker", "staff", "runtime_seconds", "build_seconds",
        "worker_seconds"), NON_NEGATIVE),
}
# Which way is better for a measure: +1 higher, -1 lower (reports say "better in k of n seeds",
# the staffing search minimises the objective accordingly). Measures with no better side are
# not listed: calibration targets (hotline tickets, property share), population, run times,
# and load measures whose best value is a trade-off (workload, utilisation).
BETTER: dict[str, int] = {
    **dict.fromkeys(("resolution_rate", "mean_satisfaction", "mean_case_satisfaction",
                     "final_satisfaction"), 1),
    **dict.fromkeys(("mean_days_to_close", "mean_days_to_resolve", "mean_days_to_handle",
                     "escalated_share", "overdue_share", "unsatisfied_share",
                     "disputes_per_1000_per_month"), -1),
}
SHARE_UNIT = "% of cases"
SHARE_UNITS = {"property_share": "% of tickets", "unsatisfied_share": "% of adults",
               "participation_rate": "% of adults"}


def kpis(summary: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of a summary, flattened."""
    flat = dict(summary)
    flat["property_share"] = summary["category_shares"]["property"]
    return {key: flat[key] for key, _, _ in KPI_ROWS}


def label(key: str) -> str:
    """The label of a measure (its key when it has none)."""
    return {k: lab for k, lab, _ in (*KPI_ROWS, *EXTRA_ROWS)}.get(key, key)


def fmt(key: str) -> str | None:
    """The display format of a measure, or None when it has none."""
    return {k: f for k, _, f in (*KPI_ROWS, *EXTRA_ROWS)}.get(key)


def unit(key: str) -> str:
    """The unit of a measure for a table column ('' when unknown)."""
    if key in UNITS:
        return UNITS[key]
    if fmt(key) and "%" in fmt(key):
        return SHARE_UNITS.get(key, SHARE_UNIT)
    return ""


def better(key: str) -> int:
    """+1 when a higher value of measure ``key`` is better, -1 when lower, 0 when neither."""
    return BETTER.get(key, 0)


def bounds(key: str) -> tuple[float, float]:
    """(lowest, highest) value measure ``key`` can take; unbounded when not declared."""
    return BOUNDS.get(key, UNBOUNDED)
