"""Helpers shared by several kinds of report: reading files, parameter tables, intervals."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from experiments.aggregate import FEW_REPLICATES, levels, mean_ci
from experiments.worlds import distinct_particles, draws_note
from model import kpis
from model.params import FIELDS

from .html import Raw, ci_cell, ci_text, esc, measure, missing, num, para, row_of, section, table

PARAM_HEADERS = ("parameter", "value", "default", "source")


class Estimate(NamedTuple):
    """A measure over the runs of a set: mean, 95 % CI, the runs the mean rests on (those in
    which the measure is defined) and the set's runs (None when a file does not record it)."""

    mean: float
    low: float
    high: float
    n: int | None = None
    runs: int | None = None


# --- files --------------------------------------------------------------------------------------

def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def json_or_empty(path: Path) -> dict[str, Any]:
    """An optional JSON file: {} when it is not there."""
    return read_json(path) if path.is_file() else {}


def csv_or_none(path: Path) -> pd.DataFrame | None:
    """An optional CSV file: None when it is not there or empty."""
    return pd.read_csv(path) if path.is_file() and path.stat().st_size else None


def written(path: Path) -> str:
    """When a file was written (its modification time)."""
    return datetime.fromtimestamp(path.stat().st_mtime).isoformat(timespec="seconds")


# --- parameters ---------------------------------------------------------------------------------

def short(key: str) -> str:
    """A measure's label for running text: without its parenthesis ('(F3: 588)')."""
    return re.sub(r" \(.*\)$", "", kpis.label(key))


def param_rows(values: dict[str, Any]) -> list[list[Any]]:
    """(parameter, value, default, source) rows; unknown names keep empty columns."""
    rows = []
    for name, value in values.items():
        f = FIELDS.get(name)
        default = "" if f is None else param_value(f.default)
        source = "" if f is None else str(f.metadata.get("source", ""))
        rows.append([name, param_value(value), default, source])
    return rows


def param_value(v: Any) -> str:
    """A parameter value: up to 6 significant digits (parameters are inputs, shown as set)."""
    if isinstance(v, list | tuple):
        return ", ".join(param_value(x) for x in v)
    if isinstance(v, float | np.floating) and not missing(v) and not float(v).is_integer():
        return f"{v:,.6g}"
    return v if isinstance(v, str) else num(v)


def scale_days(fixed: dict[str, Any]) -> tuple[Any, Any]:
    """Scale and days of an experiment: its fixed overrides, else the defaults."""
    return (fixed.get("scale", FIELDS["scale"].default), fixed.get("days", FIELDS["days"].default))


# --- means and intervals ------------------------------------------------------------------------

def run_measures() -> tuple[str, ...]:
    """The measures a run or a comparison of runs is reported on: the KPI table's and the
    headline ones (model/kpis.py), without wall times."""
    return kpis.keys(lambda m: (m.kpi_row or m.headline) and not m.timing)


def measures_in(columns: Any, wanted: Sequence[str] | None = None) -> list[str]:
    """The measures of ``wanted`` (the headline ones of model/kpis.py unless given) that an
    aggregate-like table holds."""
    return [m for m in wanted or kpis.headline() if f"{m}_mean" in columns]


def _count(value: Any) -> int | None:
    return None if missing(value) else int(value)


def estimate(row: pd.Series, m: str) -> Estimate:
    """Measure ``m`` in an aggregate-like row (``<m>_n`` and ``runs`` when it has them)."""
    return Estimate(row[f"{m}_mean"], row[f"{m}_ci_low"], row[f"{m}_ci_high"],
                    _count(row.get(f"{m}_n")), _count(row.get("runs")))


def stats(m: str, values: pd.Series) -> Estimate:
    """Measure ``m`` over the runs ``values`` (NaN where it is undefined in a run)."""
    x = values.to_numpy(float)
    return Estimate(*mean_ci(x, m), int(np.isfinite(x).sum()), len(x))


def overlap(a: Estimate, b: Estimate) -> bool | None:
    """Whether two 95 % intervals overlap; None when either is missing. A Python bool, so
    that callers may test it with ``is`` and use it as a key."""
    if any(missing(x) for x in (a.low, a.high, b.low, b.high)):
        return None
    return bool(a.low <= b.high and b.low <= a.high)


def by_overlap(pairs: dict[str, tuple[Estimate, Estimate]]) -> dict[bool | None, list[str]]:
    """The measures of ``pairs`` by whether their intervals overlap: False (clearly apart),
    True (not separated) and None (no intervals to compare), each in the given order."""
    out: dict[bool | None, list[str]] = {False: [], True: [], None: []}
    for m, (a, b) in pairs.items():
        out[overlap(a, b)].append(m)
    return out


