"""Reports (报告): any output directory of the tool as one self-contained HTML file — a reading
of the main results written from the numbers, the run settings, the parameters, the key tables
and every figure embedded, with inline CSS only (nothing fetched from elsewhere), readable on
screen and printable.

    python run.py report DIR [--out FILE]      # default DIR/report.html

The kind of directory is recognised by its files, in the order of ``KINDS`` (a staffing
directory also holds sweep files, so it is tested first).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.aggregate import HEADLINE, mean_ci
from experiments.executors import ExperimentError
from experiments.staffing_allocation import OBJECTIVES
from experiments.store import atomic_write
from model import kpis
from model.params import FIELDS, ParameterError

from .report_html import (
    Page,
    Raw,
    ci_cell,
    ci_text,
    details,
    esc,
    figures,
    frame_table,
    measure,
    missing,
    num,
    para,
    pm_cell,
    render,
    row_of,
    section,
    table,
)

F3_TICKETS = 588.0   # F3: hotline tickets per 10,000 residents per year
F4_SHARE = 0.133     # F4: property-management share of hotline tickets
REPRESENTATIVE_SCALE = 0.25
FEW_REPLICATES = 5   # below this, intervals are wide (docs/experiments.md)
NOISE_WARNING = 0.2  # seed-noise share of an output's variance worth a warning
RUN_MEASURES = (*(k for k, _, _ in kpis.KPI_ROWS if k != "runtime_seconds"), "unsatisfied_share")


@dataclass(frozen=True)
class Kind:
    name: str
    files: tuple[str, ...]   # all must exist
    command: str


KINDS = (
    Kind("sensitivity", ("indices.csv",), "python run.py sensitivity"),
    Kind("staffing", ("staffing.csv",), "python run.py staffing"),
    Kind("sweep", ("manifest.json", "aggregate.csv"), "python run.py sweep"),
    Kind("compare", ("compare.csv",), "python run.py compare"),
    Kind("run", ("summary.json",), "python run.py run"),
)


def recognised() -> str:
    """The kinds of directory and the files that identify them, for messages."""
    return "; ".join(f"{k.name} ({' + '.join(k.files)}, from `{k.command}`)" for k in KINDS)


def detect(directory: str | Path) -> str:
    """The kind of output directory; ParameterError if it does not exist or is not one."""
    d = Path(directory)
    if not d.exists():
        raise ParameterError(f"'{d}' does not exist; give an output directory of the tool. "
                             f"Recognised: {recognised()}")
    if not d.is_dir():
        raise ParameterError(f"'{d}' is not a directory. Recognised: {recognised()}")
    for kind in KINDS:
        if all((d / f).is_file() for f in kind.files):
            return kind.name
    raise ParameterError(f"'{d}' is not a recognised output directory (none of the identifying "
                         f"files found). Recognised: {recognised()}")


def build_report(directory: str | Path) -> str:
    """The HTML text of the report on ``directory``."""
    d = Path(directory)
    kind = detect(d)
    try:
        page = BUILDERS[kind](d)
    except (KeyError, ValueError, OSError) as e:
        if isinstance(e, ParameterError):
            raise
        raise ParameterError(f"cannot read the {kind} directory '{d}': "
                             f"{type(e).__name__}: {e}") from e
    return render(page, str(d.resolve()), datetime.now().isoformat(timespec="seconds"))


def write_report(directory: str | Path, out: str | Path | None = None) -> Path:
    """Write the report on ``directory`` to ``out`` (default ``directory/report.html``)
    atomically; returns the path written."""
    text = build_report(directory)
    path = Path(out) if out is not None else Path(directory) / "report.html"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    except OSError as e:
        raise ExperimentError(f"cannot write {path}: {e.strerror or e}; "
                              "choose another file with --out") from e
    return path


# --- shared helpers -----------------------------------------------------------------------------

def _json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _written(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime).isoformat(timespec="seconds")


def _label(key: str) -> str:
    return kpis.label(key)


def short(key: str) -> str:
    """A measure's label for running text: without its parenthesis ('(F3: 588)')."""
    return re.sub(r" \(.*\)$", "", kpis.label(key))


def _param_rows(values: dict[str, Any]) -> list[list[Any]]:
    """(parameter, value, default, source) rows; unknown names keep empty columns."""
    rows = []
    for name, value in values.items():
        f = FIELDS.get(name)
        default = "" if f is None else _value(f.default)
        source = "" if f is None else str(f.metadata.get("source", ""))
        rows.append([name, _value(value), default, source])
    return rows


def _value(v: Any) -> str:
    """A parameter value: up to 6 significant digits (parameters are inputs, shown as set)."""
    if isinstance(v, list | tuple):
        return ", ".join(_value(x) for x in v)
    if isinstance(v, float | np.floating) and not missing(v) and not float(v).is_integer():
        return f"{v:,.6g}"
    return v if isinstance(v, str) else num(v)


PARAM_HEADERS = ("parameter", "value", "default", "source")


