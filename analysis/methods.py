"""Sensitivity methods (敏感性分析方法) through SALib, in its plain flow: sample -> evaluate ->
analyze. Each method says how to sample N, how to analyse one output, and which rows form
the sample of size N/2 (for the convergence check).

- ``sobol``: Saltelli's scheme on a scrambled Sobol' sequence, N(2D + 2) rows; first-order
  (S1), total (ST) and second-order (S2) indices with bootstrap confidence intervals.
- ``morris``: N trajectories of D + 1 points on a 4-level grid; mu*, its confidence
  interval, sigma and mu (Morris 1991; Campolongo et al. 2007).
- ``fast``: extended FAST (Saltelli et al. 1999), N D rows; S1 and ST. Its N/2 sample is a
  separate search curve (a subsample of the curve would alias), so it costs 1.5 N D runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from SALib.analyze import fast as fast_analyze
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import fast_sampler
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from model.params import ParameterError

MORRIS_LEVELS = 4  # grid levels (Morris 1991; SALib's default)
FAST_HARMONICS = 4  # M, interference factor (Saltelli et al. 1999)
CONF_LEVEL = 0.95  # the tool's confidence level everywhere (95 % intervals)
RESAMPLES = 100  # bootstrap resamples for the confidence intervals (SALib's default)


@dataclass(frozen=True)
class Method:
    name: str
    columns: tuple[str, ...]  # SALib's names, in the order of indices.csv
    sample: Callable[[dict, int, int], np.ndarray]
    analyze: Callable[[dict, np.ndarray, np.ndarray, int], dict[str, Any]]
    check_n: Callable[[int], str | None]  # why N is not allowed, or None
    convergence: tuple[str, ...]  # indices reported at N/2 and N
    # rows per base sample or trajectory, for D parameters, when the first N/2 of them are a
    # valid sample of size N/2; None when the N/2 sample must be drawn apart
    rows_per_unit: Callable[[int], int] | None = None
    grid: bool = False  # samples on a grid of levels (integer factors need whole levels)


def _sobol_sample(problem: dict, n: int, seed: int) -> np.ndarray:
    return sobol_sample.sample(problem, n, calc_second_order=True, scramble=True, seed=seed)


def _sobol_analyze(problem: dict, x: np.ndarray, y: np.ndarray, seed: int) -> dict[str, Any]:
    return sobol_analyze.analyze(problem, y, calc_second_order=True, num_resamples=RESAMPLES,
                                 conf_level=CONF_LEVEL, seed=seed)


def _morris_sample(problem: dict, n: int, seed: int) -> np.ndarray:
    return morris_sample.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed)


def _morris_analyze(problem: dict, x: np.ndarray, y: np.ndarray, seed: int) -> dict[str, Any]:
    return morris_analyze.analyze(problem, x, y, num_resamples=RESAMPLES, conf_level=CONF_LEVEL,
                                  num_levels=MORRIS_LEVELS, seed=seed)


def _fast_sample(problem: dict, n: int, seed: int) -> np.ndarray:
    return fast_sampler.sample(problem, n, M=FAST_HARMONICS, seed=seed)


def _fast_analyze(problem: dict, x: np.ndarray, y: np.ndarray, seed: int) -> dict[str, Any]:
    with warnings.catch_warnings():  # SALib warns its FAST intervals are indicative: documented
        warnings.simplefilter("ignore", UserWarning)
        return fast_analyze.analyze(problem, y, M=FAST_HARMONICS, num_resamples=RESAMPLES,
                                    conf_level=CONF_LEVEL, seed=seed)


def _power_of_two(n: int) -> str | None:
    if n < 4 or n & (n - 1):
        return "a power of 2 of at least 4 (Sobol' sequences balance only at powers of 2)"
    return None


def _enough_trajectories(n: int) -> str | None:
    return None if n >= 4 else "at least 4 trajectories (N/2 = 2 for the convergence check)"


def _fast_points(n: int) -> str | None:
    least = 2 * (4 * FAST_HARMONICS ** 2 + 1)
    return None if n >= least else (f"at least {least} (N/2 must exceed 4 M^2 = "
                                    f"{4 * FAST_HARMONICS ** 2})")


METHODS = {
    "sobol": Method("sobol", ("S1", "S1_conf", "ST", "ST_conf"), _sobol_sample, _sobol_analyze,
                    _power_of_two, ("S1", "ST"), rows_per_unit=lambda d: 2 * d + 2),
    "morris": Method("morris", ("mu_star", "mu_star_conf", "sigma", "mu"), _morris_sample,
                     _morris_analyze, _enough_trajectories, ("mu_star",),
                     rows_per_unit=lambda d: d + 1, grid=True),
    "fast": Method("fast", ("S1", "S1_conf", "ST", "ST_conf"), _fast_sample, _fast_analyze,
                   _fast_points, ("S1", "ST")),
}


def get(name: str, n: int | None = None) -> Method:
    """The method called ``name``, checking N if given."""
    if name not in METHODS:
        raise ParameterError(f"unknown method '{name}'; allowed: {', '.join(METHODS)}")
    method = METHODS[name]
    if n is not None:
        why = method.check_n(n)
        if why:
            raise ParameterError(f"N = {n} (--n or the problem's n) is not allowed for {name}: "
                                 f"N must be {why}")
    return method


def check_factors(method: Method, factors: Sequence[Any]) -> None:
    """Factors a method cannot sample faithfully. On Morris' grid a step of a switch or of
    an integer between levels would not be the 2/3 of the range SALib divides by."""
    if not method.grid:
        return
    steps = MORRIS_LEVELS - 1
    for f in factors:
        if f.kind is bool:
            raise ParameterError(f"factor '{f.name}' is a switch: Morris' grid steps cannot "
                                 "represent it; use sobol or fast, or `run.py sweep --vary`")
        if f.kind is int and (f.upper - f.lower) % steps:
            upper = f.lower + steps * max(1, round((f.upper - f.lower) / steps))
            raise ParameterError(f"factor '{f.name}' takes whole numbers: for Morris' "
                                 f"{MORRIS_LEVELS} levels, upper - lower must be a multiple of "
                                 f"{steps} (e.g. bounds = [{f.lower:g}, {upper:g}])")
