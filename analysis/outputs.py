"""Files of a sensitivity analysis (敏感性分析结果): indices.csv, second_order.csv (Sobol),
convergence.csv, noise.csv, samples.csv, summary.parquet (one row per model run),
manifest.json and the figures. Each file is written whole or not at all."""

from __future__ import annotations

import datetime as dt
from importlib.metadata import version
from pathlib import Path

import pandas as pd

from experiments.store import atomic_write, write_json
from model.metrics import MODEL_VERSION

from . import methods
from .plots import plot_convergence, plot_indices, plot_morris
from .problem import Problem
from .sensitivity import NOISE_WARNING, probe_seeds

FIGURES = ("indices.png", "morris.png", "convergence.png")


def write(result, problem: Problem, out: Path, seeds: list[int], wall_seconds: float) -> None:
    """Write every file of ``result`` (an ``analysis.sensitivity.Result``) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    tables = {"indices.csv": result.indices, "second_order.csv": result.second_order,
              "convergence.csv": result.convergence, "noise.csv": result.noise,
              "samples.csv": result.samples}
    for name, table in tables.items():
        if table is not None:
            atomic_write(out / name, lambda tmp, t=table: t.to_csv(tmp, index=False))
    if result.method != "sobol":
        (out / "second_order.csv").unlink(missing_ok=True)  # left by an earlier Sobol run
    if result.runs is not None:
        atomic_write(out / "summary.parquet",
                     lambda tmp: result.runs.to_parquet(tmp, index=False))
    write_json(out / "manifest.json", manifest(result, problem, seeds, wall_seconds))
    for name in FIGURES:
        (out / name).unlink(missing_ok=True)
    if result.method == "morris":
        plot_morris(result.indices, out / "morris.png")
    else:
        plot_indices(result.indices, result.noise, result.method, out / "indices.png")
    plot_convergence(result.convergence, out / "convergence.png")


def manifest(result, problem: Problem, seeds: list[int], wall_seconds: float) -> dict:
    runs = result.runs if result.runs is not None else pd.DataFrame({"status": []})
    return {
        "kind": "sensitivity", "model_version": MODEL_VERSION, "salib_version": version("SALib"),
        "method": result.method, "n": result.n, "scale": problem.scale, "days": problem.days,
        "replicates": problem.replicates, "seed": problem.seed, "seeds": [int(s) for s in seeds],
        "samples": len(result.samples), "runs": len(runs),
        "failed": int((runs["status"] != "done").sum()), "wall_seconds": round(wall_seconds, 1),
        "run_seconds_total": round(float(runs.get("worker_seconds", pd.Series(dtype=float)).sum()), 1),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seed_noise": ({"estimate": "sample x seed interaction (two-way ANOVA) / R"}
                       if problem.replicates > 1 else
                       {"estimate": "variance over probe seeds at the centre (upper bound)",
                        "probe_seeds": [int(s) for s in probe_seeds(problem.seed)]})
        | {"warning_above": NOISE_WARNING},
        "settings": {"conf_level": methods.CONF_LEVEL, "bootstrap_resamples": methods.RESAMPLES,
                     "morris_levels": methods.MORRIS_LEVELS,
                     "fast_harmonics": methods.FAST_HARMONICS},
        "problem": problem.describe()}