def _measures(columns: Any, wanted: tuple[str, ...] = HEADLINE) -> list[str]:
    """The measures of ``wanted`` that an aggregate-like table holds."""
    return [m for m in wanted if f"{m}_mean" in columns]


def _ci_table(agg: pd.DataFrame, names: list[str], measures: list[str], caption: str) -> Raw:
    """Measures as rows (label, unit), one column per parameter set: mean and [95 % CI]."""
    rows = [[_label(m), kpis.unit(m),
             *(ci_cell(m, r[f"{m}_mean"], r[f"{m}_ci_low"], r[f"{m}_ci_high"])
               for _, r in agg.iterrows())] for m in measures]
    return table(["measure", "unit", *names], rows, caption, numeric_from=2)


def _ci_long_table(agg: pd.DataFrame, ids: list[str], measures: list[str], caption: str) -> Raw:
    """One row per parameter set (for many sets): its parameters, runs, then mean [CI]."""
    headers = [*ids, "runs", *(f"{_label(m)}" for m in measures)]
    rows = [[*(r[i] for i in ids), r["runs"],
             *(ci_cell(m, r[f"{m}_mean"], r[f"{m}_ci_low"], r[f"{m}_ci_high"]) for m in measures)]
            for _, r in agg.iterrows()]
    return table(headers, rows, caption, numeric_from=len(ids))


def _stats(values: pd.Series) -> tuple[float, float, float]:
    return mean_ci(values.to_numpy(float))


def _overlap(a: tuple[float, float, float], b: tuple[float, float, float]) -> bool | None:
    """Whether two (mean, low, high) intervals overlap; None without intervals."""
    if any(missing(x) for x in (*a[1:], *b[1:])):
        return None
    return a[1] <= b[2] and b[1] <= a[2]


def _change(m: str, a: tuple[float, float, float], b: tuple[float, float, float]) -> str:
    return f"{short(m)} {measure(m, a[0])} → {measure(m, b[0])}"


def _seeds(manifest: dict[str, Any]) -> str:
    """Replicate seeds of a sweep manifest, in replicate order."""
    by_rep = {r["replicate"]: r["seed"] for r in manifest.get("runs", {}).values()}
    return ", ".join(str(by_rep[k]) for k in sorted(by_rep))


def _replicate_note(replicates: int) -> str:
    if replicates >= FEW_REPLICATES:
        return ""
    return (f" With only {replicates} replicate(s) per set the 95 % intervals are wide (or "
            f"missing); use at least {FEW_REPLICATES} before concluding that two sets differ.")


def _scale_days(fixed: dict[str, Any]) -> tuple[Any, Any]:
    return (fixed.get("scale", FIELDS["scale"].default), fixed.get("days", FIELDS["days"].default))


# --- run ----------------------------------------------------------------------------------------

RUN_FIGURES = {
    "year.png": "the year day by day: satisfaction, disputes, open cases and hotline tickets "
                "(shaded: heating season and winter influx)",
    "communities.png": "communities compared by size: disputes, satisfaction, days to close",
    "hotline_categories.png": "12345 hotline tickets by category against F4 (property 13.3 %)",
    "winter_load.png": "load per worker by street and month (P3: winter influx in Longqiao)",
}


def _run(d: Path) -> Page:
    s = _json(d / "summary.json")
    params = _json(d / "params.json") if (d / "params.json").is_file() else {}
    values = {**kpis.kpis(s), "unsatisfied_share": s.get("unsatisfied_share")}
    kpi_rows = [[_label(k), measure(k, values[k]), kpis.unit(k)] for k in RUN_MEASURES]
    sections = [section("Key results", table(["measure", "value", "unit"], kpi_rows,
                                             numeric_from=1)),
                section("Breakdowns", _run_breakdowns(s)),
                _run_parameters(params), section("Figures", *figures(d, RUN_FIGURES))]
    p = params.get("params", {})
    settings = [("model version", s.get("model_version")), ("scenario", s["scenario"]),
                ("seed", str(s["seed"])), ("scale", num(s["scale"])), ("days", num(s["days"])),
                ("warm-up days", num(p["warmup_days"]) if "warmup_days" in p else None),
                ("communities", num(len(s.get("by_community", [])))),
                ("community staff", num(s["staff"]) if "staff" in s else None),
                ("runtime (s)", num(s.get("runtime_seconds"))),
                ("written", _written(d / "summary.json"))]
    return Page(f"Simulation run: {s['scenario']}", _run_reading(s), settings, sections)


def _run_reading(s: dict[str, Any]) -> str:
    v = {**kpis.kpis(s), "unsatisfied_share": s.get("unsatisfied_share")}

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
    return text


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


def _run_breakdowns(s: dict[str, Any]) -> Raw:
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


def _run_parameters(params: dict[str, Any]) -> Raw:
    if not params:
        return section("Parameters", para("params.json not found: parameters unknown.", "note"))
    own = params.get("scenario_values", {})
    return section(
        "Parameters",
        table(PARAM_HEADERS, _param_rows(own), "The scenario's own values (and overrides)"),
        details(f"All {len(params.get('params', {}))} parameters",
                table(PARAM_HEADERS, _param_rows(params.get("params", {})))))


