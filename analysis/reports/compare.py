"""Report on a scenario comparison (``python run.py compare``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from experiments.aggregate import group_table, paired_differences
from model import kpis
from model.params import FIELDS, ParameterError

from .bottom import (
    PRIMARY,
    Contrast,
    caveats,
    contrasts,
    effect_sentence,
    number,
    paired_section,
    worlds_sentence,
)
from .common import (
    by_overlap,
    change,
    ci_table,
    csv_or_none,
    estimate,
    estimate_text,
    json_or_empty,
    measures_in,
    param_value,
    replicate_note,
    run_measures,
    short,
    worlds_source,
    written,
)
from .html import Page, Raw, figures, num, para, section, table


def build(d: Path) -> Page:
    runs = csv_or_none(d / "compare_runs.csv")
    agg = pd.read_csv(d / "compare.csv")
    if "set_id" not in agg:  # written before sets were kept apart: one row per scenario name
        if runs is None:
            raise ParameterError(f"'{d}' has an old compare.csv and no compare_runs.csv; run "
                                 "the comparison again")
        agg = group_table(runs, "scenario", [c for c in runs.columns if c not in ("scenario", "seed")])
    names = list(agg["scenario"])
    measures = measures_in(agg.columns, run_measures())
    seeds = [] if runs is None else [str(int(x)) for x in dict.fromkeys(runs["seed"].dropna())]
    worlds = json_or_empty(d / "worlds.json")
    source = worlds_source(worlds)
    replicates = int(agg["runs"].min()) // max(1, len(worlds.get("worlds", [])))  # seeds a world
    info = _runs_info(d, seeds)
    settings = [("model version", info.get("model_version")), ("scenarios", ", ".join(names)),
                ("replicate seeds", ", ".join(seeds)), ("replicates", num(replicates)),
                ("plausible worlds", f"{len(worlds['worlds'])} drawn from {source}"
                 if source else None),
                ("scale", info.get("scale")), ("days", info.get("days")),
                ("written", written(d / "compare.csv"))]
    sources = list(agg["source"]) if "source" in agg else names
    found = _contrasts(runs, agg, measures)
    sections = [section("Scenarios side by side", ci_table(
        agg, names, measures, "Mean over replicate seeds [95 % CI]; compare.csv also has the sd")),
        paired_section(found, measures, names[0]),
        _parameters(names, sources),
        section("Figures", *figures(d, {}) or [para("No figures in this directory.", "note")])]
    return Page(f"Scenario comparison: {', '.join(names)}",
                _reading(agg, names, replicates, bool(found)), settings, sections,
                _bottom_line(found, agg, names, replicates, info, source))


def _bottom_line(found: list[Contrast], agg: pd.DataFrame, names: list[str], replicates: int,
                 info: dict[str, str], source: str | None = None) -> list[str]:
    """Each scenario against the first on the key measures, paired (with plausible worlds
    drawn from ``source``, how often it is better across them); the caveats."""
    key = measures_in(agg.columns, kpis.leads())
    if found:
        lead = [s for c in found for s in (effect_sentence(c, key, replicates),
                                           worlds_sentence(c, key, source or "")) if s]
    elif len(names) > 1:
        lead = ["compare_runs.csv is missing, so the scenarios cannot be compared seed by seed; "
                "the reading below compares their intervals."]
    else:
        lead = [f"Only {names[0]} was run: there is nothing to compare it with."]
    last = caveats(replicates, number(info.get("scale")), number(info.get("days")))
    return [*lead, last] if last else lead


def _contrasts(runs: pd.DataFrame | None, agg: pd.DataFrame, measures: list[str]) -> list[Contrast]:
    """Each scenario against the first, paired on the seed (every scenario runs on the same
    seeds); none without compare_runs.csv or its set ids (an old directory)."""
    if runs is None or "set_id" not in runs or len(agg) < 2:
        return []
    name = dict(zip(agg["set_id"], agg["scenario"], strict=True))
    paired = paired_differences(runs, "set_id", agg["set_id"].iloc[0],
                                [m for m in measures if m in runs])
    return contrasts(paired, "set_id", lambda i: f"{name[i]} instead of {name[agg['set_id'].iloc[0]]}")


def _parameters(names: list[str], sources: list[str]) -> Raw:
    """Each scenario's own values, side by side (the files as they are now)."""
    from model import scenarios

    own: list[dict[str, Any]] = []
    for source in sources:
        try:
            own.append(scenarios.load(source).values)
        except (ParameterError, OSError):
            own.append({})
    keys = list(dict.fromkeys(k for v in own for k in v))
    rows = [[k, *(param_value(v[k]) if k in v else "—" for v in own),
             str(FIELDS[k].metadata.get("source", "")) if k in FIELDS else ""] for k in keys]
    return section("Parameters", para(
        "The values each scenario file sets (read from the scenario files now; overrides given "
        "with --set, --scale or --days on the command line are not recorded in a compare "
        "directory — scale and days above come from the stored runs).", "note"),
        table(["parameter", *names, "source"], rows))


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


def _reading(agg: pd.DataFrame, names: list[str], replicates: int, paired: bool) -> str:
    ref = agg.iloc[0]
    # the bottom line's measures, then those the study gives a figure for (F3, F4)
    focus = measures_in(agg.columns, (*kpis.leads(), *kpis.keys(lambda m: m.target)))
    text = (f"{len(names)} scenario(s) over {replicates} replicate seed(s) each (the same seeds "
            f"for every scenario{'; ' + PRIMARY.format(names[0]) if paired else ''}). "
            f"In {names[0]}, " + ", ".join(
                f"{short(m)} is {estimate_text(m, estimate(ref, m))}" for m in focus) + ".")
    for i in range(1, len(agg)):
        pairs = {m: (estimate(ref, m), estimate(agg.iloc[i], m)) for m in focus}
        found = by_overlap(pairs)
        apart = [change(m, *pairs[m]) for m in found[False]]
        text += f" Against {names[0]}, {names[i]} differs clearly (95 % CIs apart) in " + (
            "; ".join(apart) if apart else "none of these measures")
        text += "".join(f"; {what} in {', '.join(short(m) for m in found[key])}"
                        for key, what in ((True, "no clear difference"),
                                          (None, "no CIs to compare (fewer than two runs with "
                                                 "a value)")) if found[key]) + "."
    return text + replicate_note(replicates, "scenario")
