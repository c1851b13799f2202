"""Report on a budget split (``python run.py budget``): which mix of more staff, more funding
and seasonal staff for Longqiao's winter does best for a fixed extra budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from experiments.budget import NONE, name
from model import kpis

from .bottom import (
    Contrast,
    amount,
    caveats,
    clear,
    contrasts,
    effect_sentence,
    paired_section,
    unit_of,
    worlds_sentence,
)
from .common import (
    csv_or_none,
    estimate,
    estimate_cell,
    experiment_parameters,
    experiment_settings,
    json_or_empty,
    replicate_note,
    scale_days,
    seeds_text,
    short,
    worlds_source,
)
from .html import Page, Raw, figures, frame_table, measure, missing, num, section, table

FIGURES = {
    "budget.png": "per objective, every mix's paired difference against the reference, 95 % CI; "
                  "the best mix in orange",
}
# What each use buys: (share column, column of the amount bought, how the reading words it).
BUYS = (("staff_share", "extra_staff", "{} more community workers"),
        ("funding_share", "extra_funding_per_community_yuan", "{} yuan more per community"),
        ("seasonal_share", "seasonal_workers", "{} seasonal workers for Longqiao's heating season"))


def build(d: Path) -> Page:
    result = pd.read_csv(d / "budget.csv")
    best = pd.read_csv(d / "best.csv")
    manifest = json_or_empty(d / "manifest.json")
    paired = csv_or_none(d / "paired.csv")
    objectives = list(best["objective"])
    shown = list(dict.fromkeys([*objectives, *kpis.leads()]))
    shown = [m for m in shown if f"{m}_mean" in result]
    reference = manifest["reference"]
    found = [] if paired is None else contrasts(
        paired, "mix", lambda m: f"{name(m)} instead of {name(reference)}")
    sections = [
        section("What each mix buys", _buys_table(result)),
        section("Mixes compared", _results_table(result, shown, manifest)),
        section("The best mix per objective", _best_table(best, manifest)),
        paired_section(found, shown, name(reference)),
        experiment_parameters({**manifest, "varied": []}, result),
        section("Figures", *figures(d, FIGURES))]
    budget = manifest["budget"]
    return Page(f"Budget: {num(budget['yuan_per_year'])} yuan a year over staff, funding and "
                f"seasonal staff, {len(result) - 1} mixes compared",
                reading(result, manifest, best), _settings(d, manifest, result),
                [s for s in sections if s], bottom_line(best, found, manifest))


# --- sentences ------------------------------------------------------------------------------------

def bottom_line(best: pd.DataFrame, found: list[Contrast], manifest: dict[str, Any]) -> list[str]:
    """Per objective: the best mix, its paired difference against the reference, whether it is
    clearly ahead of the runner-up; then the caveats."""
    reps = int(manifest["replicates"])
    by_mix = {c.value: c for c in found}
    n = len(manifest["budget"]["mixes"])
    sentences = []
    for b in best.to_dict("records"):
        objective = b["objective"]
        if missing(b["best_mix"]):
            sentences.append(f"No mix has a value for {short(objective)}.")
            continue
        sentences.append(f"For {short(objective)}, the best of the {n} mixes is "
                         f"{name(b['best_mix'])}.")
        chosen = by_mix.get(b["best_mix"])
        if b["best_mix"] == b["reference"]:
            sentences.append("It is the reference the other mixes are paired against.")
        elif chosen is not None:
            sentences.append(effect_sentence(chosen, [objective], reps))
            across = worlds_sentence(chosen, [objective], worlds_source(manifest) or "")
            if across:
                sentences.append(across)
        if not missing(b["runner_up"]):
            sentences.append(runner_up_sentence(b))
    last = caveats(reps, *scale_days(manifest.get("fixed", {})))
    return [*sentences, last] if last else sentences


def runner_up_sentence(b: dict[str, Any]) -> str:
    """Whether the best mix is clearly ahead of the runner-up on its objective (paired)."""
    m = b["objective"]
    gap = pd.Series({"difference": b["gap"], "ci_low": b["gap_ci_low"],
                     "ci_high": b["gap_ci_high"], "pairs": b["gap_pairs"]})
    u = unit_of(m)
    text = (f"The runner-up, {name(b['runner_up'])}, differs from it by "
            f"{amount(m, b['gap'], True)}{u}")
    if missing(b["gap_ci_low"]):
        return text + " (no interval with fewer than two pairs)."
    interval = (f"95 % CI {amount(m, b['gap_ci_low'], True)} to "
                f"{amount(m, b['gap_ci_high'], True)}{u}")
    if clear(gap):
        return f"{text} ({interval}): the best mix is clearly ahead."
    return f"{text} ({interval}): the replicates do not separate the two."


def buys_sentence(result: pd.DataFrame, manifest: dict[str, Any]) -> str:
    """What the whole budget buys in each use, from the rows of budget.csv that spend on it
    (the amounts are proportional to the share)."""
    budget = manifest["budget"]
    parts = []
    for share, column, words in BUYS:
        spending = result[result[share] > 0]
        if spending.empty:
            continue
        row = spending.iloc[0]
        parts.append(words.format(count(row[column] / row[share])))
    costs = (f"at {count(budget['worker_yuan_per_year'])} yuan a year per community worker, "
             f"{count(budget['seasonal_worker_yuan_per_month'])} yuan a month per seasonal worker "
             f"over a heating season of {num(budget['season_months'])} months, and funding "
             f"spread over the {num(budget['communities'])} communities expected at scale 1.0")
    return (f"{num(budget['yuan_per_year'])} yuan a year on top of today's spending buys "
            + ", or ".join(parts) + f" ({costs}).")


def reading(result: pd.DataFrame, manifest: dict[str, Any], best: pd.DataFrame) -> str:
    scale, days = scale_days(manifest.get("fixed", {}))
    reps = int(manifest["replicates"])
    paired = " on the same world and seed" if manifest.get("worlds") else ""
    text = (buys_sentence(result, manifest) + f" Each of the {len(result) - 1} mixes and "
            f"{name(NONE)} ran on the same {seeds_text(manifest, reps)} at scale {num(scale)} "
            f"for {num(days)} days; each mix is compared with {name(manifest['reference'])} by "
            f"paired differences{paired}.")
    for objective in best["objective"]:
        text += " " + range_sentence(result, objective)
    return text + replicate_note(reps)


def range_sentence(result: pd.DataFrame, objective: str) -> str:
    """The spread of the objective's means over the spending mixes, best and worst."""
    spend = result[(result["mix"] != NONE) & result[f"{objective}_mean"].notna()]
    if spend.empty:
        return f"No mix has a value for {short(objective)}."
    means = spend[f"{objective}_mean"].astype(float) * kpis.better(objective)
    top, bottom = spend.loc[means.idxmax()], spend.loc[means.idxmin()]
    base = result[result["mix"] == NONE]
    against = ("" if base.empty or missing(base.iloc[0][f"{objective}_mean"]) else
               f"; {name(NONE)} gives {measure(objective, base.iloc[0][f'{objective}_mean'])}")
    return (f"On {short(objective)} the mixes range from "
            f"{measure(objective, top[f'{objective}_mean'])} ({name(top['mix'])}) to "
            f"{measure(objective, bottom[f'{objective}_mean'])} ({name(bottom['mix'])})"
            f"{against}.")


