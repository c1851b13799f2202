"""Report on a scenario comparison (``python run.py compare``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.params import FIELDS, ParameterError

from .common import (
    RUN_MEASURES,
    change,
    ci_table,
    measures_in,
    overlap,
    param_value,
    replicate_note,
    short,
    stats,
    trio,
    written,
)
from .html import Page, Raw, ci_text, figures, num, para, section, table

FOCUS = ("mean_days_to_close", "resolution_rate", "mean_satisfaction",
         "disputes_per_1000_per_month", "hotline_tickets_per_10k_per_year")


def build(d: Path) -> Page:
    runs = pd.read_csv(d / "compare_runs.csv") if (d / "compare_runs.csv").is_file() else None
    if runs is None:
        table_ = pd.read_csv(d / "compare.csv", header=[0, 1], index_col=0)
        runs = pd.DataFrame({m: table_[(m, "mean")] for m in table_.columns.levels[0]
                             if (m, "mean") in table_.columns}).rename_axis("scenario").reset_index()
        runs["seed"] = np.nan
    names = list(dict.fromkeys(runs["scenario"]))
    agg = _group_ci(runs, "scenario", names)
    measures = measures_in(agg.columns, RUN_MEASURES)
    seeds = [str(int(x)) for x in dict.fromkeys(runs["seed"].dropna())]
    info = _runs_info(d, seeds)
    settings = [("model version", info.get("model_version")), ("scenarios", ", ".join(names)),
                ("replicate seeds", ", ".join(seeds)), ("replicates", num(len(seeds))),
                ("scale", info.get("scale")), ("days", info.get("days")),
                ("written", written(d / "compare.csv"))]
    sections = [section("Scenarios side by side", ci_table(
        agg, names, measures, "Mean over replicate seeds [95 % CI]; compare.csv also has the sd")),
        _parameters(names),
        section("Figures", *figures(d, {}) or [para("No figures in this directory.", "note")])]
    return Page(f"Scenario comparison: {', '.join(names)}",
                _reading(agg, names, len(seeds)), settings, sections)


def _parameters(names: list[str]) -> Raw:
    """Each scenario's own values, side by side (the files as they are now)."""
    from model import scenarios

    own: dict[str, dict[str, Any]] = {}
    for name in names:
        try:
            own[name] = scenarios.load(name).values
        except (ParameterError, OSError):
            own[name] = {}
    keys = list(dict.fromkeys(k for v in own.values() for k in v))
    rows = [[k, *(param_value(own[n][k]) if k in own[n] else "—" for n in names),
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
            row[f"{c}_mean"], row[f"{c}_ci_low"], row[f"{c}_ci_high"] = stats(g[c])
        rows.append(row)
    return pd.DataFrame(rows)


def _runs_info(d: Path, seeds: list[str]) -> dict[str, str]:
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


def _reading(agg: pd.DataFrame, names: list[str], replicates: int) -> str:
    ref = agg.iloc[0]
    focus = measures_in(agg.columns, FOCUS)
    text = (f"{len(names)} scenario(s) over {replicates} replicate seed(s) each (the same seeds "
            f"for every scenario). In {names[0]}, " + ", ".join(
                f"{short(m)} is {ci_text(m, *trio(ref, m))}" for m in focus) + ".")
    for i in range(1, len(agg)):
        row = agg.iloc[i]
        apart = [change(m, trio(ref, m), trio(row, m)) for m in focus
                 if overlap(trio(ref, m), trio(row, m)) is False]
        same = [short(m) for m in focus if overlap(trio(ref, m), trio(row, m)) is not False]
        text += f" Against {names[0]}, {names[i]} differs clearly (95 % CIs apart) in " + (
            "; ".join(apart) if apart else "none of these measures")
        text += f"; no clear difference in {', '.join(same)}." if same else "."
    return text + replicate_note(replicates)
