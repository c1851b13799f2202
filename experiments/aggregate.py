"""Replicates to estimates: per parameter set, the mean of each measure and its 95 %
confidence interval (Student t over the replicates)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from model.params import FIELDS

# The measures printed and plotted by default (all stored measures are aggregated).
HEADLINE = (
    "hotline_tickets_per_10k_per_year", "property_share", "disputes_per_1000_per_month",
    "resolution_rate", "mean_days_to_close", "escalated_share", "mean_satisfaction",
    "unsatisfied_share", "workload_per_worker", "utilisation",
)
RUN_COLUMNS = ("set_id", "replicate", "seed", "key", "status", "error", "model_version",
               "scenario", "summary_json")
CONFIDENCE = 0.95


def measure_columns(summary: pd.DataFrame) -> list[str]:
    """Top-level numeric measures of a sweep summary (not parameters, not run bookkeeping)."""
    skip = set(RUN_COLUMNS) | set(FIELDS) | {"build_seconds", "runtime_seconds", "worker_seconds"}
    return [c for c in summary.columns
            if c not in skip and (c == "property_share" or "." not in c)
            and pd.api.types.is_numeric_dtype(summary[c])]


def mean_ci(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(mean, low, high); the interval is NaN with fewer than two finite values."""
    x = np.asarray(values, float)
    x = x[np.isfinite(x)]
    if not len(x):
        return np.nan, np.nan, np.nan
    mean = float(x.mean())
    if len(x) < 2:
        return mean, np.nan, np.nan
    half = _t_quantile(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return mean, mean - half, mean + half


@lru_cache(maxsize=256)
def _t_quantile(q: float, df: int) -> float:
    """Student t quantile, once per (level, replicates) in a whole aggregate."""
    from scipy.stats import t  # here: worker processes that import this module never need it

    return float(t.ppf(q, df))


def aggregate(summary: pd.DataFrame, varied: list[str] | None = None) -> pd.DataFrame:
    """One row per parameter set: the varied parameters, runs done and failed, then
    ``<measure>_mean``, ``<measure>_ci_low``, ``<measure>_ci_high`` for every measure."""
    varied = list(varied or [])
    measures = measure_columns(summary)
    rows = []
    for set_id, runs in summary.groupby("set_id", sort=True):
        ok = runs[runs["status"] == "done"]
        row = {"set_id": set_id, **{v: runs[v].iloc[0] for v in varied},
               "runs": len(ok), "failed": int((runs["status"] != "done").sum())}
        for m in measures:
            row[f"{m}_mean"], row[f"{m}_ci_low"], row[f"{m}_ci_high"] = mean_ci(ok[m].to_numpy())
        rows.append(row)
    return pd.DataFrame(rows)


def table(agg: pd.DataFrame, varied: list[str], measures=HEADLINE) -> str:
    """The aggregate as text: one line per parameter set, mean [95 % CI] per measure."""
    present = [m for m in measures if f"{m}_mean" in agg.columns]

    def cell(row, m):
        mean, lo, hi = row[f"{m}_mean"], row[f"{m}_ci_low"], row[f"{m}_ci_high"]
        if not np.isfinite(mean):
            return "n/a"
        return f"{mean:.4g}" if not np.isfinite(lo) else f"{mean:.4g} [{lo:.4g}, {hi:.4g}]"

    shown = pd.DataFrame({**{v: agg[v] for v in varied}, "runs": agg["runs"],
                          **{m: [cell(r, m) for _, r in agg.iterrows()] for m in present}})
    return shown.T.to_string(header=False) if len(present) > 4 else shown.to_string(index=False)
