"""Figures of a sweep: each headline measure against each varied parameter, mean and 95 %
confidence interval over replicates. Choices and switches are points with error bars in the
schema's order; numbers a line with a band, or error bars per set when the parameter takes
many sampled values."""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from model import kpis
from model.figstyle import OKABE_ITO, factor, plt, save, sentence, style, unit_label, wrap
from model.params import FIELDS

from .aggregate import mean_ci

MAX_LEVELS = 12  # above this many values a parameter is treated as sampled (scatter)
COLOUR = OKABE_ITO[0]


def plot_sweep(summary: pd.DataFrame, varied: list[str], out: Path,
               measures: Sequence[str] | None = None) -> list[Path]:
    """One PNG per varied parameter, one panel per measure (the headline ones of
    model/kpis.py unless given); returns the files written."""
    measures = measures or kpis.headline()
    ok = summary[summary["status"] == "done"]
    written = []
    for param in varied:
        if ok.empty or ok[param].nunique() < 2:
            continue
        path = out / f"sweep_{param}.png"
        sweep_figure(ok, param, [v for v in varied if v != param], measures, path)
        written.append(path)
    return written


def sweep_figure(ok: pd.DataFrame, param: str, others: list[str], measures: Sequence[str],
                 path: Path) -> Figure:
    """The figure of one parameter (saved to ``path`` and returned, for inspection)."""
    present = [m for m in measures if m in ok.columns]
    cols = 2  # two panels across stay readable at the ~800 px of a report
    rows = -(-len(present) // cols)
    with style():
        fig, axes = plt.subplots(rows, cols, figsize=(10, 3.1 * rows + 1.2), squeeze=False,
                                 layout="constrained")
        for ax, m in zip(axes.flat, present, strict=False):
            _panel(ax, ok, param, m)
        for ax in axes.flat[len(present):]:
            ax.set_visible(False)
        runs = ok.groupby("set_id").size()
        reps = f"{runs.min()}" if runs.min() == runs.max() else f"{runs.min()}–{runs.max()}"
        note = f"; mean over {', '.join(others)}" if others else ""
        fig.suptitle(f"Headline measures against {param}: mean and 95 % CI over {reps} "
                     f"replicates{note}")
        fig.supxlabel(param_label(param), fontsize=12)
        save(fig, path)
    return fig


def ordered_levels(param: str, values: Iterable) -> list:
    """The distinct values of a parameter in the order a reader expects: the schema's order
    of choices, off before on, numbers ascending; other values (a parameter or choice the
    schema does not know, e.g. the staffing comparison's "optimized" rule) in the order of
    the design, which is the order they were asked for."""
    distinct = list(dict.fromkeys(values))
    choices = FIELDS[param].metadata["choices"] if param in FIELDS else None
    if choices:
        return [c for c in choices if c in distinct] + [v for v in distinct if v not in choices]
    if all(isinstance(v, numbers.Number | np.bool_) for v in distinct):
        return sorted(distinct)  # numbers, and False before True
    return distinct


def param_label(param: str) -> str:
    """The parameter's name and, from the schema, what it means (with its unit)."""
    doc = FIELDS[param].metadata["doc"] if param in FIELDS else ""
    return wrap(f"{param}: {doc}" if doc else param, 95)


def _is_number(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _panel(ax, ok: pd.DataFrame, param: str, measure: str) -> None:
    scale = factor(measure)
    if _is_number(ok[param]) and ok[param].nunique() > MAX_LEVELS:
        # a sampled design: one point per parameter set
        x = ok.groupby("set_id")[param].first().to_numpy(float)
        stats = [mean_ci(g[measure].to_numpy(), measure) for _, g in ok.groupby("set_id")]
    else:
        levels = ordered_levels(param, ok[param])
        stats = [mean_ci(ok.loc[ok[param] == v, measure].to_numpy(), measure) for v in levels]
        x = np.asarray(levels, float) if _is_number(ok[param]) else np.arange(len(levels))
    mean, lo, hi = (np.array(v, float) * scale for v in zip(*stats, strict=True))
    if _is_number(ok[param]) and len(x) <= MAX_LEVELS:
        ax.plot(x, mean, marker="o", color=COLOUR)
        ax.fill_between(x, lo, hi, color=COLOUR, alpha=0.2, lw=0)
    else:  # choices and switches have no values between them: no line joins them
        err = np.nan_to_num(np.vstack([mean - lo, hi - mean]))
        ax.errorbar(x, mean, yerr=err, fmt="o", ms=6, capsize=5, color=COLOUR)
    if not _is_number(ok[param]):
        ax.set_xticks(x, [_level_name(v) for v in levels])
        ax.set_xlim(-0.5, len(levels) - 0.5)
    ax.set_title(wrap(sentence(kpis.label(measure)), 45), fontsize=12)
    ax.set_ylabel(unit_label(measure))


def _level_name(value) -> str:
    if isinstance(value, bool | np.bool_):
        return "on" if value else "off"
    return str(value)
