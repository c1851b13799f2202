"""Helpers shared by several kinds of report: reading files, parameter tables, intervals."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.aggregate import HEADLINE, mean_ci
from model import kpis
from model.params import FIELDS

from .html import Raw, ci_cell, measure, missing, num, para, row_of, section, table

FEW_REPLICATES = 5   # below this, intervals are wide (docs/experiments.md)
RUN_MEASURES = (*(k for k, _, _ in kpis.KPI_ROWS if k != "runtime_seconds"), "unsatisfied_share")
PARAM_HEADERS = ("parameter", "value", "default", "source")

Trio = tuple[float, float, float]   # mean, 95 % CI low, 95 % CI high


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

def measures_in(columns: Any, wanted: tuple[str, ...] = HEADLINE) -> list[str]:
    """The measures of ``wanted`` that an aggregate-like table holds."""
    return [m for m in wanted if f"{m}_mean" in columns]


def trio(row: pd.Series, m: str) -> Trio:
    """(mean, low, high) of measure ``m`` in an aggregate-like row."""
    return row[f"{m}_mean"], row[f"{m}_ci_low"], row[f"{m}_ci_high"]


def stats(values: pd.Series) -> Trio:
    return mean_ci(values.to_numpy(float))


def overlap(a: Trio, b: Trio) -> bool | None:
    """Whether two (mean, low, high) intervals overlap; None without intervals."""
    if any(missing(x) for x in (*a[1:], *b[1:])):
        return None
    return a[1] <= b[2] and b[1] <= a[2]


def change(m: str, a: Trio, b: Trio) -> str:
    return f"{short(m)} {measure(m, a[0])} → {measure(m, b[0])}"


def ci_table(agg: pd.DataFrame, names: list[str], measures: list[str], caption: str) -> Raw:
    """Measures as rows (label, unit), one column per parameter set: mean and [95 % CI]."""
    rows = [[kpis.label(m), kpis.unit(m), *(ci_cell(m, *trio(r, m)) for _, r in agg.iterrows())]
            for m in measures]
    return table(["measure", "unit", *names], rows, caption, numeric_from=2)


def replicate_note(replicates: int) -> str:
    if replicates >= FEW_REPLICATES:
        return ""
    return (f" With only {replicates} replicate(s) per set the 95 % intervals are wide (or "
            f"missing); use at least {FEW_REPLICATES} before concluding that two sets differ.")


# --- experiment directories (sweep and staffing) ------------------------------------------------

def seeds(manifest: dict[str, Any]) -> str:
    """Replicate seeds of a sweep manifest, in replicate order."""
    by_rep = {r["replicate"]: r["seed"] for r in manifest.get("runs", {}).values()}
    return ", ".join(str(by_rep[k]) for k in sorted(by_rep))


def levels(col: pd.Series) -> list[Any]:
    """The distinct values of a column: sorted when numeric or boolean, else in order."""
    values = list(dict.fromkeys(col.tolist()))
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return sorted(values)
    return values


def experiment_settings(d: Path, manifest: dict[str, Any],
                        agg: pd.DataFrame) -> list[tuple[str, Any]]:
    scale, days = scale_days(manifest.get("fixed", {}))
    failed = int(agg["failed"].sum()) if "failed" in agg else None
    return [("model version", manifest.get("model_version")),
            ("scenario", manifest.get("scenario")), ("scale", num(scale)), ("days", num(days)),
            ("base seed", str(manifest.get("base_seed", ""))),
            ("replicates", num(manifest.get("replicates"))), ("replicate seeds", seeds(manifest)),
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