# --- compare ------------------------------------------------------------------------------------

def _compare(d: Path) -> Page:
    runs = pd.read_csv(d / "compare_runs.csv") if (d / "compare_runs.csv").is_file() else None
    if runs is None:
        table_ = pd.read_csv(d / "compare.csv", header=[0, 1], index_col=0)
        runs = pd.DataFrame({m: table_[(m, "mean")] for m in table_.columns.levels[0]
                             if (m, "mean") in table_.columns}).rename_axis("scenario").reset_index()
        runs["seed"] = np.nan
    names = list(dict.fromkeys(runs["scenario"]))
    agg = _group_ci(runs, "scenario", names)
    measures = _measures(agg.columns, RUN_MEASURES)
    seeds = [str(int(x)) for x in dict.fromkeys(runs["seed"].dropna())]
    info = _compare_runs_info(d, seeds)
    settings = [("model version", info.get("model_version")), ("scenarios", ", ".join(names)),
                ("replicate seeds", ", ".join(seeds)), ("replicates", num(len(seeds))),
                ("scale", info.get("scale")), ("days", info.get("days")),
                ("written", _written(d / "compare.csv"))]
    sections = [section("Scenarios side by side", _ci_table(
        agg, names, measures, "Mean over replicate seeds [95 % CI]; compare.csv also has the sd")),
        _compare_parameters(names),
        section("Figures", *figures(d, {}) or [para("No figures in this directory.", "note")])]
    return Page(f"Scenario comparison: {', '.join(names)}",
                _compare_reading(agg, names, len(seeds)), settings, sections)


def _compare_parameters(names: list[str]) -> Raw:
    """Each scenario's own values, side by side (the files as they are now)."""
    from model import scenarios

    own: dict[str, dict[str, Any]] = {}
    for name in names:
        try:
            own[name] = scenarios.load(name).values
        except (ParameterError, OSError):
            own[name] = {}
    keys = list(dict.fromkeys(k for v in own.values() for k in v))
    rows = [[k, *(_value(own[n][k]) if k in own[n] else "—" for n in names),
             str(FIELDS[k].metadata.get("source", "")) if k in FIELDS else ""] for k in keys]
    return section("Parameters", para(
        "The values each scenario file sets (read from the scenario files now; overrides given "
        "with --set, --scale or --days on the command line are not recorded in a compare "
        "directory — scale and days above come from the stored runs).", "note"),
        table(["parameter", *names, "source"], rows))


def _group_ci(runs: pd.DataFrame, by: str, order: list[str]) -> pd.DataFrame:
    """Per group: runs and mean / 95 % CI of every numeric column (aggregate.csv's layout)."""
    rows = []
    cols = [c for c in runs.columns if c not in (by, "seed") and pd.api.types.is_numeric_dtype(runs[c])]
    for name in order:
        g = runs[runs[by] == name]
        row: dict[str, Any] = {by: name, "runs": len(g)}
        for c in cols:
            row[f"{c}_mean"], row[f"{c}_ci_low"], row[f"{c}_ci_high"] = _stats(g[c])
        rows.append(row)
    return pd.DataFrame(rows)


def _compare_runs_info(d: Path, seeds: list[str]) -> dict[str, str]:
    """Model version, scale and days of the stored runs of these seeds (if the store is there)."""
    import pyarrow.parquet as pq

    cols = ["model_version", "scale", "days", "seed"]
    frames = []
    for path in sorted((d / "runs").rglob("*.parquet")):
        if path.name.endswith(".series.parquet"):
            continue
        t = pq.read_table(path, columns=[c for c in cols if c in pq.read_schema(path).names])
        frames.append(t.to_pandas())
    if not frames:
        return {}
    df = pd.concat(frames)
    if seeds and "seed" in df:
        df = df[df["seed"].astype(str).isin(seeds)]
    return {c: ", ".join(num(v) if not isinstance(v, str) else v for v in sorted(df[c].unique()))
            for c in cols[:3] if c in df}


def _compare_reading(agg: pd.DataFrame, names: list[str], replicates: int) -> str:
    ref = agg.iloc[0]
    focus = _measures(agg.columns, ("mean_days_to_close", "resolution_rate", "mean_satisfaction",
                                    "disputes_per_1000_per_month", "hotline_tickets_per_10k_per_year"))
    text = (f"{len(names)} scenario(s) over {replicates} replicate seed(s) each (the same seeds "
            f"for every scenario). In {names[0]}, " + ", ".join(
                f"{short(m)} is {ci_text(m, *_trio(ref, m))}" for m in focus) + ".")
    for i in range(1, len(agg)):
        row = agg.iloc[i]
        apart = [_change(m, _trio(ref, m), _trio(row, m)) for m in focus
                 if _overlap(_trio(ref, m), _trio(row, m)) is False]
        same = [short(m) for m in focus if _overlap(_trio(ref, m), _trio(row, m)) is not False]
        text += f" Against {names[0]}, {names[i]} differs clearly (95 % CIs apart) in " + (
            "; ".join(apart) if apart else "none of these measures")
        text += f"; no clear difference in {', '.join(same)}." if same else "."
    return text + _replicate_note(replicates)


