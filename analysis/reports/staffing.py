"""Report on a staffing allocation (``python run.py staffing``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.aggregate import paired_differences
from experiments.staffing_allocation import minimised
from experiments.worlds import search_draw_text
from model import kpis

from .bottom import (
    PRIMARY,
    Contrast,
    amount_in_units,
    caveats,
    contrasts,
    effect_sentence,
    paired_section,
    robust_sentences,
    worlds_sentence,
)
from .common import (
    ci_table,
    csv_or_none,
    estimate,
    estimate_text,
    experiment_parameters,
    experiment_settings,
    json_or_empty,
    measures_in,
    overlap,
    replicate_note,
    scale_days,
    seeds_text,
    short,
    value_text,
    worlds_source,
)
from .html import (
    Page,
    Raw,
    details,
    figures,
    frame_table,
    measure,
    missing,
    num,
    para,
    row_of,
    section,
    table,
)

FIGURES = {
    "staffing.png": "the objective by rule (95 % CI) and staff per 10,000 against community size",
    "sweep_rule.png": "headline measures by rule, 95 % CI over the evaluation seeds",
}


def build(d: Path) -> Page:
    result = _with_counts(pd.read_csv(d / "staffing.csv"), csv_or_none(d / "aggregate.csv"))
    manifest = json_or_empty(d / "manifest.json")
    objective = next(c[:-5] for c in result.columns if c.endswith("_mean"))
    measures = list(dict.fromkeys([objective, *measures_in(result.columns)]))
    alloc = csv_or_none(d / "staffing_allocation.csv")
    search = csv_or_none(d / "search.csv")
    rules = list(result["rule"])
    runs = pd.read_parquet(d / "summary.parquet") if (d / "summary.parquet").is_file() else None
    reference = manifest.get("reference") or ("uniform" if "uniform" in rules else rules[0])
    found = _contrasts(runs, rules, reference, measures)
    robust = json_or_empty(d / "robust.json")
    sections = [
        section("Rules compared", ci_table(result, rules, measures,
                                           "Mean over the evaluation seeds [95 % CI]"),
                _weights_table(result)),
        paired_section(found, measures, _rule_name(reference)),
        _regret_section(robust, csv_or_none(d / "regret.csv")),
        _allocation_section(alloc),
        section("Search for the optimized rule", frame_table(search, numeric_from=0))
        if search is not None else None,
        experiment_parameters({**manifest, "varied": []}, result) if manifest else None,
        section("Figures", *figures(d, FIGURES))]
    settings = _settings(d, manifest, result, objective, search)
    total = _total_staff(result)
    return Page(f"Staffing allocation: {'?' if total is None else num(total)} community staff, "
                f"{len(rules)} rules compared",
                _reading(result, manifest, objective, search, reference if found else ""),
                settings, [s for s in sections if s],
                _bottom_line(result, manifest, objective, found, reference, robust))


def _rule_name(rule: str) -> str:
    return "today's uniform rule" if rule == "uniform" else f"the {rule} rule"


def _contrasts(runs: pd.DataFrame | None, rules: list[str], reference: str,
               measures: list[str]) -> list[Contrast]:
    """Every rule against ``reference`` (uniform, today's rule), paired on the evaluation
    seed; none without the runs (summary.parquet) or with a single rule."""
    if runs is None or "rule" not in runs or len(rules) < 2:
        return []
    paired = paired_differences(runs, "rule", reference, [m for m in measures if m in runs])
    return contrasts(paired, "rule", lambda r: f"{_rule_name(r)} instead of {_rule_name(reference)}")


def _best(result: pd.DataFrame, m: str) -> list[str]:
    """The rules from best to worst on measure ``m`` (by its mean; rules without one last)."""
    score = result[f"{m}_mean"].astype(float) * minimised(m)
    return list(result.loc[score.sort_values(na_position="last").index, "rule"])


def _bottom_line(result: pd.DataFrame, manifest: dict[str, Any], objective: str,
                 found: list[Contrast], reference: str, robust: dict[str, Any]) -> list[str]:
    """The best rule on the objective against uniform (or, when uniform is best, the runner-up
    against it), paired, on the objective and the key measures; with plausible worlds, the
    rule best on average against the one with the least regret; the caveats."""
    reps = int(manifest.get("replicates", result["runs"].max()))
    scale, days = scale_days(manifest.get("fixed", {}))
    ranked = _best(result, objective)
    lead = f"Of the {len(ranked)} rules, {_rule_name(ranked[0])} gives the best {short(objective)}"
    if not found:
        lead += (" (summary.parquet is missing, so the rules cannot be compared seed by seed; "
                 "the reading below compares their intervals)." if len(ranked) > 1 else ".")
        sentences = [lead]
    else:
        other = ranked[0] if ranked[0] != reference else ranked[1]
        lead += "." if other == ranked[0] else f"; the next best is {_rule_name(other)}."
        shown = [m for m in dict.fromkeys([objective, *kpis.leads()]) if f"{m}_mean" in result]
        chosen = next(c for c in found if c.value == other)
        across = worlds_sentence(chosen, shown, worlds_source(manifest) or "")
        sentences = [s for s in (lead, effect_sentence(chosen, shown, reps), across) if s]
    if robust:
        sentences.append(robust_sentences(robust)[0])
    last = caveats(reps, scale, days)
    return [*sentences, last] if last else sentences


def _regret_section(robust: dict[str, Any], regret: pd.DataFrame | None) -> Raw | None:
    """'Regret across plausible worlds': the statement, each rule's mean and regrets, and
    each rule's value and regret in each world (regret.csv); none without worlds."""
    if not robust:
        return None
    m = robust["measure"]
    rows = [[rule, measure(m, r["mean"]), *(amount_in_units(m, r[f"{k}_regret"])
                                            for k in ("mean", "max", "p90")),
             f"{r['worlds_best']} of {robust['worlds']}"]
            for rule, r in robust["policies"].items()]
    parts = [para(" ".join(robust_sentences(robust))),
             table(["rule", f"{short(m)}, mean over worlds", "mean regret", "worst-case regret",
                    "90th-percentile regret", "worlds where best"], rows,
                   f"Regret in a world: how much worse the rule's {short(m)} (mean over its "
                   f"seeds there; {robust['better']} is better) is than the best rule's in that "
                   f"world; over the {robust['worlds']} worlds where every rule has a value.",
                   numeric_from=1)]
    if regret is not None:
        parts.append(details(f"Value and regret by world ({len(regret)} rows, regret.csv)",
                             frame_table(regret, numeric_from=1)))
    return section("Regret across plausible worlds", *parts)


def _with_counts(result: pd.DataFrame, agg: pd.DataFrame | None) -> pd.DataFrame:
    """staffing.csv with each measure's ``_n`` (runs in which it is defined) from the
    directory's aggregate.csv, one row per rule, when that has them."""
    if agg is None or "rule" not in agg:
        return result
    counts = [c for c in agg.columns if c.endswith("_n") and c not in result]
    return result.merge(agg[["rule", *counts]], on="rule", how="left")


def _total_staff(result: pd.DataFrame) -> Any | None:
    """Total community staff at scale 1.0 (None when staffing.csv does not record it)."""
    return result["total_staff_at_scale_1"].iloc[0] if "total_staff_at_scale_1" in result else None


def _settings(d: Path, manifest: dict[str, Any], result: pd.DataFrame, objective: str,
              search: pd.DataFrame | None) -> list[tuple[str, Any]]:
    fixed = manifest.get("fixed", {})
    settings = experiment_settings(d, manifest, result) if manifest else []
    total = _total_staff(result)
    return [*settings, ("objective", objective),
            ("total staff at scale 1.0", None if total is None else num(total)),
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


def _search_draw(manifest: dict[str, Any]) -> str:
    """How the search worlds were drawn; a directory written before ``search_draw`` was
    recorded drew them independently of the evaluation worlds."""
    if "search_draw" in manifest:
        return search_draw_text(manifest["search_draw"])
    return ("drawn independently of those the rules are evaluated in, so they may share "
            "particles with them")


def _reading(result: pd.DataFrame, manifest: dict[str, Any], objective: str,
             search: pd.DataFrame | None, reference: str) -> str:
    fixed = manifest.get("fixed", {})
    scale, days = scale_days(fixed)
    text = (f"{num(_total_staff(result))} community staff at scale 1.0"
            + (f" ({num(fixed['staffing_per_10k'])} per 10,000 residents)"
               if "staffing_per_10k" in fixed else "")
            + f" split by {len(result)} rule(s), each evaluated on "
            + seeds_text(manifest, result["runs"].max())
            + f" at scale {num(scale)} for {num(days)} days"
            + (f" ({PRIMARY.format(_rule_name(reference))})." if reference else "."))
    for m in dict.fromkeys([objective, *kpis.leads()]):
        if f"{m}_mean" in result:
            text += " " + _best_rule_sentence(result, m)
    if "optimized" in set(result["rule"]):
        r = result[result["rule"] == "optimized"].iloc[0]
        pop, dem = r["staff_weight_population"], r["staff_weight_demand"]
        text += (f" The optimized rule keeps the 7 committee members and splits the rest "
                 f"{1 - pop - dem:.1%} in equal shares, {pop:.1%} by population and {dem:.1%} by "
                 f"expected load, found by a search for the best {objective}"
                 + (f" over {len(search)} points on separate seeds" if search is not None else "")
                 + (f", its mean over {len(manifest['search_worlds'])} plausible worlds"
                    + ("" if manifest.get("search_draw", {}).get("how") == "same"
                       else " of its own") + f" ({_search_draw(manifest)})."
                    if manifest.get("search_worlds") else "."))
    if not manifest.get("worlds"):
        text += (" No regret across worlds: the rules ran with the scenario's parameters alone "
                 "(no --posterior and --worlds), and in a single world the rule best on average "
                 "has no regret.")
    return text + replicate_note(int(manifest.get("replicates", result["runs"].max())))


def _best_rule_sentence(result: pd.DataFrame, m: str) -> str:
    sign = minimised(m)
    means = result[f"{m}_mean"].astype(float)
    if means.isna().all():
        return f"No rule has a value for {short(m)}."
    best = result.loc[(means * sign).idxmin()]
    ref_name = "uniform" if "uniform" in set(result["rule"]) else None
    head = f"On {short(m)}, {best['rule']} is best at {estimate_text(m, estimate(best, m))}"
    if ref_name is None or best["rule"] == ref_name:
        return head + (" (today's uniform rule)." if ref_name else ".")
    ref = estimate(result[result["rule"] == ref_name].iloc[0], m)
    if missing(ref.mean):
        return f"{head}; uniform has no value to compare ({value_text(m, ref)})."
    diff = best[f"{m}_mean"] - ref.mean
    rel = diff / ref.mean if ref.mean else np.nan
    verdict = {True: "the 95 % CIs overlap, so the replicates do not separate them",
               False: "the 95 % CIs do not overlap",
               None: "no intervals to compare"}[overlap(estimate(best, m), ref)]
    return (f"{head}, against {value_text(m, ref)} for uniform "
            f"({'+' if diff > 0 else '−'}{measure(m, abs(diff))}, {rel:+.1%}; {verdict}).")
