"""Approximate Bayesian computation (ABC-SMC, pyabc) of the calibrated parameters against F3
and F4 (docs/calibration.md, section "Approximate Bayesian computation").

Plain functional flow: ``prior_distribution(names)`` (the schema's priors, truncated to each
field's range), ``simulate(theta, scale, days, seed)`` (one baseline run -> summary
statistics), ``observed()`` (the study's targets), ``run(...)`` (ABC-SMC into an output
directory, resumable; against the study's targets or, with ``targets``, any observed
statistics, e.g. synthetic data for a coverage check: benchmarks/abc_coverage.py), and the
writers of the outputs.

Summary statistics (none of them a model input):

- ``tickets_per_10k``: F3, hotline tickets per 10,000 residents per year (observed 588);
- ``property_share``: F4, property's share of tickets (observed 0.133);
- ``property_shortfall``: how far property falls short of leading, ``max(0, -margin)`` with
  ``margin`` = property's share minus the next-largest category's share. The study says
  property is the largest category but not by how much, so the observed margin is unknown;
  only "property leads" is observed, i.e. shortfall 0. The raw ``property_margin`` is kept in
  the history (not used by the distance).

Reproducibility: every particle task gets a seed from ``SeedSequence([seed, generation])``; the
particle's parameters, perturbations and the model's seed come from that task's rng alone, so
a run is the same for any number of workers and after a resume.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyabc
from pyabc.random_variables import RVBase
from pyabc.sampler import MappingSampler

from . import study
from .calibration import target_statistics
from .params import FIELDS, PRIORS, ParameterError, did_you_mean
from .priors import calibratable, truncated

# The ten parameters that move the statistics most (the largest Morris mu* for tickets and
# property's share, each relative to its output's largest: docs/sensitivity.md), and two the
# statistics cannot inform but decisions depend on, so that the posterior's plausible worlds
# vary them: the share of office time on cases (congestion; the fixed-point calibration pins
# it by an assumed utilisation) and residents' patience (abandonment).
DEFAULT_PARAMS = ("case_rate_scale", "property_reference_gap", "firm_quality_commercial",
                  "rate_property", "expectation_commodity_buyer", "expectation_urban_native",
                  "age_factor_other_kinds_young", "firm_service_response", "gulou_share_of_rest",
                  "fee_reference_satisfaction", "case_time_share", "patience_days")
STATS = ("tickets_per_10k", "property_share", "property_shortfall")
DB_NAME = "abc.db"
CONFIG_NAME = "abc_config.json"   # the settings of the run in DIR, checked on resume
OUTPUTS = ("posterior.parquet", "convergence.csv", "posterior_marginals.png",
           "posterior_pairs.png", "abc_summary.json")
CREDIBLE = 0.90
MAX_SCALE_WEIGHT_RATIO = 100.0   # no statistic weighs more than 100 times another
# The unit of each statistic (STATS order) for the distance (``in_units``): the study's value
UNITS = np.array([study.F3_TICKETS_PER_10K, study.F4_PROPERTY_SHARE, study.F4_PROPERTY_SHARE])
# a particle's model seed is drawn from [0, MODEL_SEEDS), a range numpy's legacy randint
# covers on every platform; seeds at or above it are never a particle's, so synthetic data
# made with them (benchmarks/abc_coverage.py) is never re-simulated by the fit
MODEL_SEEDS = 2**31 - 1


def observed() -> dict[str, float]:
    """The study's targets: F3, F4 and 'property leads' (shortfall 0)."""
    return {"tickets_per_10k": study.F3_TICKETS_PER_10K,
            "property_share": study.F4_PROPERTY_SHARE,
            "property_shortfall": 0.0}


def check_targets(targets: dict[str, float]) -> dict[str, float]:
    """``targets`` as floats in the order of STATS if it gives a finite value for each of
    the statistics and nothing else; ParameterError otherwise."""
    names = ", ".join(STATS)
    other = sorted(set(targets) ^ set(STATS))
    if other:
        what = "lacks" if other[0] in STATS else "has an unknown statistic"
        raise ParameterError(f"targets {what} '{other[0]}'; allowed: a value for each of {names}")
    values = {k: float(targets[k]) for k in STATS}
    bad = next((k for k, v in values.items() if not np.isfinite(v)), None)
    if bad:
        raise ParameterError(f"targets: {bad} = {values[bad]}; allowed: a finite number")
    return values