def _trio(row: pd.Series, m: str) -> tuple[float, float, float]:
    return row[f"{m}_mean"], row[f"{m}_ci_low"], row[f"{m}_ci_high"]


# --- sweep --------------------------------------------------------------------------------------

def _sweep(d: Path) -> Page:
    manifest = _json(d / "manifest.json")
    agg = pd.read_csv(d / "aggregate.csv")
    runs = pd.read_parquet(d / "summary.parquet") if (d / "summary.parquet").is_file() else None
    varied = list(manifest.get("varied", []))
    measures = _measures(agg.columns)
    sections = [_experiment_parameters(manifest, agg),
                section("Results by parameter set", _set_table(agg, varied, measures)),
                _failures(runs),
                section("Figures", *figures(d, {f"sweep_{v}.png": f"headline measures against "
                                                f"{v}, 95 % CI over replicates" for v in varied}))]
    title = f"Parameter sweep: {manifest.get('scenario', '?')}" + (
        f", varying {' × '.join(varied)}" if varied else ", replicates only")
    return Page(title, _sweep_reading(manifest, agg, runs, varied, measures),
                _experiment_settings(d, manifest, agg, runs), [s for s in sections if s])


def _experiment_settings(d: Path, manifest: dict[str, Any], agg: pd.DataFrame,
                         runs: pd.DataFrame | None) -> list[tuple[str, Any]]:
    scale, days = _scale_days(manifest.get("fixed", {}))
    failed = int(agg["failed"].sum()) if "failed" in agg else None
    return [("model version", manifest.get("model_version")),
            ("scenario", manifest.get("scenario")), ("scale", num(scale)), ("days", num(days)),
            ("base seed", str(manifest.get("base_seed", ""))),
            ("replicates", num(manifest.get("replicates"))), ("replicate seeds", _seeds(manifest)),
            ("parameter sets", num(len(agg))), ("runs", num(len(manifest.get("runs", {})))),
            ("failed runs", num(failed)), ("written", _written(d / "manifest.json"))]


def _experiment_parameters(manifest: dict[str, Any], agg: pd.DataFrame) -> Raw:
    fixed = manifest.get("fixed", {})
    varied = [[v, ", ".join(_value(x) for x in _levels(agg[v]))] for v in manifest.get("varied", [])
              if v in agg]
    parts = [table(PARAM_HEADERS, _param_rows(fixed), "Fixed for every run") if fixed
             else para("No fixed overrides: the scenario's values.", "note")]
    if varied:
        parts.append(table(["parameter", "values"], varied, "Varied", numeric_from=2))
    return section("Parameters", row_of(*parts))


def _levels(col: pd.Series) -> list[Any]:
    values = list(dict.fromkeys(col.tolist()))
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return sorted(values)
    return values


def _set_table(agg: pd.DataFrame, varied: list[str], measures: list[str]) -> Raw:
    caption = "Mean over replicates [95 % CI] per parameter set"
    if len(agg) <= 6:
        names = [", ".join(f"{v} = {_value(r[v])}" for v in varied) or "scenario"
                 for _, r in agg.iterrows()]
        return _ci_table(agg, names, measures, caption)
    step = 5  # measures per table: each fits the page width
    return Raw("".join(_ci_long_table(agg, varied, measures[i:i + step],
                                      f"{caption} ({i // step + 1} of {-(-len(measures) // step)})")
                       for i in range(0, len(measures), step)))


def _failures(runs: pd.DataFrame | None) -> Raw | None:
    if runs is None or "status" not in runs or (runs["status"] == "done").all():
        return None
    bad = runs[runs["status"] != "done"][["set_id", "replicate", "seed", "error"]]
    return section("Failed runs", frame_table(bad, "Runs that raised (details in failed/<key>.json)",
                                              formats={"seed": str}))


def _sweep_reading(manifest: dict[str, Any], agg: pd.DataFrame, runs: pd.DataFrame | None,
                   varied: list[str], measures: list[str]) -> str:
    reps = int(manifest.get("replicates", 0))
    head = (f"{len(agg)} parameter set(s) of the {manifest.get('scenario', '?')} scenario, "
            f"{reps} replicate seed(s) each (common random numbers).")
    if not varied:
        r = agg.iloc[0]
        return head + " Estimates: " + "; ".join(
            f"{short(m)} {ci_text(m, *_trio(r, m))}" for m in measures) + "." + _replicate_note(reps)
    if runs is None and len(varied) > 1:
        return head + " summary.parquet is missing, so effects per parameter are not shown."
    if len(varied) > 1 and not _factorial(agg, varied):
        parts = [_trend_sentence(p, agg, measures) for p in varied]
        note = (" These sets are a design table, not a full factorial, so the parameters' effects "
                "are mixed; the rank correlations are indicative only (a sensitivity analysis "
                "separates them).")
        return " ".join([head, *parts]) + note + _replicate_note(reps)
    parts = [_effect_sentence(p, runs, agg, varied, measures) for p in varied]
    return " ".join([head, *parts]) + _replicate_note(reps)


