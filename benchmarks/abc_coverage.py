#!/usr/bin/env python3
"""Coverage of the ABC posterior on synthetic data from known parameter values (issue 13,
part 3; docs/calibration.md, "Coverage on synthetic data").

For each of ``--datasets`` data sets k: draw a true θ of ``--params`` from the schema priors,
truncated to each field's range as the ABC's prior is; simulate the baseline with θ at
``--scale`` for ``--days`` on a seed no particle of the ABC can draw (at or above
``MODEL_SEEDS``); take the run's statistics as the observed data; fit them with the same
ABC-SMC as ``calibrate --method abc`` (``model.abc_calibration.run``, one process) and the
same scale and days; and record for each parameter whether the 90 % credible interval of
the final population (its weighted 5 % and 95 % quantiles) contains the truth. With θ drawn
from the prior, a calibrated posterior contains it in 90 % of data sets.

Outputs in ``--out``: ``dataset_001/`` ... (each an ABC output directory, with its own
``abc.db`` and ``truth.json``), ``coverage.csv`` (one row per data set and parameter),
``coverage_summary.json`` (coverage per parameter and overall with binomial 95 % intervals,
the settings, wall time, simulations) and ``coverage.png``. The same command again skips the
finished data sets and resumes an interrupted one; more ``--datasets`` adds data sets.

    python benchmarks/abc_coverage.py [--datasets 20] [--params case_rate_scale,rate_property]
        [--particles 50] [--generations 3] [--scale 0.05] [--days 90] [--seed 2021]
        [--out results/abc_coverage]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from experiments.executors import ExperimentError  # noqa: E402
from experiments.interrupt import exit_status, stopping_signals_interrupt  # noqa: E402
from experiments.lock import locked  # noqa: E402
from experiments.outdir import check_out_dir  # noqa: E402
from experiments.store import atomic_write, write_json  # noqa: E402
from model import abc_calibration as ac  # noqa: E402
from model import figstyle  # noqa: E402
from model.params import PRIORS, ParameterError  # noqa: E402
from yanzhou_governance.cli import OneLineParser, _at_least, _names, _seed, _setting  # noqa: E402

# The parameters the three statistics can identify: case_rate_scale moves tickets per 10,000
# about fivefold across its prior's 90 % interval, rate_property the property share fourfold;
# the other defaults of the ABC move either by less than the seed noise at small scale, or
# (hotline_propensity) only along the tickets direction case_rate_scale already spans.
# The sizes fit 20 data sets into about 40 minutes on one shared core (docs/calibration.md):
# at scale 0.05 the seed-to-seed spread of the statistics (from the district drawn) is as
# wide after 90 days as after 180, at half the cost of a simulation.
DEFAULTS = {"datasets": 20, "params": "case_rate_scale,rate_property", "particles": 50,
            "generations": 3, "scale": 0.05, "days": 90, "seed": 2021,
            "out": "results/abc_coverage"}
# What makes the data sets and their fits; a rerun into the same --out must repeat them
# (--datasets may grow: data set k depends on the seed and k only).
SETTINGS = ("params", "particles", "generations", "scale", "days", "seed")
CONFIG_NAME = "coverage_config.json"
TRUTH_NAME = "truth.json"
CSV_NAME, SUMMARY_NAME, FIGURE_NAME = "coverage.csv", "coverage_summary.json", "coverage.png"
BINOMIAL_CONFIDENCE = 0.95   # the interval of a coverage over data sets (Clopper-Pearson)
CI = f"ci{round(BINOMIAL_CONFIDENCE * 100)}"   # its key in the summary

Log = Callable[[str], None]


def stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --- command line ----------------------------------------------------------------------------

def parse_args(argv: Sequence[str] | None) -> dict[str, Any]:
    """The settings of the command line, each checked as it is read (one-line error, exit 2
    otherwise) but for the names of --params (``ac.check_names``, in ``main``)."""
    ap = OneLineParser(prog="abc_coverage.py", description=" ".join(__doc__.split("\n\n")[0].split()),
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--datasets", type=_at_least(1), help="synthetic data sets")
    ap.add_argument("--params", type=_names, metavar="NAME,NAME,...",
                    help="parameters drawn and fitted")
    ap.add_argument("--particles", type=_at_least(2), help="ABC particles per generation")
    ap.add_argument("--generations", type=_at_least(1), help="ABC generations")
    ap.add_argument("--scale", type=_setting("scale"),
                    help="population scale of the data and of the fit")
    ap.add_argument("--days", type=_setting("days"), help="days per simulation, data and fit")
    ap.add_argument("--seed", type=_seed, help="seed of the whole benchmark")
    ap.add_argument("--out", help="output directory")
    ap.set_defaults(**DEFAULTS)   # argparse passes the text defaults through their types too
    args = ap.parse_args(argv)
    return {k: getattr(args, k) for k in DEFAULTS}


def check_settings(out: Path, settings: dict[str, Any]) -> None:
    """ParameterError when ``out`` holds a coverage run with other settings."""
    try:
        before = json.loads((out / CONFIG_NAME).read_text())
    except FileNotFoundError:
        return
    k = next((k for k in SETTINGS if before.get(k) != settings[k]), None)
    if k is not None:
        raise ParameterError(f"--out '{out}' holds a coverage run with --{k} = {before.get(k)!r}, "
                             f"not {settings[k]!r}; allowed: the same settings to resume it, or "
                             "another --out")


# --- one data set ----------------------------------------------------------------------------

def dataset_dir(out: Path, k: int) -> Path:
    return out / f"dataset_{k:03d}"


def make_truth(k: int, settings: dict[str, Any]) -> dict[str, Any]:
    """Data set ``k``: θ drawn from the truncated priors, the synthetic data's seed and
    statistics, and the seed of its ABC run, each from its own stream of
    ``SeedSequence([seed, k])``."""
    theta_ss, data_ss, abc_ss = np.random.SeedSequence([settings["seed"], k]).spawn(3)
    rng = np.random.default_rng(theta_ss)
    theta = {n: ac.TruncatedRV(n).rvs(random_state=rng) for n in settings["params"]}
    data_seed = ac.MODEL_SEEDS + int(data_ss.generate_state(1)[0])
    start = time.perf_counter()
    data = ac.simulate(theta, settings["scale"], settings["days"], data_seed)
    return {"dataset": k, "theta": theta, "data_seed": data_seed,
            "abc_seed": int(abc_ss.generate_state(1)[0]),
            "observed": {s: data[s] for s in ac.STATS}, "property_margin": data["property_margin"],
            "simulation_seconds": round(time.perf_counter() - start, 3)}


def truth_of(d: Path, k: int, settings: dict[str, Any]) -> dict[str, Any]:
    """The truth of data set ``k`` from ``d``, made and written there the first time."""
    path = d / TRUTH_NAME
    if path.is_file():
        return json.loads(path.read_text())
    truth = make_truth(k, settings)
    d.mkdir(parents=True, exist_ok=True)
    write_json(path, truth)
    return truth


def finished(d: Path, generations: int) -> bool:
    summary = d / "abc_summary.json"
    return summary.is_file() and json.loads(summary.read_text())["generations"] == generations


def fit(d: Path, k: int, settings: dict[str, Any], log: Log) -> dict[str, Any]:
    """Data set ``k`` in ``d``: its truth, fitted by ABC unless that is done already."""
    where = f"coverage: data set {k}/{settings['datasets']}"
    truth = truth_of(d, k, settings)
    if finished(d, settings["generations"]):
        log(f"{where}: finished before, skipped")
        return truth
    shown = ", ".join(f"{n} = {v:.4g}" for n, v in truth["theta"].items())
    log(f"{where}: truth {shown}; data " +
        ", ".join(f"{s} = {v:.4g}" for s, v in truth["observed"].items()))
    ac.run(d, settings["params"], settings["particles"], settings["generations"],
           settings["scale"], settings["days"], truth["abc_seed"], workers=1,
           log=lambda line: log(f"{where}: {line}"), targets=truth["observed"])
    return truth


# --- coverage --------------------------------------------------------------------------------

def prior_interval(name: str) -> tuple[float, float]:
    """The central CREDIBLE interval of ``name``'s truncated prior."""
    rv, tail = ac.TruncatedRV(name), (1 - ac.CREDIBLE) / 2
    return rv.ppf(tail), rv.ppf(1 - tail)