def count_note(e: Estimate) -> str:
    """How many runs a mean rests on, when that is fewer than the set's runs."""
    if e.n is None or e.runs is None or e.n >= e.runs:
        return ""
    if e.n == 0:
        return " (undefined in every run)"
    return f" (mean over {e.n} of {e.runs} runs)"


def value_text(m: str, e: Estimate) -> str:
    """The mean of an estimate for running text, with its count note."""
    return measure(m, e.mean) + count_note(e)


def estimate_text(m: str, e: Estimate) -> str:
    """'mean [low, high]' for running text, with its count note."""
    return ci_text(m, e.mean, e.low, e.high) + count_note(e)


def estimate_cell(m: str, e: Estimate) -> Raw:
    """A table cell: the mean, its interval and (when fewer than the runs) its count."""
    note = count_note(e).strip(" ()")
    cell = ci_cell(m, e.mean, e.low, e.high)
    return Raw(f'{cell}<br><span class="ci">{esc(note)}</span>') if note else cell


def change(m: str, a: Estimate, b: Estimate) -> str:
    return f"{short(m)} {value_text(m, a)} → {value_text(m, b)}"


def ci_table(agg: pd.DataFrame, names: list[str], measures: list[str], caption: str) -> Raw:
    """Measures as rows (label, unit), one column per parameter set: mean and [95 % CI]."""
    rows = [[kpis.label(m), kpis.unit(m), *(estimate_cell(m, estimate(r, m))
                                            for _, r in agg.iterrows())] for m in measures]
    return table(["measure", "unit", *names], rows, caption, numeric_from=2)


def replicate_note(replicates: int, per: str = "set") -> str:
    """The warning that every report with fewer than FEW_REPLICATES replicates carries."""
    if replicates >= FEW_REPLICATES:
        return ""
    return (f" With only {replicates} replicate(s) per {per} the 95 % intervals are wide (or "
            f"missing); use at least {FEW_REPLICATES} before concluding that two {per}s differ.")


# --- experiment directories (sweep and staffing) ------------------------------------------------

def seeds(manifest: dict[str, Any]) -> str:
    """Replicate seeds of a sweep manifest, in replicate order."""
    by_rep = {r["replicate"]: r["seed"] for r in manifest.get("runs", {}).values()}
    return ", ".join(str(by_rep[k]) for k in sorted(by_rep))


def experiment_settings(d: Path, manifest: dict[str, Any],
                        agg: pd.DataFrame) -> list[tuple[str, Any]]:
    scale, days = scale_days(manifest.get("fixed", {}))
    failed = int(agg["failed"].sum()) if "failed" in agg else None
    return [("model version", manifest.get("model_version")),
            ("scenario", manifest.get("scenario")), ("scale", num(scale)), ("days", num(days)),
            ("base seed", str(manifest.get("base_seed", ""))),
            ("replicates", num(manifest.get("replicates"))), ("replicate seeds", seeds(manifest)),
            ("plausible worlds", f"{len(manifest['worlds'])} drawn from "
             f"{worlds_source(manifest)}" if manifest.get("worlds") else None),
            ("parameter sets", num(len(agg))), ("runs", num(len(manifest.get("runs", {})))),
            ("failed runs", num(failed)), ("written", written(d / "manifest.json"))]


def experiment_parameters(manifest: dict[str, Any], agg: pd.DataFrame) -> Raw:
    fixed = manifest.get("fixed", {})
    varied = [[v, ", ".join(param_value(x) for x in levels(agg[v]))]
              for v in manifest.get("varied", []) if v in agg]
    parts = [table(PARAM_HEADERS, param_rows(fixed), "Fixed for every run") if fixed
             else para("No fixed overrides: the scenario's values.", "note")]
    if varied:
        parts.append(table(["parameter", "values"], varied, "Varied", numeric_from=2))
    return section("Parameters", row_of(*parts))


def seeds_text(manifest: dict[str, Any], seeds: Any) -> str:
    """What every set ran on, for a reading: '5 seed(s)', or with plausible worlds '5 seed(s)
    in each of 3 plausible worlds' (the manifest's replicates in each world; ``seeds``, e.g.
    the runs of a set when there is no manifest, without worlds)."""
    worlds = manifest.get("worlds")
    if not worlds:
        return f"{num(seeds)} seed(s)"
    return f"{num(manifest['replicates'])} seed(s) in each of {len(worlds)} plausible worlds"


def worlds_source(meta: dict[str, Any]) -> str | None:
    """The particle file plausible worlds were drawn from (a manifest's or worlds.json's
    ``posterior``), by name, and '(K draws, D distinct particles)' after it when they were
    drawn with replacement from fewer particles; None without worlds."""
    if not meta.get("worlds"):
        return None
    note = draws_note(len(meta["worlds"]), distinct_particles(meta["worlds"]))
    return Path(meta["posterior"]).name + (f" ({note})" if note else "")
