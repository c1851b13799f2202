"""Report on a sensitivity analysis, Sobol or Morris (``python run.py sensitivity``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.sensitivity import NOISE_WARNING
from model import kpis

from .bottom import caveats, number
from .common import (
    FEW_REPLICATES,
    PARAM_HEADERS,
    csv_or_none,
    json_or_empty,
    param_rows,
    short,
    written,
)
from .html import Page, Raw, esc, figures, frame_table, missing, num, para, pm_cell, section, table

FIGURES = {
    "indices.png": "first-order (S1) and total (ST) indices per output, with confidence intervals",
    "morris.png": "Morris screening: mu* against sigma per output",
    "convergence.png": "indices at N/2 and N samples: stable indices have converged",
}


def build(d: Path) -> Page:
    manifest = json_or_empty(d / "manifest.json")
    problem = manifest.get("problem", {})
    indices = pd.read_csv(d / "indices.csv")
    method = manifest.get("method") or ("morris" if "mu_star" in indices else "sobol")
    noise = csv_or_none(d / "noise.csv")
    conv = csv_or_none(d / "convergence.csv")
    second = csv_or_none(d / "second_order.csv")
    sections = [_problem_section(problem), _indices_section(indices, method),
                _second_order_section(second), _noise_section(noise),
                section("Figures", *figures(d, FIGURES))]
    title = (f"Sensitivity analysis ({method.capitalize()}): "
             f"{problem.get('name') or problem.get('scenario') or d.name}")
    return Page(title, _reading(indices, method, noise, conv, manifest),
                _settings(d, manifest, method), [s for s in sections if s],
                _bottom_line(indices, method, noise, manifest))


DRIVES = 0.5     # a parameter drives an output: its index is at least this share of the largest
LITTLE = 0.1     # ... matters little: below this share (or within its confidence of 0)
NAMED = 8        # at most this many parameters are named per rank (a screening has hundreds)


def _bottom_line(indices: pd.DataFrame, method: str, noise: pd.DataFrame | None,
                 manifest: dict[str, Any]) -> list[str]:
    """In words, which parameters drive each output and which matter little; the caveats."""
    parts = [_drivers(output, g, method) for output, g in indices.groupby("output", sort=False)]
    lead = "; ".join(parts)
    reps = manifest.get("replicates")
    extra = []
    if reps is not None and reps < FEW_REPLICATES:
        extra.append(f"each sample is the mean of only {reps} replicate seed(s), so seed noise "
                     "weighs on every index")
    if noise is not None and "seed_noise_share" in noise:
        loud = noise[noise["seed_noise_share"] >= NOISE_WARNING]
        if len(loud):
            extra.append("seed noise is a large share of the variance of " + ", ".join(
                f"{short(o)} ({x:.0%})" for o, x in zip(loud["output"], loud["seed_noise_share"],
                                                         strict=True))
                         + ", whose indices partly measure noise")
    last = caveats(None, number(manifest.get("scale")), number(manifest.get("days")), tuple(extra))
    return [f"What drives each output: {lead}." if lead else "No indices were computed.",
            *([last] if last else [])]


def _drivers(output: str, g: pd.DataFrame, method: str) -> str:
    """'a drives <output> (ST 0.6), b also matters (ST 0.2), c matters little (ST 0.01)':
    against the largest index of the output; an index within its confidence of 0 counts as
    mattering little."""
    main, _ = _index_names(method)
    g = g.dropna(subset=[main]).sort_values(main, ascending=False, key=abs)
    if g.empty:
        return f"no indices for {short(output)}"
    top = abs(g[main].iloc[0])
    conf = g[f"{main}_conf"] if f"{main}_conf" in g else pd.Series(np.nan, index=g.index)
    size = g[main].abs()
    little = (size < LITTLE * top) | (size <= conf.fillna(-1))
    drives = ~little & (size >= DRIVES * top)
    middle = ~little & ~drives

    def names(mask: pd.Series) -> str:
        items = [f"{p} ({main} {num(v)})" for p, v in zip(g["parameter"][mask], g[main][mask],
                                                          strict=True)]
        if len(items) > NAMED:  # the largest, then a count
            items = [*items[:NAMED], f"{len(items) - NAMED} more"]
        return " and ".join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else items)

    plural = {True: "", False: "s"}
    text = (f"{names(drives)} drive{plural[bool(drives.sum() > 1)]} {short(output)}" if drives.any()
            else f"no parameter clearly drives {short(output)}")
    if middle.any():
        text += f", {names(middle)} also matter{plural[bool(middle.sum() > 1)]}"
    if little.sum() > NAMED:
        text += f", the other {little.sum()} matter little"
    elif little.any():
        text += f", {names(little)} matter{plural[bool(little.sum() > 1)]} little"
    return text


def _settings(d: Path, m: dict[str, Any], method: str) -> list[tuple[str, Any]]:
    p = m.get("problem", {})
    return [("model version", m.get("model_version")), ("scenario", p.get("scenario")),
            ("method", method), ("N (base samples; trajectories for Morris)", num(m.get("n"))),
            ("model evaluations (samples)", num(m.get("samples"))), ("runs", num(m.get("runs"))),
            ("failed runs", num(m.get("failed"))), ("scale", num(m.get("scale"))),
            ("days", num(m.get("days"))), ("replicates per sample", num(m.get("replicates"))),
            ("base seed", str(m["seed"]) if "seed" in m else None),
            ("replicate seeds", ", ".join(str(s) for s in m.get("seeds", []))),
            ("wall time of this command (s)", num(m.get("wall_seconds"))),
            ("model run time, all runs (s)", num(m.get("run_seconds_total"))),
            ("created", m.get("created") or written(d / "indices.csv"))]


def _problem_section(problem: dict[str, Any]) -> Raw:
    params = problem.get("parameters", [])
    rows = [[p.get("name"), p.get("lower"), p.get("upper"), p.get("dist", ""), p.get("source", "")]
            for p in params]
    parts = [para(problem["description"]) if problem.get("description") else "",
             table(["parameter", "lower", "upper", "distribution", "source"], rows,
                   f"{len(params)} uncertain parameters", numeric_from=1)]
    fixed = problem.get("fixed", {})
    if fixed:
        parts.append(table(PARAM_HEADERS, param_rows(fixed), "Fixed for every run"))
    outputs = problem.get("outputs", [])
    if outputs:
        parts.append(para("Outputs analysed: " + ", ".join(
            f"{o} ({kpis.label(o)})" if kpis.label(o) != o else o for o in outputs) + "."))
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


def _reading(indices: pd.DataFrame, method: str, noise: pd.DataFrame | None,
             conv: pd.DataFrame | None, manifest: dict[str, Any]) -> list[str]:
    """A lead sentence (what was run, how far to trust it), then one point per output."""
    main, _ = _index_names(method)
    n = manifest.get("n")
    lead = (f"{method.capitalize()} analysis of {indices['parameter'].nunique()} parameters"
            + (f" with N = {n}" if n else "")
            + (f" ({num(manifest['runs'])} model runs)" if manifest.get("runs") else "") + ".")
    lead += _range_note(indices, method) + _noise_warning(noise) + _convergence_note(conv, main)
    if manifest.get("failed"):
        lead += f" {manifest['failed']} run(s) failed and were left out."
    reps = manifest.get("replicates")
    if reps is not None and reps < FEW_REPLICATES:
        lead += (f" Each sample is the mean of only {reps} replicate seed(s) (at least "
                 f"{FEW_REPLICATES} are advised), so seed noise weighs on every index.")
    shares = {} if noise is None else dict(zip(noise["output"], noise["seed_noise_share"],
                                                 strict=True))
    points = []
    for output, g in indices.groupby("output", sort=False):
        point = _output_sentence(output, g, method)
        share = shares.get(output)
        if not missing(share) and share >= NOISE_WARNING:
            point = point[:-1] + f" (but seed noise is {share:.0%} of its variance)."
        points.append(point)
    return [lead, *points]


def _output_sentence(output: str, g: pd.DataFrame, method: str) -> str:
    main, second = _index_names(method)
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
    text += f"({main} {pm_cell(first[main], conf)}, {second} {num(first.get(second))})"
    if not close.empty:
        text += ", followed by " + ", ".join(f"{r['parameter']} ({num(r[main])})"
                                             for _, r in close.iterrows())
    if method != "morris" and "S1" in g:
        inter = g["ST"].sum() - g["S1"].sum()
        strength = ("none detectable" if inter <= 0 else "small" if inter < 0.1
                    else "moderate" if inter < 0.3 else "strong")
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
        top = noise["seed_noise_share"].max()
        return "" if missing(top) else (f" Seed noise is at most {top:.0%} of any output's "
                                        "variance, so the indices measure the parameters.")
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
    last, first = wide[wide.columns.max()], wide[wide.columns.min()]
    delta = (last - first).abs()
    span = (f" From N = {num(wide.columns.min())} to N = {num(wide.columns.max())} the {main} "
            "indices moved by at most ")
    if main == "mu_star":  # in each output's own units: relative to its largest mu*
        largest = last.abs().groupby(level="output").transform("max")
        return span + f"{(delta / largest).max():.0%} of their output's largest (see convergence.png)."
    return span + f"{num(delta.max())} (see convergence.png)."
