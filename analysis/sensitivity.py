"""Global sensitivity analysis (全局敏感性分析) of the model: SALib's sample -> evaluate ->
analyze, with the evaluation run through the experiments engine (parallel processes or
Dask, every run stored under ``out/runs`` by its key, so an interrupted analysis resumes).

Seed noise is handled explicitly. Each sample is run with the same R replicate seeds
(common random numbers) and the outputs are averaged. A seed's main effect (one seed giving
a happier district than another) is then the same for every sample and drops out of the
comparison; what is left is the sample x seed interaction, estimated by two-way analysis of
variance of the runs (with R = 1: the variance over ``PROBE_SEEDS`` seeds at the centre of
the space, which also holds the main effect, an upper bound) and divided by R. Its ratio
to the variance of the averaged outputs over the samples, ``seed_noise_share``, is the part
of what the indices divide up that is noise: an index below it cannot be told from noise.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

import numpy as np
import pandas as pd
from SALib.util import scale_samples

from experiments import designs, plan_limits
from experiments.executors import ExperimentError
from experiments.outdir import check_out_dir
from experiments.sweep import plan_runs, run_plan
from model.calibration import replicate_seeds

from . import methods
from .problem import Problem, Space

PROBE_SEEDS = 8  # seeds at the centre of the space when R = 1 (assumption: enough for a variance)
NOISE_WARNING = 0.2  # seed-noise share above which indices are flagged (assumption)


@dataclass(frozen=True)
class Evaluation:
    y: pd.DataFrame             # one row per sample, one column per output (mean of R runs)
    seed_variance: pd.Series    # per output: the seed noise of one run (0 for a function)
    replicates: int = 1         # runs averaged per sample
    runs: pd.DataFrame | None = None  # one row per model run, if a model was run


Evaluator = Callable[[pd.DataFrame], Evaluation]


@dataclass(frozen=True)
class Result:
    method: str
    n: int
    samples: pd.DataFrame        # sample, the parameter values, the outputs
    indices: pd.DataFrame        # output, parameter, SALib's indices
    second_order: pd.DataFrame | None
    convergence: pd.DataFrame    # output, parameter, index, n, value, conf
    noise: pd.DataFrame
    runs: pd.DataFrame | None


def design(space: Space, x: np.ndarray) -> pd.DataFrame:
    """SALib's sample as parameter values, one row per sample (integers rounded)."""
    return pd.DataFrame({f.name: f.to_values(x[:, i]) for i, f in enumerate(space.factors)})


def sample(space: Space, method: str, n: int, seed: int) -> pd.DataFrame:
    """The design of ``method`` with base size ``n`` (deterministic in ``seed``)."""
    m = methods.get(method, n)
    methods.check_factors(m, space.factors)
    return design(space, m.sample(space.salib(m.grid), n, seed))


