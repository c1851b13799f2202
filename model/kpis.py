"""The headline measures of a run summary: key, label and display format (the command line's
KPI table, ``run.py compare`` and the HTML reports share them), with units for tables."""

from __future__ import annotations

from typing import Any

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
