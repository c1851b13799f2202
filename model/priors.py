"""The schema's priors (``params.PRIORS``) as scipy distributions truncated to each parameter's
allowed range: read by ABC (``model/abc_calibration.py``) and by sensitivity problems that
screen the priors (``analysis/problem.py``), without importing pyabc."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from .params import FIELDS, PRIORS, TYPES, ParameterError


def calibratable() -> list[str]:
    """Real-valued parameters with a prior in the schema (in the schema's order)."""
    return [n for n, prior in PRIORS.items() if prior is not None and TYPES[n] is float]


def scipy_prior(name: str) -> Any:
    """The frozen scipy distribution of ``name``'s schema prior (before truncation)."""
    kind, a, b = PRIORS[name]
    if kind == "uniform":
        return stats.uniform(loc=a, scale=b - a)
    if kind == "beta":
        return stats.beta(a, b)
    if kind == "lognormal":
        return stats.lognorm(s=b, scale=np.exp(a))
    if kind == "normal":
        return stats.norm(loc=a, scale=b)
    raise ValueError(f"unknown prior kind '{kind}' of {name}")


def truncated(name: str) -> tuple[Any, float, float, float, float]:
    """(distribution, lo, hi, F(lo), F(hi)): ``name``'s prior and its CDF at the ends of the
    allowed range, between which the truncated prior is drawn or inverted."""
    lo, hi = (float(FIELDS[name].metadata[k]) for k in ("lo", "hi"))
    dist = scipy_prior(name)
    f_lo, f_hi = float(dist.cdf(lo)), float(dist.cdf(hi))
    if not f_hi > f_lo:
        raise ParameterError(f"the prior of {name} has no mass in [{lo}, {hi}]")
    return dist, lo, hi, f_lo, f_hi


def quantiles(name: str, qs: Sequence[float]) -> np.ndarray:
    """The ``qs`` quantiles of ``name``'s prior truncated to its allowed range (inside it)."""
    dist, lo, hi, f_lo, f_hi = truncated(name)
    return np.clip(dist.ppf(f_lo + np.asarray(qs, dtype=float) * (f_hi - f_lo)), lo, hi)