# --- priors ----------------------------------------------------------------------------------

def check_names(names: Sequence[str], option: str = "--params") -> list[str]:
    """``names`` if each is a real-valued parameter with a prior; ParameterError otherwise."""
    allowed = calibratable()
    for name in names:
        if name not in FIELDS:
            raise ParameterError(f"{option}: '{name}' is not a parameter{did_you_mean(name, allowed)}; "
                                 "allowed: real-valued parameters with a prior "
                                 "(`python run.py params`)")
        if name not in allowed:
            why = "has no prior (an input, a run setting or a switch)" if PRIORS.get(name) is None \
                else "is an integer"
            raise ParameterError(f"{option}: '{name}' {why}; allowed: real-valued parameters "
                                 "with a prior, e.g. " + ",".join(DEFAULT_PARAMS))
    if not names:
        raise ParameterError(f"{option} is empty; allowed: one or more parameter names")
    return list(names)


class TruncatedRV(RVBase):
    """A scipy distribution truncated to [lo, hi]: drawn by inverting the CDF between
    F(lo) and F(hi) (with pyabc's global numpy rng, as pyabc's own RVs), density
    f(x) / (F(hi) - F(lo)) inside and 0 outside, so perturbed particles that leave the range
    have prior density 0 and are rejected."""

    def __init__(self, name: str):
        self.name = name
        self.dist, self.lo, self.hi, self.f_lo, self.f_hi = truncated(name)
        self.mass = self.f_hi - self.f_lo

    def copy(self) -> TruncatedRV:
        return TruncatedRV(self.name)

    def rvs(self, *args, random_state=None, **kwargs) -> float:
        """One draw, with ``random_state`` (a numpy Generator) or else the global rng."""
        u = (np.random if random_state is None else random_state).uniform(self.f_lo, self.f_hi)
        return float(np.clip(self.dist.ppf(u), self.lo, self.hi))

    def pdf(self, x, *args, **kwargs):
        x = np.asarray(x, dtype=float)
        inside = (x >= self.lo) & (x <= self.hi)
        out = np.where(inside, self.dist.pdf(np.clip(x, self.lo, self.hi)) / self.mass, 0.0)
        return float(out) if out.ndim == 0 else out

    def ppf(self, q: float) -> float:
        """The ``q`` quantile of the truncated distribution."""
        return float(np.clip(self.dist.ppf(self.f_lo + q * self.mass), self.lo, self.hi))

    def pmf(self, x, *args, **kwargs):
        return 0.0

    def cdf(self, x, *args, **kwargs):
        x = np.clip(np.asarray(x, dtype=float), self.lo, self.hi)
        out = (self.dist.cdf(x) - self.f_lo) / self.mass
        return float(out) if out.ndim == 0 else out

    def __repr__(self) -> str:
        kind, a, b = PRIORS[self.name]
        return f"<TruncatedRV {self.name}: {kind}({a:.4g}, {b:.4g}) on [{self.lo}, {self.hi}]>"


def prior_distribution(names: Sequence[str]):
    """A ``pyabc.Distribution`` of the schema priors of ``names``, each truncated to its range."""
    return pyabc.Distribution(**{n: TruncatedRV(n) for n in check_names(names)})


# --- the model -------------------------------------------------------------------------------

# The summary statistics of one run's summary (see the module docstring): the calibration's
# targets, declared once in model/calibration.py.
statistics = target_statistics


def simulate(theta: dict[str, float], scale: float, days: int, seed: int) -> dict[str, float]:
    """Run the baseline scenario with ``theta`` at ``scale`` for ``days``; its statistics."""
    from . import scenarios
    from .model import run_summary

    overrides = {**{k: float(v) for k, v in theta.items()}, "scale": scale, "days": days}
    return statistics(run_summary(scenarios.load("baseline", overrides).params, seed))


def _model(theta, scale: float, days: int) -> dict[str, float]:
    """pyabc's model: the run's seed comes from the particle's own rng."""
    return simulate(dict(theta), scale, days, seed=int(np.random.randint(0, MODEL_SEEDS)))


# --- the sampler -----------------------------------------------------------------------------

