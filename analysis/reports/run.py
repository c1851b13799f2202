"""Report on a single simulation run (``python run.py run``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from model import kpis, study

from .bottom import REPRESENTATIVE_SCALE, caveats
from .common import (
    FEW_REPLICATES,
    PARAM_HEADERS,
    json_or_empty,
    param_rows,
    read_json,
    run_measures,
    short,
    written,
)
from .html import Page, Raw, details, figures, measure, missing, num, para, row_of, section, table

F3_TICKETS = study.F3_TICKETS_PER_10K
F4_SHARE = study.F4_PROPERTY_SHARE

FIGURES = {
    "year.png": "the year day by day: satisfaction, disputes, open cases and hotline tickets "
                "(shaded: heating season and winter influx)",
    "communities.png": "communities compared by size: disputes, satisfaction, days to close",
    "hotline_categories.png": "12345 hotline tickets by category against F4 (property 13.3 %)",
    "winter_load.png": "cases per community worker per month, by street (shaded: the heating "
                       "season, when seasonal residents are in Longqiao; P3)",
}


def build(d: Path) -> Page:
    s = read_json(d / "summary.json")
    params = json_or_empty(d / "params.json")
    values = _values(s)
    kpi_rows = [[kpis.label(k), measure(k, values[k]), kpis.unit(k)] for k in run_measures()]
    sections = [section("Key results", table(["measure", "value", "unit"], kpi_rows,
                                             numeric_from=1)),
                section("Breakdowns", _breakdowns(s)),
                _parameters(params), section("Figures", *figures(d, FIGURES))]
    p = params.get("params", {})
    settings = [("model version", s.get("model_version")), ("scenario", s["scenario"]),
                ("seed", str(s["seed"])), ("scale", num(s["scale"])), ("days", num(s["days"])),
                ("warm-up days", num(p["warmup_days"]) if "warmup_days" in p else None),
                ("communities", num(len(s.get("by_community", [])))),
                ("community staff", num(s["staff"]) if "staff" in s else None),
                ("runtime (s)", num(s.get("runtime_seconds"))),
                ("written", written(d / "summary.json"))]
    return Page(f"Simulation run: {s['scenario']}", _reading(s), settings, sections,
                _bottom_line(s))


def _bottom_line(s: dict[str, Any]) -> list[str]:
    """What the run says on the key measures, that it is one seed, and the caveats."""
    v = _values(s)
    said = "; ".join(f"{short(k)} {measure(k, v[k])}" for k in kpis.leads() if not missing(v.get(k)))
    sentences = [f"One run of the {s['scenario']} scenario (seed {s['seed']}): {said}.",
                 "It is a single seed, so it cannot show whether another scenario or staffing "
                 f"level does better: compare at least {FEW_REPLICATES} seeds (python run.py "
                 "compare) before acting on a difference."]
    last = caveats(None, s["scale"], s["days"])
    return [*sentences, last] if last else sentences


def _values(s: dict[str, Any]) -> dict[str, Any]:
    """The run's report measures (None for one its summary.json predates)."""
    return {k: _value(s, k) for k in run_measures()}


def _value(s: dict[str, Any], key: str) -> Any:
    try:
        return kpis.value(s, key)
    except KeyError:
        return None


def _reading(s: dict[str, Any]) -> str:
    v = _values(s)

    def m(k: str) -> str:
        return measure(k, v[k])

    text = (f"The {s['scenario']} scenario (seed {s['seed']}, {s['days']} days at scale "
            f"{num(s['scale'])}, {m('population')} residents present on average): residents "
            f"raised {m('disputes_per_1000_per_month')} disputes per 1,000 per month; "
            f"{m('resolution_rate')} of closed cases were resolved, and a case took "
            f"{m('mean_days_to_close')} days on average to close ({m('escalated_share')} "
            f"escalated). Mean satisfaction was {m('mean_satisfaction')} on a 0–1 scale"
            + (f", with {m('unsatisfied_share')} of adults below 0.5. "
               if not missing(v["unsatisfied_share"]) else ". ")
            + _tickets_sentence(v["hotline_tickets_per_10k_per_year"], v["property_share"]))
    if s["days"] < 365:
        text += (f" Yearly and monthly rates are extrapolated from {s['days']} days from 1 "
                 "January (inside the heating season), so they are not directly comparable with "
                 "the study's yearly figures.")
    if s["scale"] < REPRESENTATIVE_SCALE:
        text += (f" At scale {num(s['scale'])} each street has only one or two communities: "
                 "district-wide rates are comparable with scale 1.0, per-street and "
                 f"per-community results need scale ≥ {REPRESENTATIVE_SCALE}.")
    return text + (f" This is one run (one seed), so it has no 95 % intervals: compare over at "
                   f"least {FEW_REPLICATES} replicate seeds (python run.py compare) before "
                   "concluding that scenarios differ.")


def _tickets_sentence(tickets: float | None, prop: float | None) -> str:
    if missing(tickets):
        return "No hotline tickets were recorded."
    rel = tickets / F3_TICKETS - 1
    side = "above" if rel > 0 else "below"
    within = " (within the ±10 % calibration tolerance)" if abs(rel) <= 0.10 else ""
    text = (f"The 12345 hotline received {tickets:,.0f} tickets per 10,000 residents per year, "
            f"{abs(rel):.0%} {side} the study's 588 (F3){within}")
    if missing(prop):
        return text + "."
    pts = (prop - F4_SHARE) * 100
    return (text + f"; property management made up {prop:.1%} of tickets, against 13.3 % in "
            f"the study (F4, {abs(pts):.1f} points {'more' if pts > 0 else 'fewer'}).")


def _breakdowns(s: dict[str, Any]) -> Raw:
    def shares(key: str, caption: str) -> Raw:
        items = sorted(s.get(key, {}).items(), key=lambda kv: -(kv[1] or 0))
        return table([caption.split(" by ")[-1], "share"],
                     [[k, "n/a" if missing(x) else f"{x:.1%}"] for k, x in items], caption)

    parts = [shares("category_shares", "Hotline tickets by category"),
             shares("escalation_shares", "Cases escalated by level"),
             shares("channel_shares", "First step by channel"),
             table(["origin", "satisfaction"], list(s.get("satisfaction_by_origin", {}).items()),
                   "Mean satisfaction by origin")]
    streets = [[r["street"], r["population"], r["staff"], r["staff_per_10k"]]
               for r in s.get("by_street", [])]
    if streets:
        parts.append(table(["street", "residents", "staff", "staff per 10,000"], streets,
                           "Streets"))
    return row_of(*parts)


def _parameters(params: dict[str, Any]) -> Raw:
    if not params:
        return section("Parameters", para("params.json not found: parameters unknown.", "note"))
    own = params.get("scenario_values", {})
    return section(
        "Parameters",
        table(PARAM_HEADERS, param_rows(own), "The scenario's own values (and overrides)"),
        details(f"All {len(params.get('params', {}))} parameters",
                table(PARAM_HEADERS, param_rows(params.get("params", {})))))