def count(x: float) -> str:
    """Workers or yuan for running text: whole from 100 on, else one decimal."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}"


# --- tables ---------------------------------------------------------------------------------------

def _buys_table(result: pd.DataFrame) -> Raw:
    cols = {"mix": "mix (staff:funding:seasonal)", "extra_staff": "extra community workers",
            "staffing_per_10k": "staff per 10,000 residents",
            "extra_funding_per_community_yuan": "extra yuan per community",
            "funding_per_community_yuan": "yuan per community",
            "seasonal_workers": "seasonal workers (heating season)",
            "seasonal_staff_per_10k_influx": "seasonal workers per 10,000 winter residents"}
    shown = result[list(cols)].rename(columns=cols)
    shown.insert(1, "in words", [name(m) for m in result["mix"]])
    return frame_table(shown, "At scale 1.0: the budget split by each mix, and the parameters "
                       "each mix runs with", numeric_from=2)


def over(manifest: dict[str, Any]) -> tuple[str, str]:
    """What a mix's mean is over, and what its differences are paired on: the replicate
    seeds and the seed, or with plausible worlds the worlds' means and the (world, seed)
    pair (experiments/aggregate.py)."""
    if not manifest.get("worlds"):
        return "the replicate seeds", "the seed"
    return (f"the means of the {len(manifest['worlds'])} plausible worlds "
            f"({num(manifest['replicates'])} seed(s) in each)", "the (world, seed) pair")


def _results_table(result: pd.DataFrame, measures: list[str], manifest: dict[str, Any]) -> Raw:
    rows = [[name(r["mix"]), int(r["runs"]), *(estimate_cell(m, estimate(r, m)) for m in measures)]
            for _, r in result.iterrows()]
    return table(["mix", "runs", *(f"{kpis.label(m)} ({kpis.unit(m)})" for m in measures)], rows,
                 f"Mean over {over(manifest)[0]} [95 % CI]; budget.csv has every headline "
                 "measure",
                 numeric_from=1)


def _best_table(best: pd.DataFrame, manifest: dict[str, Any]) -> Raw:
    rows = []
    for b in best.to_dict("records"):
        m = b["objective"]
        u = (POINTS if unit_of(m) else kpis.unit(m))
        diff = ("n/a" if missing(b["difference"]) else amount(m, b["difference"], True) + (
            "" if missing(b["ci_low"]) else
            f" [{amount(m, b['ci_low'], True)}, {amount(m, b['ci_high'], True)}]"))
        gap = ("n/a" if missing(b["gap"]) else amount(m, b["gap"], True) + (
            "" if missing(b["gap_ci_low"]) else
            f" [{amount(m, b['gap_ci_low'], True)}, {amount(m, b['gap_ci_high'], True)}]"))
        rows.append([kpis.label(m), "n/a" if missing(b["best_mix"]) else name(b["best_mix"]),
                     measure(m, b["best_mean"]), f"{diff} {u}".strip(),
                     "n/a" if missing(b["runner_up"]) else name(b["runner_up"]),
                     f"{gap} {u}".strip()])
    return table(["objective", "best mix", "its mean", "against the reference [95 % CI]",
                  "runner-up", "runner-up − best [95 % CI]"], rows,
                 "Best by the mean over {}; differences paired on {}".format(*over(manifest)),
                 numeric_from=2)


POINTS = "percentage points"


def _settings(d: Path, manifest: dict[str, Any], result: pd.DataFrame) -> list[tuple[str, Any]]:
    budget = manifest["budget"]
    return [*experiment_settings(d, manifest, result),
            ("extra budget (yuan a year, scale 1.0)", num(budget["yuan_per_year"])),
            ("objectives", ", ".join(manifest["objectives"])),
            ("reference", name(manifest["reference"])),
            ("cost of a community worker (yuan a year)", count(budget["worker_yuan_per_year"])),
            ("cost of a seasonal worker (yuan a month)",
             count(budget["seasonal_worker_yuan_per_month"])),
            ("heating season (months)", num(budget["season_months"])),
            ("communities expected at scale 1.0", num(budget["communities"]))]
