"""Figures of a sensitivity analysis (敏感性分析图): index bars with confidence whiskers, the
Morris mu*-sigma plane, and indices at N/2 and N (convergence)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

COLOURS = {"S1": "#4C72B0", "ST": "#DD8452", "mu_star": "#55A868"}


def _grid(count: int, width: float = 5.2, height: float = 3.6):
    cols = min(count, 2)
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:count])


def _noise_line(ax, noise: pd.DataFrame, output: str) -> None:
    share = noise.set_index("output")["seed_noise_share"].get(output, np.nan)
    if np.isfinite(share):
        ax.axhline(share, color="grey", ls="--", lw=1, label=f"seed noise {share:.0%}")


def plot_indices(indices: pd.DataFrame, noise: pd.DataFrame, method: str, path: Path) -> None:
    """S1 and ST per parameter with their confidence intervals, one panel per output; the
    dashed line is the seed-noise share of the output's variance."""
    outputs = list(dict.fromkeys(indices["output"]))
    fig, axes = _grid(len(outputs))
    for ax, output in zip(axes, outputs, strict=True):
        part = indices[indices["output"] == output]
        x = np.arange(len(part))
        for offset, name in ((-0.2, "S1"), (0.2, "ST")):
            ax.bar(x + offset, part[name], width=0.4, color=COLOURS[name], label=name,
                   yerr=part[f"{name}_conf"], capsize=3, error_kw={"lw": 1})
        _noise_line(ax, noise, output)
        ax.set_xticks(x, part["parameter"], rotation=30, ha="right", fontsize=8)
        low, high = ax.get_ylim()  # indices are shares of variance: clip runaway whiskers
        ax.set_ylim(max(min(0.0, low), -0.5), min(max(1.0, high), 1.5))
        ax.set_title(output, fontsize=10)
        ax.legend(fontsize=7)
    fig.suptitle(f"{method.upper()} indices (95 % confidence whiskers)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_morris(indices: pd.DataFrame, path: Path) -> None:
    """Per output: mu* bars with confidence whiskers above the mu*-sigma plane (sigma high
    against mu*: non-linear or interacting)."""
    outputs = list(dict.fromkeys(indices["output"]))
    fig, axes = plt.subplots(2, len(outputs), figsize=(4.6 * len(outputs), 7.6), squeeze=False)
    for col, output in enumerate(outputs):
        part = indices[indices["output"] == output]
        bars, plane = axes[0, col], axes[1, col]
        x = np.arange(len(part))
        bars.bar(x, part["mu_star"], color=COLOURS["mu_star"], yerr=part["mu_star_conf"],
                 capsize=3, error_kw={"lw": 1})
        bars.set_xticks(x, part["parameter"], rotation=30, ha="right", fontsize=8)
        bars.set_title(output, fontsize=10)
        bars.set_ylabel("mu*")
        plane.scatter(part["mu_star"], part["sigma"], color=COLOURS["mu_star"])
        for _, row in part.iterrows():
            plane.annotate(row["parameter"], (row["mu_star"], row["sigma"]), fontsize=7,
                           xytext=(3, 3), textcoords="offset points")
        top = float(np.nanmax([part["mu_star"].max(), part["sigma"].max(), 0])) or 1.0
        plane.plot([0, top], [0, top], color="grey", ls=":", lw=1, label="sigma = mu*")
        plane.set_xlabel("mu* (mean |elementary effect|)")
        plane.set_ylabel("sigma")
        plane.legend(fontsize=7)
    fig.suptitle("Morris elementary effects (95 % confidence whiskers on mu*)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_convergence(convergence: pd.DataFrame, path: Path) -> None:
    """Each index at N/2 and N with its confidence interval: lines that stay level and
    intervals that shrink mean N is large enough."""
    panels = list(convergence.groupby(["output", "index"], sort=False))
    fig, axes = _grid(len(panels), width=4.6, height=3.2)
    for ax, ((output, index), part) in zip(axes, panels, strict=True):
        for parameter, line in part.groupby("parameter", sort=False):
            ax.errorbar(line["n"], line["value"], yerr=line["conf"], marker="o", capsize=3,
                        lw=1, label=parameter)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sorted(part["n"].unique()), [str(v) for v in sorted(part["n"].unique())])
        ax.set_title(f"{output}: {index}", fontsize=9)
        ax.set_xlabel("N")
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