def analyse(space: Space, method: str, n: int, evaluate: Evaluator, seed: int) -> Result:
    """Sample, evaluate (one call, so every run is scheduled at once) and analyse every
    output at N and N/2."""
    m = methods.get(method, n)
    full = sample(space, method, n, seed)
    if m.rows_per_unit:  # the first N/2 base samples or trajectories form the N/2 sample
        half = full.iloc[:n // 2 * m.rows_per_unit(len(space.factors))]
        ev = evaluate(full)
        y_full, y_half = ev.y, ev.y.iloc[:len(half)]
    else:
        half = design(space, m.sample(space.salib(m.grid), n // 2, seed))
        ev = evaluate(pd.concat([full, half], ignore_index=True))
        y_full, y_half = ev.y.iloc[:len(full)], ev.y.iloc[len(full):]
    _warn_undefined(ev.y)  # every evaluated sample: the full one and, for FAST, the N/2 curve
    indices, second = _indices(space, m, full, y_full, seed)
    half_indices, _ = _indices(space, m, half, y_half, seed)
    convergence = pd.concat([_long(half_indices, m, n // 2), _long(indices, m, n)],
                            ignore_index=True)
    samples = pd.concat([full.rename_axis("sample").reset_index(),
                         y_full.reset_index(drop=True)], axis=1)
    noise = noise_table(y_full, ev.seed_variance, ev.replicates)
    return Result(method, n, samples, indices, second, convergence, noise, ev.runs)


def _indices(space: Space, m: methods.Method, x: pd.DataFrame, y: pd.DataFrame,
             seed: int) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    problem = space.salib(m.grid)
    xs = x.to_numpy(dtype=float)
    rows, pairs = [], []
    names = space.names
    for output in space.outputs:
        with warnings.catch_warnings():  # a constant output divides by zero: its indices are NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            res = m.analyze(problem, xs, y[output].to_numpy(dtype=float), seed)
        rows += [{"output": output, "parameter": p, **{c: float(res[c][i]) for c in m.columns}}
                 for i, p in enumerate(names)]
        if "S2" in res:
            pairs += [{"output": output, "parameter_1": names[i], "parameter_2": names[j],
                       "S2": float(res["S2"][i, j]), "S2_conf": float(res["S2_conf"][i, j])}
                      for i in range(len(names)) for j in range(i + 1, len(names))]
    pair_columns = ["output", "parameter_1", "parameter_2", "S2", "S2_conf"]
    return pd.DataFrame(rows), (pd.DataFrame(pairs, columns=pair_columns) if "S2" in res else None)


def _long(indices: pd.DataFrame, m: methods.Method, n: int) -> pd.DataFrame:
    parts = [indices[["output", "parameter"]].assign(index=name, n=n, value=indices[name],
                                                     conf=indices[f"{name}_conf"])
             for name in m.convergence]
    return pd.concat(parts, ignore_index=True)


def _warn_undefined(y: pd.DataFrame) -> None:
    """Outputs whose indices will be NaN, and why."""
    for output in y.columns:
        missing = int(y[output].isna().sum())
        if missing:
            print(f"warning: output '{output}' is undefined in {missing} of {len(y)} samples "
                  "(e.g. no case closed at this scale or length in one of its runs); its "
                  "indices are NaN", file=sys.stderr)
        elif y[output].nunique() == 1:
            print(f"warning: output '{output}' is the same in every sample: nothing to divide "
                  "up, its indices are NaN", file=sys.stderr)


class ModelEvaluator:
    """Evaluate a design on the model: every sample × the problem's replicate seeds through
    the experiments engine, stored in ``out/runs``."""

    def __init__(self, problem: Problem, out: str | Path, workers: int = 1,
                 dask: str | None = None, progress: bool = True) -> None:
        self.problem, self.out = problem, Path(out)
        self.workers, self.dask, self.progress = workers, dask, progress
        self.seeds = replicate_seeds(problem.replicates, problem.seed)

    def __call__(self, table: pd.DataFrame) -> Evaluation:
        p = self.problem
        sets = designs.parameter_sets(p.scenario, table, p.run_values())  # all checked first
        plan = plan_runs(sets, self.seeds, p.scenario)
        if p.replicates == 1:  # noise is measured at the centre instead
            probe = designs.parameter_sets(p.scenario, centre(p), p.run_values())
            plan += [(len(sets), rep, task) for _, rep, task in
                     plan_runs(probe, probe_seeds(p.seed), p.scenario)]
        runs = run_plan(plan, self.out, workers=self.workers, dask=self.dask,
                        progress=self.progress)
        failed = runs[runs["status"] != "done"]
        if len(failed):
            raise ExperimentError(f"{len(failed)} of {len(runs)} runs failed (first: "
                                  f"{failed['error'].iloc[0]}); see {self.out}/failed/; run the "
                                  "same command again to retry them")
        main = runs[runs["set_id"] < len(sets)]
        y = sample_means(main, list(p.outputs), len(sets))
        if p.replicates > 1:
            seed_variance = {o: interaction_variance(main.pivot(index="set_id", columns="replicate",
                                                                values=o).to_numpy())
                             for o in p.outputs}
        else:
            seed_variance = runs[runs["set_id"] == len(sets)][list(p.outputs)].var(ddof=1)
        return Evaluation(y.reset_index(drop=True), pd.Series(seed_variance), p.replicates, runs)


def probe_seeds(seed: int) -> list[int]:
    """The seeds of the noise probe at the centre (used when R = 1)."""
    return replicate_seeds(PROBE_SEEDS, seed)


def sample_means(runs: pd.DataFrame, outputs: list[str], samples: int) -> pd.DataFrame:
    """Each output averaged over a sample's replicate runs. A sample with an undefined run
    is undefined (and warned about), not a mean of fewer runs."""
    return runs.groupby("set_id")[outputs].mean(skipna=False).reindex(range(samples))


def centre(space: Space) -> pd.DataFrame:
    """The centre of the space: every factor at the median of its distribution."""
    return design(space, scale_samples(np.full((1, len(space.factors)), 0.5), space.salib()))


def interaction_variance(table: np.ndarray) -> float:
    """The sample x seed interaction variance of a (samples x seeds) table: the two-way
    ANOVA residual mean square, over the samples defined for every seed."""
    table = table[~np.isnan(table).any(axis=1)]
    rows, cols = table.shape
    if rows < 2 or cols < 2:
        return float("nan")
    resid = table - table.mean(1, keepdims=True) - table.mean(0, keepdims=True) + table.mean()
    return float((resid ** 2).sum() / ((rows - 1) * (cols - 1)))


def noise_table(y: pd.DataFrame, seed_variance: pd.Series, replicates: int) -> pd.DataFrame:
    """Per output: the variance of the (averaged) outputs over the samples, the part of it
    the seeds leave (``seed_variance`` of one run / R) and their ratio."""
    total = y.var(ddof=1)
    noise = seed_variance.reindex(y.columns) / replicates
    share = (noise / total).where(total > 0)
    return pd.DataFrame({"output": y.columns, "replicates": replicates,
                         "output_variance": total.to_numpy(), "noise_variance": noise.to_numpy(),
                         "seed_noise_share": share.clip(upper=1.0).to_numpy()})


def run(problem: Problem, method: str, n: int, out: str | Path, *, workers: int = 1,
        dask: str | None = None, progress: bool = True) -> Result:
    """The analysis of ``problem`` on the model, written to ``out`` (``outputs.write``)."""
    from .outputs import write  # matplotlib only where figures are drawn

    n, workers = plan_limits.check_count("n", n), plan_limits.check_count("workers", workers)
    methods.get(method, n)  # a valid method and N before counting its runs
    rows = plan_limits.sensitivity_rows(method, n, len(problem.factors))
    runs = rows * problem.replicates + (PROBE_SEEDS if problem.replicates == 1 else 0)
    plan_limits.check_runs(runs, f"{method}: {rows:,} samples × {problem.replicates:,} "
                           "replicates", "lower --n or --replicates")
    plan_limits.check_memory(problem.extremes(), plan_limits.local_workers(workers, dask), runs)
    check_out_dir(out, "sensitivity")
    start = perf_counter()
    evaluate = ModelEvaluator(problem, out, workers, dask, progress)
    result = analyse(problem, method, n, evaluate, problem.seed)
    write(result, problem, Path(out), evaluate.seeds, wall_seconds=perf_counter() - start)
    return result