def _factorial(agg: pd.DataFrame, varied: list[str]) -> bool:
    """Whether every combination of the varied values is a set (ends can be compared)."""
    return len(agg[varied].drop_duplicates()) == int(np.prod([agg[v].nunique() for v in varied]))


def _trend_sentence(param: str, agg: pd.DataFrame, measures: list[str]) -> str:
    """For a design table: the measures whose set means follow ``param`` (|Spearman rho| >= 0.5)."""
    from scipy.stats import spearmanr

    if not pd.api.types.is_numeric_dtype(agg[param]) or agg[param].nunique() < 3:
        return f"{param} takes too few numeric values for a trend."
    found = []
    for m in measures:
        rho = spearmanr(agg[param], agg[f"{m}_mean"], nan_policy="omit").statistic
        if not missing(rho) and abs(rho) >= 0.5:
            found.append(f"{short(m)} {'rises' if rho > 0 else 'falls'} (ρ = {rho:+.2f})")
    head = f"Across the {len(agg)} sets, as {param} rises from {_value(agg[param].min())} to " \
           f"{_value(agg[param].max())}"
    return head + (": " + "; ".join(found) + "." if found
                   else ", no measure follows it closely (all |Spearman ρ| < 0.5).")


def _effect_sentence(param: str, runs: pd.DataFrame | None, agg: pd.DataFrame, varied: list[str],
                     measures: list[str]) -> str:
    """How each measure moves from the lowest to the highest value of ``param`` (mean over the
    other varied parameters), and whether the 95 % intervals at the two ends overlap."""
    source = agg if runs is None else runs[runs["status"] == "done"]
    levels = _levels(source[param])
    if len(levels) < 2:
        return f"{param} takes a single value ({_value(levels[0])})."
    lo, hi = levels[0], levels[-1]
    at = (lambda v, m: _trio(agg[agg[param] == v].iloc[0], m)) if runs is None else (
        lambda v, m: _stats(source.loc[source[param] == v, m]))
    apart, same = [], []
    for m in measures:
        if runs is not None and m not in source:
            continue
        a, b = at(lo, m), at(hi, m)
        (apart if _overlap(a, b) is False else same).append(_change(m, a, b))
    col = source[param]
    verb = ("Switching" if pd.api.types.is_bool_dtype(col) else
            "Raising" if pd.api.types.is_numeric_dtype(col) else "Going")
    others = [v for v in varied if v != param]
    text = (f"{verb} {param} from {_value(lo)} to {_value(hi)}"
            + (f" (pooled over {', '.join(others)})" if others else "") + ": ")
    text += ("clear changes (95 % CIs do not overlap) in " + "; ".join(apart)
             if apart else "no measure changes clearly (all 95 % CIs overlap)")
    if apart and same:
        text += "; no clear change (CIs overlap) in " + "; ".join(same)
    elif not apart and same:
        text += " — " + "; ".join(same)
    return text + "."


# --- staffing -----------------------------------------------------------------------------------

STAFFING_FIGURES = {
    "staffing.png": "the objective by rule (95 % CI) and staff per 10,000 against community size",
    "sweep_rule.png": "headline measures by rule, 95 % CI over the evaluation seeds",
}


def _staffing(d: Path) -> Page:
    result = pd.read_csv(d / "staffing.csv")
    manifest = _json(d / "manifest.json") if (d / "manifest.json").is_file() else {}
    objective = next(c[:-5] for c in result.columns if c.endswith("_mean"))
    measures = list(dict.fromkeys([objective, *_measures(result.columns)]))
    alloc = _csv_or_none(d / "staffing_allocation.csv")
    search = _csv_or_none(d / "search.csv")
    rules = list(result["rule"])
    sections = [
        section("Rules compared", _ci_table(result, rules, measures,
                                            "Mean over the evaluation seeds [95 % CI]"),
                _weights_table(result)),
        _allocation_section(alloc),
        section("Search for the optimized rule", frame_table(search, numeric_from=0))
        if search is not None else None,
        _experiment_parameters({**manifest, "varied": []}, result) if manifest else None,
        section("Figures", *figures(d, STAFFING_FIGURES))]
    settings = _staffing_settings(d, manifest, result, objective, search)
    total = result["total_staff_at_scale_1"].iloc[0] if "total_staff_at_scale_1" in result else "?"
    return Page(f"Staffing allocation: {num(total)} community staff, {len(rules)} rules compared",
                _staffing_reading(result, manifest, objective, search), settings,
                [s for s in sections if s])


