"""Figures of a sweep: each headline measure against each varied parameter, with 95 %
confidence bands (or error bars when the parameter takes many sampled values)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .aggregate import HEADLINE, mean_ci  # noqa: E402

MAX_LEVELS = 12  # above this many values a parameter is treated as sampled (scatter)


def plot_sweep(summary: pd.DataFrame, varied: list[str], out: Path,
               measures=HEADLINE) -> list[Path]:
    """One PNG per varied parameter, one panel per measure; returns the files written."""
    ok = summary[summary["status"] == "done"]
    written = []
    for param in varied:
        if ok.empty or ok[param].nunique() < 2:
            continue
        present = [m for m in measures if m in ok.columns]
        cols = 3
        rows = -(-len(present) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
        for ax, m in zip(axes.flat, present, strict=False):
            _panel(ax, ok, param, m)
        for ax in axes.flat[len(present):]:
            ax.set_visible(False)
        others = [v for v in varied if v != param]
        note = f" (mean over {', '.join(others)})" if others else ""
        fig.suptitle(f"Measures against {param}{note}, 95 % CI over replicates")
        fig.tight_layout()
        path = out / f"sweep_{param}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def _panel(ax, ok: pd.DataFrame, param: str, measure: str) -> None:
    levels = ok[param].unique()
    numeric = pd.api.types.is_numeric_dtype(ok[param]) and not pd.api.types.is_bool_dtype(ok[param])
    if numeric and len(levels) > MAX_LEVELS:  # a sampled design: one point per parameter set
        stats = [mean_ci(g[measure].to_numpy(), measure) + (g[param].iloc[0],)
                 for _, g in ok.groupby("set_id")]
        mean, lo, hi, x = (np.array(v, float) for v in zip(*stats, strict=True))
        err = np.vstack([mean - lo, hi - mean])
        ax.errorbar(x, mean, yerr=np.nan_to_num(err), fmt="o", ms=3, alpha=0.7)
    else:
        levels = sorted(levels) if numeric else sorted(levels, key=str)
        stats = [mean_ci(ok.loc[ok[param] == v, measure].to_numpy(), measure) for v in levels]
        mean, lo, hi = (np.array(v, float) for v in zip(*stats, strict=True))
        x = np.asarray(levels, float) if numeric else np.arange(len(levels))
        ax.plot(x, mean, marker="o")
        ax.fill_between(x, lo, hi, alpha=0.25)
        if not numeric:
            ax.set_xticks(x, [str(v) for v in levels], rotation=20)
    ax.set_xlabel(param)
    ax.set_title(measure, fontsize=9)
