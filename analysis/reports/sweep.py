"""Report on a parameter sweep (``python run.py sweep``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from experiments.aggregate import factorial, sweep_paired
from model import kpis

from .bottom import PRIMARY, Contrast, caveats, effect_sentence, paired_section, worlds_sentence
from .common import (
    by_overlap,
    change,
    ci_table,
    estimate,
    estimate_cell,
    estimate_text,
    experiment_parameters,
    experiment_settings,
    levels,
    measures_in,
    param_value,
    read_json,
    replicate_note,
    scale_days,
    short,
    stats,
    worlds_source,
)
from .html import Page, Raw, figures, frame_table, missing, section, table

WIDE_SETS = 6        # more parameter sets than this: one row per set
MEASURES_PER_TABLE = 5   # in the one-row-per-set layout: each table fits the page width


def build(d: Path) -> Page:
    manifest = read_json(d / "manifest.json")
    agg = pd.read_csv(d / "aggregate.csv")
    runs = pd.read_parquet(d / "summary.parquet") if (d / "summary.parquet").is_file() else None
    varied = list(manifest.get("varied", []))
    measures = measures_in(agg.columns)
    done = None if runs is None else runs[runs["status"] == "done"]
    found, reference = _contrasts(done, agg, varied, measures, manifest.get("reference") or {})
    sections = [experiment_parameters(manifest, agg),
                section("Results by parameter set", _set_table(agg, varied, measures)),
                paired_section(found, measures, reference),
                _failures(runs),
                section("Figures", *figures(d, {f"sweep_{v}.png": f"headline measures against "
                                                f"{v}, 95 % CI over replicates" for v in varied}))]
    title = f"Parameter sweep: {manifest.get('scenario', '?')}" + (
        f", varying {' × '.join(varied)}" if varied else ", replicates only")
    return Page(title, _reading(manifest, agg, runs, varied, measures, reference),
                experiment_settings(d, manifest, agg), [s for s in sections if s],
                _bottom_line(manifest, agg, done, varied, found))


def _contrasts(runs: pd.DataFrame | None, agg: pd.DataFrame, varied: list[str],
               measures: list[str], chosen: dict[str, Any]) -> tuple[list[Contrast], str]:
    """For each varied parameter, every value against its reference (``chosen``, the
    sweep's --reference, else its lowest), paired on the replicate
    seed, the world and the other varied parameters (experiments.aggregate.sweep_paired),
    with the name of the reference. None for a design table (its sets do not differ in one
    parameter at a time) or without the runs (summary.parquet)."""
    if runs is None or runs.empty or not varied:
        return [], ""
    paired = sweep_paired(runs, varied, measures, chosen)
    found = []
    for (p, v), rows in paired.groupby(["parameter", "value"], sort=False):
        others = [o for o in varied if o != p]
        ref = rows["reference"].iloc[0]
        verb = ("switching" if pd.api.types.is_bool_dtype(runs[p]) else
                ("raising" if v > ref else "lowering") if pd.api.types.is_numeric_dtype(runs[p])
                else "changing")  # lowering: towards a --reference above it
        pooled = f" (pooled over {', '.join(others)})" if others else ""
        subject = f"{verb} {p} from {param_value(ref)} to {param_value(v)}{pooled}"
        found.append(Contrast(subject, rows.set_index("measure"), p, v))
    if not found:
        return [], ""
    first = {p: chosen.get(p, levels(runs[p])[0]) for p in varied}
    reference = (", ".join(f"{p} = {param_value(v)}" for p, v in first.items())
                 if len(varied) == 1 or chosen else "the lowest value of each varied parameter")
    return found, reference


def _bottom_line(manifest: dict[str, Any], agg: pd.DataFrame, runs: pd.DataFrame | None,
                 varied: list[str], found: list[Contrast]) -> list[str]:
    """The highest value of each varied parameter against its lowest, paired, on the key
    measures; the caveats."""
    reps = int(manifest.get("replicates", 0))
    scale, days = scale_days(manifest.get("fixed", {}))
    key = measures_in(agg.columns, kpis.leads())
    if not varied:
        r = agg.iloc[0]
        lead = (f"With {reps} replicate seed(s), the {manifest.get('scenario', '?')} scenario "
                "gives " + "; ".join(f"{short(m)} {estimate_text(m, estimate(r, m))}" for m in key)
                + " (mean [95 % CI]).")
    elif runs is None:
        lead = ("summary.parquet is missing, so the runs cannot be paired by seed; the reading "
                "below compares the sets' intervals.")
    elif not found:
        lead = (f"The {len(agg)} parameter sets form a design table, not a factorial, so no "
                "paired contrast of one parameter summarises them: see the table by parameter "
                "set and the rank correlations below.")
    else:
        last = {c.group: c for c in found}  # each parameter's highest value
        source = worlds_source(manifest) or ""
        lead = " ".join(s for c in last.values() for s in (effect_sentence(c, key, reps),
                                                          worlds_sentence(c, key, source)) if s)
    return [s for s in (lead, caveats(reps, scale, days)) if s]


def _set_table(agg: pd.DataFrame, varied: list[str], measures: list[str]) -> Raw:
    caption = "Mean over replicates [95 % CI] per parameter set"
    if len(agg) <= WIDE_SETS:
        names = [", ".join(f"{v} = {param_value(r[v])}" for v in varied) or "scenario"
                 for _, r in agg.iterrows()]
        return ci_table(agg, names, measures, caption)
    step = MEASURES_PER_TABLE
    return Raw("".join(_ci_long_table(agg, varied, measures[i:i + step],
                                      f"{caption} ({i // step + 1} of {-(-len(measures) // step)})")
                       for i in range(0, len(measures), step)))


def _ci_long_table(agg: pd.DataFrame, ids: list[str], measures: list[str], caption: str) -> Raw:
    """One row per parameter set (for many sets): its parameters, runs, then mean [CI]."""
    headers = [*ids, "runs", *(kpis.label(m) for m in measures)]
    rows = [[*(r[i] for i in ids), r["runs"], *(estimate_cell(m, estimate(r, m)) for m in measures)]
            for _, r in agg.iterrows()]
    return table(headers, rows, caption, numeric_from=len(ids))


def _failures(runs: pd.DataFrame | None) -> Raw | None:
    if runs is None or "status" not in runs or (runs["status"] == "done").all():
        return None
    bad = runs[runs["status"] != "done"][["set_id", "replicate", "seed", "error"]]
    return section("Failed runs", frame_table(bad, "Runs that raised (details in failed/<key>.json)",
                                              formats={"seed": str}))


def _reading(manifest: dict[str, Any], agg: pd.DataFrame, runs: pd.DataFrame | None,
             varied: list[str], measures: list[str], reference: str) -> str:
    reps = int(manifest.get("replicates", 0))
    head = (f"{len(agg)} parameter set(s) of the {manifest.get('scenario', '?')} scenario, "
            f"{reps} replicate seed(s) each ("
            + (PRIMARY.format(reference) if reference else "common random numbers") + ").")
    if not varied:
        r = agg.iloc[0]
        return head + " Estimates: " + "; ".join(
            f"{short(m)} {estimate_text(m, estimate(r, m))}" for m in measures) + "." + replicate_note(reps)
    if runs is None and len(varied) > 1:
        return head + " summary.parquet is missing, so effects per parameter are not shown."
    if len(varied) > 1 and not factorial(agg, varied):
        parts = [_trend_sentence(p, agg, measures) for p in varied]
        note = (" These sets are a design table, not a full factorial, so the parameters' effects "
                "are mixed; the rank correlations are indicative only (a sensitivity analysis "
                "separates them).")
        return " ".join([head, *parts]) + note + replicate_note(reps)
    parts = [_effect_sentence(p, runs, agg, varied, measures) for p in varied]
    return " ".join([head, *parts]) + replicate_note(reps)


def _trend_sentence(param: str, agg: pd.DataFrame, measures: list[str]) -> str:
    """For a design table: the measures whose set means follow ``param`` (|Spearman rho| >= 0.5)."""
    from scipy.stats import spearmanr

    if not pd.api.types.is_numeric_dtype(agg[param]) or agg[param].nunique() < 3:
        return f"{param} takes too few numeric values for a trend."
    found = []
    for m in measures:
        defined = agg[f"{m}_mean"].notna()  # a measure may be undefined in some sets
        if agg.loc[defined, param].nunique() < 3:
            continue
        rho = spearmanr(agg.loc[defined, param], agg.loc[defined, f"{m}_mean"]).statistic
        if not missing(rho) and abs(rho) >= 0.5:
            found.append(f"{short(m)} {'rises' if rho > 0 else 'falls'} (ρ = {rho:+.2f})")
    head = f"Across the {len(agg)} sets, as {param} rises from {param_value(agg[param].min())} to " \
           f"{param_value(agg[param].max())}"
    return head + (": " + "; ".join(found) + "." if found
                   else ", no measure follows it closely (all |Spearman ρ| < 0.5).")


def _effect_sentence(param: str, runs: pd.DataFrame | None, agg: pd.DataFrame, varied: list[str],
                     measures: list[str]) -> str:
    """How each measure moves from the lowest to the highest value of ``param`` (mean over the
    other varied parameters), and whether the 95 % intervals at the two ends overlap."""
    source = agg if runs is None else runs[runs["status"] == "done"]
    values = levels(source[param])
    if len(values) < 2:
        return f"{param} takes a single value ({param_value(values[0])})."
    lo, hi = values[0], values[-1]
    at = (lambda v, m: estimate(agg[agg[param] == v].iloc[0], m)) if runs is None else (
        lambda v, m: stats(m, source.loc[source[param] == v, m]))
    ends = {m: (at(lo, m), at(hi, m)) for m in measures if runs is None or m in source}
    found = by_overlap(ends)
    col = source[param]
    verb = ("Switching" if pd.api.types.is_bool_dtype(col) else
            "Raising" if pd.api.types.is_numeric_dtype(col) else "Going")
    others = [v for v in varied if v != param]
    text = (f"{verb} {param} from {param_value(lo)} to {param_value(hi)}"
            + (f" (pooled over {', '.join(others)})" if others else "") + ": ")
    return text + "; ".join(_clauses({k: [change(m, *ends[m]) for m in ms]
                                      for k, ms in found.items()})) + "."


def _clauses(found: dict[bool | None, list[str]]) -> list[str]:
    """The reading of the two ends' intervals (by_overlap's groups, as change texts)."""
    apart, same, none = found[False], found[True], found[None]
    if not apart and not none:
        return ["no measure changes clearly (all 95 % CIs overlap) — " + "; ".join(same)]
    if not apart and not same:
        return ["no 95 % CIs to compare (fewer than two runs with a value at an end) — "
                + "; ".join(none)]
    return [text + "; ".join(group) for text, group in (
        ("clear changes (95 % CIs do not overlap) in ", apart),
        ("no clear change (CIs overlap) in ", same),
        ("no CIs to compare (fewer than two runs with a value at an end) in ", none)) if group]