class SeededSampler(MappingSampler):
    """pyabc's MappingSampler with reproducible tasks: task i of generation t samples
    until it has one accepted particle, with numpy seeded from
    ``SeedSequence([seed, t + 1]).spawn(n)[i]`` (t = -1: the calibration sample from the
    prior); ``map_`` is ``map`` or a process pool's ordered map. Prints one progress line
    per generation on stderr."""

    def __init__(self, seed: int, map_=map, log: Callable[[str], None] | None = None,
                 generations: int | None = None):
        super().__init__(map_=map_)
        self.seed, self.log, self.generations = seed, log, generations

    def __getstate__(self):
        return (*super().__getstate__(), self.seed)

    def __setstate__(self, state):
        *rest, self.seed = state
        super().__setstate__(tuple(rest))
        self.log = self.generations = None

    def map_function(self, simulate_one, task_seed):
        simulate_one = self.unpickle(simulate_one)
        np.random.seed(task_seed)
        random.seed(task_seed)
        nr_simulations = 0
        sample = self._create_empty_sample()
        while True:
            new_sim = simulate_one()
            nr_simulations += 1
            sample.append(new_sim)
            if new_sim.accepted:
                break
        return sample, nr_simulations

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf,
                                all_accepted=False, ana_vars=None):
        start = time.perf_counter()
        children = np.random.SeedSequence([self.seed, t + 1]).spawn(n)
        seeds = [int(c.generate_state(1)[0]) for c in children]
        task = functools.partial(self.map_function, self.pickle(simulate_one))
        results, evals = zip(*self.map_(task, seeds), strict=True)
        self.nr_evaluations_ = int(sum(evals))
        sample = self._create_empty_sample()
        for result in results:
            sample += result
        if self.log is not None:
            what = ("calibration sample from the prior" if all_accepted
                    else f"generation {t + 1}" + (f"/{self.generations}" if self.generations
                                                  else ""))
            eps = "" if all_accepted or ana_vars is None else f", epsilon {ana_vars.eps(t):.4g}"
            self.log(f"abc: {what}: {n} accepted of {self.nr_evaluations_} simulations "
                     f"({n / self.nr_evaluations_:.0%}){eps}, "
                     f"{time.perf_counter() - start:.1f} s")
        return sample



# --- the run ---------------------------------------------------------------------------------

def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_config(names: Sequence[str], particles: int, scale: float, days: int, seed: int,
               targets: dict[str, float] | None = None) -> dict[str, Any]:
    """The settings that make a run, saved in ``abc_config.json``: a resume must repeat them.
    ``targets``: the observed statistics (default: the study's, ``observed()``)."""
    return {"params": list(names), "particles": particles, "scale": scale, "days": days,
            "seed": seed, "observed": check_targets(observed() if targets is None else targets)}


def check_resume(out: Path, config: dict[str, Any]) -> int:
    """Generations already in ``out`` (0 for a new run); ParameterError when ``out`` holds a
    run with other settings (resuming it with these would mix two calibrations)."""
    db, cfg = out / DB_NAME, out / CONFIG_NAME
    if not db.exists():
        return 0
    try:
        before = json.loads(cfg.read_text())
    except (OSError, ValueError):
        raise ParameterError(f"--out '{out}' holds an {DB_NAME} without a readable {CONFIG_NAME}; "
                             "allowed: a new directory, or one of the same `calibrate --method "
                             "abc` run") from None
    differs = [k for k in config if before.get(k) != config[k]]
    if differs:
        k = differs[0]
        raise ParameterError(f"--out '{out}' holds an ABC run with {k} = {before.get(k)!r}, not "
                             f"{config[k]!r}; allowed: the same settings to resume it, or "
                             "another --out")
    return int(pyabc.History(f"sqlite:///{db.resolve()}").n_populations)


def in_units(x: np.ndarray) -> np.ndarray:
    """The statistics (in the order of STATS) in comparable units, before the adaptive
    weights: tickets as a fraction of F3's 588, the shares as fractions of F4's 13.3 %.

    pyabc's adaptive distance divides each statistic by its spread over the particles and
    caps the ratio of the weights at MAX_SCALE_WEIGHT_RATIO (so that the shortfall, which
    most particles match exactly, cannot take all the weight). In raw units the spreads
    differ by three orders of magnitude (hundreds of tickets, hundredths of a share): the
    cap bound and F4 weighed 5-30 times less than F3, and property's posterior stayed
    nearly as wide as its prior (benchmarks/abc_coverage.py, docs/calibration.md)."""
    return x / UNITS