def _csv_or_none(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.is_file() and path.stat().st_size else None


def _staffing_settings(d: Path, manifest: dict[str, Any], result: pd.DataFrame, objective: str,
                       search: pd.DataFrame | None) -> list[tuple[str, Any]]:
    fixed = manifest.get("fixed", {})
    settings = _experiment_settings(d, manifest, result, None) if manifest else []
    return [*settings, ("objective", objective),
            ("total staff at scale 1.0", num(result["total_staff_at_scale_1"].iloc[0])
             if "total_staff_at_scale_1" in result else None),
            ("staff per 10,000 residents", num(fixed["staffing_per_10k"])
             if "staffing_per_10k" in fixed else None),
            ("search points", num(len(search)) if search is not None else None)]


def _weights_table(result: pd.DataFrame) -> Raw:
    w = result.reindex(columns=["rule", "staff_weight_population", "staff_weight_demand", "runs",
                                "failed"])
    w.insert(1, "weight_equal", 1 - w["staff_weight_population"] - w["staff_weight_demand"])
    w.loc[result["rule"] != "optimized", ["weight_equal", "staff_weight_population",
                                          "staff_weight_demand"]] = np.nan
    return frame_table(w, "Blend weights of the optimized rule (fixed rules: n/a) and runs")


def _allocation_section(alloc: pd.DataFrame | None) -> Raw | None:
    if alloc is None or alloc.empty:
        return None
    g = alloc.groupby(["street", "rule"], sort=False)[["population", "staff"]].sum().reset_index()
    g["staff per 10,000"] = g["staff"] / g["population"] * 10_000
    spread = alloc.groupby("rule", sort=False)["staff_per_10k"].agg(["min", "max"]).reset_index()
    spread.columns = ["rule", "lowest staff per 10,000", "highest staff per 10,000"]
    return section(
        "Who gets the staff",
        row_of(frame_table(g, "Staff by street (district of the first evaluation seed)"),
               frame_table(spread, "Range over communities")),
        details(f"Allocation per community ({len(alloc)} rows)",
                frame_table(alloc.drop(columns=[c for c in ("community",) if c in alloc]),
                            numeric_from=2)))


def _staffing_reading(result: pd.DataFrame, manifest: dict[str, Any], objective: str,
                      search: pd.DataFrame | None) -> str:
    fixed = manifest.get("fixed", {})
    total = result["total_staff_at_scale_1"].iloc[0] if "total_staff_at_scale_1" in result else None
    scale, days = _scale_days(fixed)
    text = (f"{num(total)} community staff at scale 1.0"
            + (f" ({num(fixed['staffing_per_10k'])} per 10,000 residents)"
               if "staffing_per_10k" in fixed else "")
            + f" split by {len(result)} rule(s), each evaluated on "
            f"{num(result['runs'].max())} seed(s) at scale {num(scale)} for {num(days)} days.")
    for m in dict.fromkeys([objective, "mean_days_to_close", "mean_satisfaction"]):
        if f"{m}_mean" in result:
            text += " " + _best_rule_sentence(result, m)
    if "optimized" in set(result["rule"]):
        r = result[result["rule"] == "optimized"].iloc[0]
        pop, dem = r["staff_weight_population"], r["staff_weight_demand"]
        text += (f" The optimized rule keeps the 7 committee members and splits the rest "
                 f"{1 - pop - dem:.1%} in equal shares, {pop:.1%} by population and {dem:.1%} by "
                 f"expected load, found by a search for the best {objective}"
                 + (f" over {len(search)} points on separate seeds." if search is not None else "."))
    return text + _replicate_note(int(manifest.get("replicates", result["runs"].max())))


def _best_rule_sentence(result: pd.DataFrame, m: str) -> str:
    sign = OBJECTIVES.get(m, 1)
    means = result[f"{m}_mean"].astype(float)
    if means.isna().all():
        return f"No rule has a value for {short(m)}."
    best = result.loc[(means * sign).idxmin()]
    ref_name = "uniform" if "uniform" in set(result["rule"]) else None
    head = f"On {short(m)}, {best['rule']} is best at {ci_text(m, *_trio(best, m))}"
    if ref_name is None or best["rule"] == ref_name:
        return head + (" (today's uniform rule)." if ref_name else ".")
    ref = result[result["rule"] == ref_name].iloc[0]
    diff = best[f"{m}_mean"] - ref[f"{m}_mean"]
    rel = diff / ref[f"{m}_mean"] if ref[f"{m}_mean"] else np.nan
    overlap = _overlap(_trio(best, m), _trio(ref, m))
    verdict = {True: "the 95 % CIs overlap, so the replicates do not separate them",
               False: "the 95 % CIs do not overlap", None: "no intervals to compare"}[overlap]
    return (f"{head}, against {measure(m, ref[f'{m}_mean'])} for uniform "
            f"({'+' if diff > 0 else '−'}{measure(m, abs(diff))}, {rel:+.1%}; {verdict}).")


# --- sensitivity --------------------------------------------------------------------------------

SENSITIVITY_FIGURES = {
    "indices.png": "first-order (S1) and total (ST) indices per output, with confidence intervals",
    "morris.png": "Morris screening: mu* against sigma per output",
    "convergence.png": "indices at N/2 and N samples: stable indices have converged",
}


def _sensitivity(d: Path) -> Page:
    manifest = _json(d / "manifest.json") if (d / "manifest.json").is_file() else {}
    problem = manifest.get("problem", {})
    indices = pd.read_csv(d / "indices.csv")
    method = manifest.get("method") or ("morris" if "mu_star" in indices else "sobol")
    noise = _csv_or_none(d / "noise.csv")
    conv = _csv_or_none(d / "convergence.csv")
    second = _csv_or_none(d / "second_order.csv")
    sections = [_problem_section(problem), _indices_section(indices, method),
                _second_order_section(second), _noise_section(noise),
                section("Figures", *figures(d, SENSITIVITY_FIGURES))]
    title = (f"Sensitivity analysis ({method.capitalize()}): "
             f"{problem.get('name') or problem.get('scenario') or d.name}")
    return Page(title, _sensitivity_reading(indices, method, noise, conv, manifest),
                _sensitivity_settings(d, manifest, method), [s for s in sections if s])


def _sensitivity_settings(d: Path, m: dict[str, Any], method: str) -> list[tuple[str, Any]]:
    p = m.get("problem", {})
    return [("model version", m.get("model_version")), ("scenario", p.get("scenario")),
            ("method", method), ("N (base samples; trajectories for Morris)", num(m.get("n"))),
            ("model evaluations (samples)", num(m.get("samples"))), ("runs", num(m.get("runs"))),
            ("failed runs", num(m.get("failed"))), ("scale", num(m.get("scale"))),
            ("days", num(m.get("days"))), ("replicates per sample", num(m.get("replicates"))),
            ("base seed", str(m["seed"]) if "seed" in m else None),
            ("replicate seeds", ", ".join(str(s) for s in m.get("seeds", []))),
            ("wall time (s)", num(m.get("wall_seconds"))),
            ("created", m.get("created") or _written(d / "indices.csv"))]


def _problem_section(problem: dict[str, Any]) -> Raw:
    params = problem.get("parameters", [])
    rows = [[p.get("name"), p.get("lower"), p.get("upper"), p.get("dist", ""), p.get("source", "")]
            for p in params]
    parts = [para(problem["description"]) if problem.get("description") else "",
             table(["parameter", "lower", "upper", "distribution", "source"], rows,
                   f"{len(params)} uncertain parameters", numeric_from=1)]
    fixed = problem.get("fixed", {})
    if fixed:
        parts.append(table(PARAM_HEADERS, _param_rows(fixed), "Fixed for every run"))
    outputs = problem.get("outputs", [])
    if outputs:
        parts.append(para("Outputs analysed: " + ", ".join(f"{o} ({_label(o)})" if _label(o) != o
                                                           else o for o in outputs) + "."))
    return section("Problem and parameters", *parts)


def _index_names(method: str) -> tuple[str, str]:
    """(main index, secondary index) of a method."""
    return ("mu_star", "sigma") if method == "morris" else ("ST", "S1")


def _indices_section(indices: pd.DataFrame, method: str) -> Raw:
    main, second = _index_names(method)
    tables = [_pivot(indices, main), _pivot(indices, second)]
    if method == "morris" and "mu" in indices:
        tables.append(_pivot(indices, "mu"))
    return section("Indices", para(_index_help(method), "note"), *tables)


def _index_help(method: str) -> str:
    if method == "morris":
        return ("mu* (mean absolute elementary effect, in the output's units) ranks influence; "
                "sigma large relative to mu* means a nonlinear effect or interactions; mu is the "
                "signed mean effect. Bold: the largest value in each column.")
    return ("S1: share of the output's variance explained by the parameter alone; ST: including "
            "all its interactions. An index within its confidence interval (±) of 0 is not "
            "distinguishable from no effect. Bold: the largest value in each column.")


def _pivot(indices: pd.DataFrame, index: str) -> Raw:
    """Parameters as rows, outputs as columns: index ± conf, the top of each column in bold."""
    outputs = list(dict.fromkeys(indices["output"]))
    params = list(dict.fromkeys(indices["parameter"]))
    conf = f"{index}_conf" if f"{index}_conf" in indices else None
    key = indices.set_index(["output", "parameter"])
    signed = index == "mu"  # the signed Morris effect: the largest in size
    top = {o: (key.loc[o, index].abs() if signed else key.loc[o, index]).idxmax()
           for o in outputs if key.loc[o, index].notna().any()}
    rows = []
    for p in params:
        cells: list[Any] = [p]
        for o in outputs:
            v = key[index].get((o, p), np.nan)
            text = pm_cell(v, key[conf].get((o, p), np.nan) if conf else np.nan)
            cells.append(Raw(f'<b class="top">{esc(text)}</b>') if top.get(o) == p else text)
        rows.append(cells)
    return table(["parameter", *outputs], rows, f"{index} by parameter and output")


def _second_order_section(second: pd.DataFrame | None, shown: int = 12) -> Raw | None:
    if second is None or second.empty:
        return None
    top = second.reindex(second["S2"].abs().sort_values(ascending=False).index).head(shown)
    top = top.assign(S2=[pm_cell(v, c) for v, c in zip(top["S2"], top["S2_conf"], strict=True)])
    return section("Second-order interactions (Sobol S2)", frame_table(
        top.drop(columns="S2_conf"), f"The {len(top)} largest of {len(second)} pairs by |S2|",
        numeric_from=3))


def _noise_section(noise: pd.DataFrame | None) -> Raw | None:
    if noise is None or noise.empty:
        return None
    shown = noise.assign(seed_noise_share=[("n/a" if missing(v) else f"{v:.1%}")
                                           for v in noise["seed_noise_share"]])
    return section("Seed noise", para(
        "Replicate seeds at the same parameter values give different outputs: this is the share "
        "of each output's analysed variance that is seed noise rather than parameter effect "
        f"(warning above {NOISE_WARNING:.0%}).", "note"), frame_table(shown))


def _sensitivity_reading(indices: pd.DataFrame, method: str, noise: pd.DataFrame | None,
                         conv: pd.DataFrame | None, manifest: dict[str, Any]) -> str:
    main, _ = _index_names(method)
    n = manifest.get("n")
    text = (f"{method.capitalize()} analysis of {indices['parameter'].nunique()} parameters"
            + (f" with N = {n}" if n else "")
            + (f" ({num(manifest['runs'])} model runs)" if manifest.get("runs") else "") + ".")
    for output, g in indices.groupby("output", sort=False):
        text += " " + _output_sentence(output, g, method)
    text += _range_note(indices, method) + _noise_warning(noise) + _convergence_note(conv, main)
    if manifest.get("failed"):
        text += f" {manifest['failed']} run(s) failed and were left out."
    return text


def _output_sentence(output: str, g: pd.DataFrame, method: str) -> str:
    main, _ = _index_names(method)
    ranked = g.dropna(subset=[main]).sort_values(main, ascending=False, key=abs)
    if ranked.empty:
        return f"For {short(output)}, no indices could be computed."
    first = ranked.iloc[0]
    close = ranked.iloc[1:3][ranked.iloc[1:3][main].abs() >= 0.5 * abs(first[main])]
    conf = first.get(f"{main}_conf", np.nan)
    clear = missing(conf) or abs(first[main]) > conf
    text = (f"For {short(output)}, the most influential parameter is {first['parameter']} "
            if clear else f"For {short(output)}, no parameter is clearly influential; the largest "
            f"is {first['parameter']} ")
    text += f"({main} {pm_cell(first[main], conf)}"
    if method == "morris":
        text += f", sigma {num(first.get('sigma'))})"
    else:
        text += f", S1 {num(first.get('S1'))})"
    if not close.empty:
        text += ", followed by " + ", ".join(f"{r['parameter']} ({num(r[main])})"
                                             for _, r in close.iterrows())
    if method != "morris" and "S1" in g:
        inter = g["ST"].sum() - g["S1"].sum()
        strength = "small" if inter < 0.1 else "moderate" if inter < 0.3 else "strong"
        text += f"; interactions (sum ST − sum S1) = {num(inter)}, {strength}"
    return text + "."


def _range_note(indices: pd.DataFrame, method: str) -> str:
    """Sobol/FAST indices far outside 0..1 mean too few samples for stable estimates."""
    if method == "morris":
        return ""
    values = indices[[c for c in ("S1", "ST") if c in indices]].to_numpy(float)
    outside = np.count_nonzero((values < -0.05) | (values > 1.05))
    if not outside:
        return ""
    return (f" {outside} of the S1/ST estimates fall outside 0–1, a sign that N is too small "
            "for stable indices: read the ranking, not the values, or raise N.")


def _noise_warning(noise: pd.DataFrame | None) -> str:
    if noise is None or "seed_noise_share" not in noise:
        return ""
    loud = noise[noise["seed_noise_share"] >= NOISE_WARNING]
    if loud.empty:
        return ""
    items = ", ".join(f"{short(r['output'])} ({r['seed_noise_share']:.0%})"
                      for _, r in loud.iterrows())
    return (f" Warning: seed noise is a large share of the variance of {items}; the indices of "
            "these outputs partly measure noise, not sensitivity — add replicates or samples "
            "before reading them.")


def _convergence_note(conv: pd.DataFrame | None, main: str) -> str:
    if conv is None or conv.empty or "index" not in conv:
        return ""
    c = conv[conv["index"] == main]
    if c["n"].nunique() < 2:
        return ""
    wide = c.pivot_table(index=["output", "parameter"], columns="n", values="value")
    delta = (wide[wide.columns.max()] - wide[wide.columns.min()]).abs()
    return (f" From N = {num(wide.columns.min())} to N = {num(wide.columns.max())} the {main} "
            f"indices moved by at most {num(delta.max())} (see convergence.png).")


BUILDERS: dict[str, Callable[[Path], Page]] = {
    "run": _run, "compare": _compare, "sweep": _sweep, "staffing": _staffing,
    "sensitivity": _sensitivity,
}