def coverage_rows(theta: dict[str, float], post: pd.DataFrame) -> list[dict[str, Any]]:
    """Per parameter of ``theta``: the posterior ``post`` (particles and ``weight``) mean and
    credible interval, whether the interval contains the true value, and the posterior's
    weight at or below it (uniform over data sets if the posterior is calibrated; 0 or 1 when
    every particle lies on one side)."""
    w = post["weight"].to_numpy()
    rows = []
    for name, true in theta.items():
        x = post[name].to_numpy()
        lo, hi = ac.credible_interval(x, w)
        p_lo, p_hi = prior_interval(name)
        rows.append({"parameter": name, "true": true, "posterior_mean": float(np.sum(w * x)),
                     "ci_low": lo, "ci_high": hi, "covered": bool(lo <= true <= hi),
                     "posterior_cdf_at_true": float(w[x <= true].sum()),
                     "width": hi - lo, "prior_width": p_hi - p_lo,
                     "width_ratio": (hi - lo) / (p_hi - p_lo)})
    return rows


def dataset_rows(d: Path, truth: dict[str, Any]) -> list[dict[str, Any]]:
    """The coverage rows of the fitted data set in ``d``, with what the fit cost."""
    info = json.loads((d / "abc_summary.json").read_text())
    last = pd.read_csv(d / "convergence.csv").iloc[-1]
    about = {"dataset": truth["dataset"], **truth["observed"], "data_seed": truth["data_seed"],
             "abc_seed": truth["abc_seed"], "simulations": info["total_simulations"] + 1,
             "wall_seconds": info["wall_time_seconds"] + truth["simulation_seconds"],
             "final_epsilon": float(last["epsilon"]),
             "effective_sample_size": float(last["effective_sample_size"])}
    return [{**about, **row}
            for row in coverage_rows(truth["theta"], pd.read_parquet(d / "posterior.parquet"))]