def make_abc(names: Sequence[str], particles: int, scale: float, days: int, sampler):
    distance = pyabc.AdaptivePNormDistance(
        p=2, scale_function=pyabc.distance.root_mean_square_deviation,
        max_scale_weight_ratio=MAX_SCALE_WEIGHT_RATIO,
        sumstat=pyabc.sumstat.IdentitySumstat(trafos=[in_units]))
    model = functools.partial(_model, scale=scale, days=days)
    return pyabc.ABCSMC(model, prior_distribution(names), distance, population_size=particles,
                        sampler=sampler)


def run(out: Path, names: Sequence[str], particles: int, generations: int, scale: float,
        days: int, seed: int, workers: int = 1, log: Callable[[str], None] = _stderr,
        targets: dict[str, float] | None = None, dask: str | None = None):
    """ABC-SMC into ``out`` (``abc.db``) against ``targets`` (default: the study's,
    ``observed()``), resuming a run already there, until the history holds ``generations``
    generations; then write the outputs. ``workers`` local processes, or with ``dask`` a
    Dask scheduler's address or "local" (a LocalCluster of ``workers`` processes). Returns
    the History."""
    logging.getLogger("ABC").setLevel(logging.WARNING)
    config = run_config(check_names(names), particles, scale, days, seed, targets)
    names = config["params"]
    done = check_resume(out, config)
    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{(out / DB_NAME).resolve()}"

    def go(map_) -> pyabc.History:
        sampler = SeededSampler(seed, map_, log=log, generations=generations)
        abc = make_abc(names, particles, scale, days, sampler)
        if done:
            history = abc.load(db, 1)
            log(f"abc: resuming {out / DB_NAME}: {done} generation(s) done, "
                f"{max(0, generations - done)} to go")
        else:
            # a history interrupted before its first generation holds nothing to keep (and a
            # second abc.new would add a second run to it, which load(db, 1) would not see)
            (out / DB_NAME).unlink(missing_ok=True)
            (out / CONFIG_NAME).write_text(json.dumps(config, indent=1))
            history = abc.new(db, config["observed"])
        if generations > done:
            history = abc.run(max_nr_populations=generations - done)
        return history

    if workers > 1 or dask is not None:
        from experiments.executors import open_backend

        # The particles' tasks go through pyabc's MappingSampler (SeededSampler) on the
        # backend's ordered map, local processes or Dask alike: each task's seed fixes its
        # particle, so the posterior is the same for any number and kind of workers (pyabc's
        # own DaskDistributedSampler accepts whichever particles finish first, which is not
        # reproducible).
        with open_backend(workers, dask) as backend:
            log(f"abc: running on {backend.description}")
            history = go(backend.executor.map)
    else:
        history = go(map)
    write_outputs(out, history, names, time.perf_counter() - start)
    return history


# --- outputs ---------------------------------------------------------------------------------

def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x)
    x, w = np.asarray(x)[order], np.asarray(w)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return float(np.interp(q, cdf, x))


def credible_interval(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """The central CREDIBLE interval of particles ``x`` with weights ``w``: their weighted
    (1 - CREDIBLE) / 2 and (1 + CREDIBLE) / 2 quantiles."""
    tail = (1 - CREDIBLE) / 2
    return weighted_quantile(x, w, tail), weighted_quantile(x, w, 1 - tail)


def posterior(history, names: Sequence[str]) -> pd.DataFrame:
    """The last generation's particles: one column per parameter, plus ``weight``; stamped
    (``attrs``, kept in the parquet file) with the model version they are a posterior of."""
    from .metrics import MODEL_VERSION

    df, w = history.get_distribution(m=0, t=history.max_t)
    post = df[list(names)].reset_index(drop=True).astype(float)
    post["weight"] = np.asarray(w, dtype=float) / np.sum(w)
    post.attrs = {"model_version": MODEL_VERSION}
    return post


def convergence(history) -> pd.DataFrame:
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    rows = []
    for t, eps, sims, n in zip(pops["t"], pops["epsilon"], pops["samples"], pops["particles"],
                               strict=True):
        _, w = history.get_distribution(m=0, t=int(t))
        w = np.asarray(w) / np.sum(w)
        rows.append({"generation": int(t) + 1, "epsilon": float(eps),
                     "acceptance_rate": float(n) / float(sims),
                     "effective_sample_size": float(1.0 / np.sum(w ** 2)),
                     "simulations": int(sims), "particles": int(n)})
    return pd.DataFrame(rows)


def summary(history, post: pd.DataFrame, names: Sequence[str], wall: float) -> dict[str, Any]:
    w = post["weight"].to_numpy()
    params = {}
    for n in names:
        x = post[n].to_numpy()
        params[n] = {"mean": float(np.sum(w * x)),
                     f"ci{round(CREDIBLE * 100)}": list(credible_interval(x, w)),
                     "prior": list(PRIORS[n]),
                     "range": [FIELDS[n].metadata["lo"], FIELDS[n].metadata["hi"]]}
    return {"generations": int(history.max_t) + 1, "particles": len(post), "parameters": params,
            "wall_time_seconds": round(wall, 2),
            "total_simulations": int(history.total_nr_simulations)}


def write_outputs(out: Path, history, names: Sequence[str], wall: float) -> None:
    from experiments.store import atomic_write

    post = posterior(history, names)
    config = json.loads((out / CONFIG_NAME).read_text())
    atomic_write(out / "posterior.parquet", lambda tmp: post.to_parquet(tmp, index=False))
    conv = convergence(history)
    atomic_write(out / "convergence.csv", lambda tmp: conv.to_csv(tmp, index=False))
    info = {**config, **summary(history, post, names, wall)}
    atomic_write(out / "abc_summary.json",
                 lambda tmp: tmp.write_text(json.dumps(info, indent=1) + "\n"))
    plot_marginals(post, names, out / "posterior_marginals.png")
    plot_pairs(post, names, out / "posterior_pairs.png")


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    from experiments.store import atomic_write

    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    plt.close(fig)


def plot_marginals(post: pd.DataFrame, names: Sequence[str], path: Path) -> None:
    """Weighted histogram of each parameter's posterior over its truncated prior's density."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    w = post["weight"].to_numpy()
    for ax, n in zip(axes.flat, names, strict=False):
        x = post[n].to_numpy()
        rv = TruncatedRV(n)
        lo, hi = rv.dist.ppf(max(rv.f_lo, 0.005)), rv.dist.ppf(min(rv.f_hi, 0.995))
        lo, hi = min(lo, x.min()), max(hi, x.max())
        grid = np.linspace(lo, hi, 200)
        ax.hist(x, bins=min(20, max(5, len(x) // 3)), weights=w, density=True, alpha=0.6,
                color="C0", label="posterior")
        ax.plot(grid, rv.pdf(grid), color="C1", label="prior")
        ax.axvline(float(np.sum(w * x)), color="C0", ls="--", lw=1)
        ax.set_xlabel(n)
        ax.set_yticks([])
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    axes.flat[0].legend(frameon=False, fontsize=8)
    fig.suptitle(f"ABC posterior marginals ({len(post)} particles; dashed: posterior mean)")
    fig.tight_layout()
    _save(fig, path)


def plot_pairs(post: pd.DataFrame, names: Sequence[str], path: Path) -> None:
    """Pairwise scatter of the particles (marker area by weight), histograms on the diagonal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(2.2 * k + 1, 2.2 * k + 1), squeeze=False)
    w = post["weight"].to_numpy()
    size = 8 + 120 * w / w.max()
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            ax = axes[i, j]
            if i == j:
                ax.hist(post[a], bins=min(15, max(5, len(post) // 3)), weights=w, color="C0",
                        alpha=0.7)
                ax.set_yticks([])
            elif i > j:
                ax.scatter(post[b], post[a], s=size, alpha=0.5, color="C0", edgecolors="none")
            else:
                ax.set_visible(False)
            if i == k - 1:
                ax.set_xlabel(b, fontsize=8)
            if j == 0 and i > 0:
                ax.set_ylabel(a, fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle("ABC posterior, pairs (marker area: weight)")
    fig.tight_layout()
    _save(fig, path)