def binomial(covered: int, n: int) -> dict[str, Any]:
    ci = stats.binomtest(covered, n).proportion_ci(BINOMIAL_CONFIDENCE, method="exact")
    return {"covered": covered, "cases": n, "coverage": covered / n,
            CI: [float(ci.low), float(ci.high)]}


def summarise(table: pd.DataFrame, settings: dict[str, Any], seconds: float) -> dict[str, Any]:
    """Coverage per parameter and pooled over parameters (the pooled cases of one data set
    are not independent), with the settings and what the data sets cost."""
    per = {name: {**binomial(int(g["covered"].sum()), len(g)),
                  "median_width_ratio": float(g["width_ratio"].median())}
           for name, g in table.groupby("parameter", sort=False)}
    sets = table.drop_duplicates("dataset")
    return {"nominal": ac.CREDIBLE, "parameters": per,
            "overall": binomial(int(table["covered"].sum()), len(table)),
            "settings": {**settings, "workers": 1},
            "simulations": int(sets["simulations"].sum()),
            "wall_time_seconds": round(float(sets["wall_seconds"].sum()), 1),
            "this_invocation_seconds": round(seconds, 1)}


# --- figure ----------------------------------------------------------------------------------

def plot(table: pd.DataFrame, summary: dict[str, Any], path: Path) -> None:
    """Per parameter, data sets sorted by true value: the posterior credible interval (blue if
    it contains the truth, orange-red if not), its mean, and the truth."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    names = list(summary["parameters"])
    colour = {True: figstyle.OKABE_ITO[0], False: figstyle.OKABE_ITO[3]}
    level = f"{ac.CREDIBLE * 100:.0f} %"
    with figstyle.style():
        fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names) + 1, 4.8),
                                 squeeze=False)
        for ax, name in zip(axes.flat, names, strict=True):
            g = table[table["parameter"] == name].sort_values("true").reset_index(drop=True)
            for i, r in g.iterrows():
                ax.plot([i, i], [r["ci_low"], r["ci_high"]], color=colour[r["covered"]], lw=3,
                        alpha=0.8, solid_capstyle="butt")
            ax.scatter(g.index, g["posterior_mean"], color="white", edgecolors="k", s=18,
                       zorder=3, label="posterior mean")
            ax.scatter(g.index, g["true"], color="k", marker="x", s=36, zorder=4, label="true value")
            for y in prior_interval(name):
                ax.axhline(y, color=figstyle.GREY, ls=":", lw=1)
            if PRIORS[name][0] == "lognormal":   # a long right tail: even steps on a log axis
                ax.set_yscale("log")
                # plain numbers, and only 1, 2, 3, 5 times a power of ten, or they crowd
                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
                ax.yaxis.set_minor_formatter(FuncFormatter(
                    lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "1235" else ""))
            c = summary["parameters"][name]
            lo, hi = c[CI]
            ax.set_title(f"{name}\n{c['covered']} of {c['cases']} covered ({c['coverage']:.0%}; "
                         f"{BINOMIAL_CONFIDENCE * 100:.0f} % interval {lo:.0%}-{hi:.0%})")
            ax.set_xlabel("data set, sorted by true value")
            ax.set_ylabel(name + (" (log scale)" if ax.get_yscale() == "log" else ""))
            ax.set_xticks([])
        handles = [plt.Line2D([], [], color=colour[True], lw=3, label=f"{level} interval, covers"),
                   plt.Line2D([], [], color=colour[False], lw=3, label=f"{level} interval, misses"),
                   *axes.flat[0].get_legend_handles_labels()[0],
                   plt.Line2D([], [], color=figstyle.GREY, ls=":", label=f"prior {level} interval")]
        fig.legend(handles=handles, loc="lower center", ncol=5, frameon=False, fontsize=10)
        s = summary["settings"]
        fig.suptitle(f"ABC {level} credible intervals on {table['dataset'].nunique()} "
                     f"synthetic data sets (scale {s['scale']}, {s['days']} days, "
                     f"{s['particles']} particles, {s['generations']} generations)")
        fig.tight_layout(rect=(0, 0.07, 1, 1))
        atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=figstyle.DPI))
        plt.close(fig)


# --- the benchmark ---------------------------------------------------------------------------

def run(settings: dict[str, Any], out: Path, log: Log = stderr) -> dict[str, Any]:
    """Every data set of ``settings`` into ``out`` (finished ones skipped), then the table,
    the summary and the figure. Returns the summary."""
    start = time.perf_counter()
    write_json(out / CONFIG_NAME, {k: settings[k] for k in SETTINGS})
    rows = []
    for k in range(1, settings["datasets"] + 1):
        d = dataset_dir(out, k)
        rows += dataset_rows(d, fit(d, k, settings, log))
        table = pd.DataFrame(rows)
        latest = ", ".join(f"{r['parameter']} {'covered' if r['covered'] else 'MISSED'}"
                           for r in rows[-len(settings["params"]):])
        log(f"coverage: data set {k}/{settings['datasets']}: {latest}; so far "
            f"{table['covered'].mean():.0%} of {len(table)} covered")
    summary = summarise(table, settings, time.perf_counter() - start)
    atomic_write(out / CSV_NAME, lambda tmp: table.to_csv(tmp, index=False))
    write_json(out / SUMMARY_NAME, summary)
    plot(table, summary, out / FIGURE_NAME)
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = parse_args(argv)
    except SystemExit as e:   # argparse's one-line errors (2) and --help (0)
        return int(e.code or 0)
    try:
        settings["params"] = ac.check_names(settings["params"])
        out = check_out_dir(settings.pop("out"), "abc_coverage")
        check_settings(out, settings)
        with stopping_signals_interrupt(), locked(out):   # SIGTERM, SIGHUP: as Ctrl-C
            summary = run(settings, out)
    except (ParameterError, ExperimentError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        stderr("interrupted; finished data sets are kept: run the same command again to resume")
        return exit_status(e)
    for name, c in {**summary["parameters"], "overall": summary["overall"]}.items():
        lo, hi = c[CI]
        print(f"{name:<20} {c['covered']:>3} of {c['cases']:<3} covered: {c['coverage']:.0%} "
              f"({BINOMIAL_CONFIDENCE * 100:.0f} % interval {lo:.0%}-{hi:.0%})")
    print(f"{summary['simulations']} simulations, {summary['wall_time_seconds']:.0f} s; "
          f"written to {out}/ ({CSV_NAME}, {SUMMARY_NAME}, {FIGURE_NAME})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
