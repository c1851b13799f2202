"""Figures of a sensitivity analysis (敏感性分析图): index bars with confidence whiskers, the
Morris mu*-sigma plane, and indices at N/2 and N (convergence). Whiskers far beyond the bars
are cut at the edge of the panel and marked with a triangle, never dropped: the full
intervals are in indices.csv and convergence.csv."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from model import kpis
from model.figstyle import GREY, MARKERS, OKABE_ITO, factor, plt, save, sentence, style, unit_label, wrap

COLOURS = {"S1": OKABE_ITO[0], "ST": OKABE_ITO[1], "mu_star": OKABE_ITO[2]}
INDEX_NAMES = {"S1": "S1: first-order (the parameter alone)",
               "ST": "ST: total (with its interactions)"}
METHOD_NAMES = {"sobol": "Sobol", "fast": "FAST", "morris": "Morris"}
SHOWN = 15  # parameters per panel at most; with more, the largest (all are in indices.csv)
SLANTED = 8  # up to this many parameter names are slanted; more stand upright, not to overlap
UPRIGHT_ROOM = 2.0  # inches of height a row of panels gains for upright names
LABELLED = 6  # points named in the mu*-sigma plane: those with the largest mu* (more overlap)
SLACK = 0.5  # whiskers may reach this share of the bars' range beyond them before being cut
CLIPPED = Line2D([], [], color="black", marker="^", ls="none",
                 label="whisker cut at the panel edge (full interval in the CSV)")


def _grid(count: int, width: float = 5.0, height: float = 3.6):
    cols = min(count, 2)  # two panels across stay readable at the ~800 px of a report
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows + 1.4),
                             squeeze=False, layout="constrained")
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:count])


def fit_whiskers(ax: Axes, x, value, conf, base: tuple[float, float]) -> bool:
    """Set the y range so that every value and ``base`` show, and whiskers up to SLACK of
    that range beyond them; a whisker reaching further is cut at the edge and marked with a
    triangle there. Returns whether any whisker was cut."""
    x, value, conf = (np.asarray(v, float) for v in (x, value, conf))
    low = min(base[0], np.nanmin(value, initial=base[0]))
    high = max(base[1], np.nanmax(value, initial=base[1]))
    room = SLACK * ((high - low) or 1.0)
    ends_low, ends_high = value - np.nan_to_num(conf), value + np.nan_to_num(conf)
    bottom = max(min(low, np.nanmin(ends_low, initial=low)), low - room)
    top = min(max(high, np.nanmax(ends_high, initial=high)), high + room)
    pad = 0.04 * (top - bottom)
    ax.set_ylim(bottom - pad, top + pad)
    over, under = ends_high > top + pad, ends_low < bottom - pad
    for cut, edge, marker in ((over, top + pad, "^"), (under, bottom - pad, "v")):
        if cut.any():  # an empty unclipped line would break the constrained layout
            ax.plot(x[cut], np.full(cut.sum(), edge), marker, color="black", clip_on=False)
    return bool(over.any() or under.any())


def _noise_line(ax, noise: pd.DataFrame, output: str) -> bool:
    share = noise.set_index("output")["seed_noise_share"].get(output, np.nan)
    if not np.isfinite(share):
        return False
    ax.axhline(share, color=GREY, ls="--", lw=1.2)
    ax.text(1.0, share, f" {share:.0%}", transform=ax.get_yaxis_transform(), va="center",
            color=GREY, fontsize=10)
    return True


def _tick_room(indices: pd.DataFrame) -> float:
    """Extra height per row of panels when the parameter names stand upright."""
    return UPRIGHT_ROOM if min(indices["parameter"].nunique(), SHOWN) > SLANTED else 0.0


def _parameter_ticks(ax, x, parameters) -> None:
    upright = len(parameters) > SLANTED
    ax.set_xticks(x, list(parameters), rotation=90 if upright else 20,
                  ha="center" if upright else "right", fontsize=10)


def _output_title(output: str) -> str:
    return wrap(sentence(kpis.label(output)), 42)


def _largest(part: pd.DataFrame, index: str) -> pd.DataFrame:
    """A panel's parameters: all, in the problem's order, or if there are more than SHOWN
    (a screening of many) the SHOWN with the largest ``index``, largest first."""
    return part if len(part) <= SHOWN else part.nlargest(SHOWN, index)


def _leading(convergence: pd.DataFrame) -> list[str]:
    """The parameters a convergence figure draws, one colour each: all, or if there are more
    colours' worth, those whose index at the largest N comes closest to their panel's
    largest."""
    parameters = list(dict.fromkeys(convergence["parameter"]))
    if len(parameters) <= len(OKABE_ITO):
        return parameters
    last = convergence[convergence["n"] == convergence["n"].max()]
    share = last["value"] / last.groupby(["output", "index"])["value"].transform("max")
    top = set(share.groupby(last["parameter"]).max().nlargest(len(OKABE_ITO)).index)
    return [p for p in parameters if p in top]


def _shown_note(total: int, shown: int, rule: str) -> str:
    """The suptitle's second line when only ``shown`` of ``total`` parameters are drawn."""
    return "" if total <= shown else (f"\n(the {shown} of {total} parameters {rule}; all of "
                                      "them in the CSV files)")


def plot_indices(indices: pd.DataFrame, noise: pd.DataFrame, method: str, path: Path) -> Figure:
    """S1 and ST per parameter with their confidence intervals, one panel per output; the
    dashed line is the seed-noise share of the output's variance."""
    outputs = list(dict.fromkeys(indices["output"]))
    with style():
        fig, axes = _grid(len(outputs), height=3.6 + _tick_room(indices))
        cut = noisy = False
        for ax, output in zip(axes, outputs, strict=True):
            part = _largest(indices[indices["output"] == output], "ST")
            x = np.arange(len(part))
            values, ends = [], []
            for offset, name in ((-0.2, "S1"), (0.2, "ST")):
                ax.bar(x + offset, part[name], width=0.4, color=COLOURS[name])
                ax.errorbar(x + offset, part[name], yerr=part[f"{name}_conf"], fmt="none",
                            ecolor="black", capsize=3, lw=1)
                values.append(part[name])
                ends.append(part[f"{name}_conf"])
            cut |= fit_whiskers(ax, np.r_[x - 0.2, x + 0.2], np.concatenate(values),
                                np.concatenate(ends), (0.0, 1.0))
            noisy |= _noise_line(ax, noise, output)
            ax.axhline(0, color="black", lw=0.8)
            _parameter_ticks(ax, x, part["parameter"])
            ax.set_title(_output_title(output))
            ax.set_ylabel("share of variance")
        handles = [plt.Rectangle((0, 0), 1, 1, color=COLOURS[n], label=INDEX_NAMES[n])
                   for n in ("S1", "ST")]
        if noisy:
            handles.append(Line2D([], [], color=GREY, ls="--",
                                  label="seed-noise share of the output's variance"))
        if cut:
            handles.append(CLIPPED)
        fig.suptitle(f"{METHOD_NAMES.get(method, method)} sensitivity indices: each "
                     "parameter's share of each output's variance (95 % CI)"
                     + _shown_note(indices["parameter"].nunique(), SHOWN,
                                   "with the largest ST in each panel"))
        fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False,
                   fontsize=10)
        save(fig, path)
    return fig


def plot_morris(indices: pd.DataFrame, path: Path) -> Figure:
    """Per output (one row each): mu* bars with confidence whiskers beside the mu*-sigma
    plane (sigma high against mu*: non-linear or interacting). Both are in the output's unit,
    per sweep of the parameter across its range."""
    outputs = list(dict.fromkeys(indices["output"]))
    with style():
        row = 3.4 + _tick_room(indices)
        fig, axes = plt.subplots(len(outputs), 2, figsize=(10, row * len(outputs) + 1.2),
                                 squeeze=False, layout="constrained")
        cut = False
        for (bars, plane), output in zip(axes, outputs, strict=True):
            part = _largest(indices[indices["output"] == output], "mu_star")
            cut |= _morris_row(bars, plane, part, output)
        handles = [Line2D([], [], color=GREY, ls=":", label="sigma = mu*")]
        fig.suptitle("Morris elementary effects: mean absolute effect mu* (95 % CI) and its "
                     "spread sigma" + _shown_note(indices["parameter"].nunique(), SHOWN,
                                                  "with the largest mu* in each panel"))
        fig.legend(handles=handles + ([CLIPPED] if cut else []), loc="outside lower center",
                   ncol=2, frameon=False, fontsize=10)
        save(fig, path)
    return fig


def _morris_row(bars, plane, part: pd.DataFrame, output: str) -> bool:
    scale = factor(output)  # shares are drawn in per cent, like their unit
    mu, conf, sigma = (part[c].to_numpy(float) * scale for c in ("mu_star", "mu_star_conf", "sigma"))
    x = np.arange(len(part))
    bars.bar(x, mu, color=COLOURS["mu_star"])
    bars.errorbar(x, mu, yerr=conf, fmt="none", ecolor="black", capsize=3, lw=1)
    cut = fit_whiskers(bars, x, mu, conf, (0.0, 0.0))
    _parameter_ticks(bars, x, part["parameter"])
    bars.set_title(_output_title(output))
    unit = unit_label(output)
    bars.set_ylabel(wrap(f"mu* ({unit})", 24))
    plane.scatter(mu, sigma, color=COLOURS["mu_star"])
    for i in np.argsort(-np.nan_to_num(mu, nan=-np.inf))[:LABELLED]:
        plane.annotate(part["parameter"].iloc[i], (mu[i], sigma[i]), fontsize=9, xytext=(4, 3),
                       textcoords="offset points")
    top = float(np.nanmax([*mu, *sigma, 0])) or 1.0
    plane.plot([0, top], [0, top], color=GREY, ls=":", lw=1)
    plane.set_xlim(0, top * 1.6)  # room for the parameter names to the right of the points
    plane.set_ylim(0, top * 1.1)
    plane.set_xlabel(f"mu* ({unit})")
    plane.set_ylabel(wrap(f"sigma ({unit})", 24))
    return cut


def plot_convergence(convergence: pd.DataFrame, path: Path) -> Figure:
    """Each index at N/2 and N with its confidence interval: lines that stay level and
    intervals that shrink mean N is large enough."""
    parameters = _leading(convergence)
    panels = list(convergence[convergence["parameter"].isin(parameters)]
                  .groupby(["output", "index"], sort=False))
    dodge = 0.04 * (np.arange(len(parameters)) - (len(parameters) - 1) / 2)
    with style():
        fig, axes = _grid(len(panels), width=5.0, height=3.2)
        cut = False
        for ax, ((output, index), part) in zip(axes, panels, strict=True):
            xs, values, confs = [], [], []
            for i, parameter in enumerate(parameters):
                line = part[part["parameter"] == parameter]
                x = line["n"].to_numpy(float) * 2 ** dodge[i]  # side by side on the log axis
                ax.errorbar(x, line["value"], yerr=line["conf"], color=OKABE_ITO[i % 8],
                            marker=MARKERS[i % 8], capsize=3, lw=1.2, label=parameter)
                xs.append(x), values.append(line["value"]), confs.append(line["conf"])
            cut |= fit_whiskers(ax, np.concatenate(xs), np.concatenate(values),
                                np.concatenate(confs), (0.0, 1.0))
            ns = sorted(part["n"].unique())
            ax.set_xscale("log", base=2)
            ax.set_xticks(ns, [str(v) for v in ns])
            ax.minorticks_off()
            ax.set_title(wrap(f"{sentence(kpis.label(output))}: {index}", 42), fontsize=11)
            ax.set_xlabel("base sample size N")
            ax.set_ylabel("index value")
        handles, _ = axes[0].get_legend_handles_labels()
        fig.suptitle("Convergence: each index at N/2 and N with its 95 % CI"
                     + _shown_note(convergence["parameter"].nunique(), len(parameters),
                                   "with the largest indices at the largest N"))
        fig.legend(handles=handles + ([CLIPPED] if cut else []), loc="outside lower center",
                   ncol=2, frameon=False, fontsize=10)
        save(fig, path)
    return fig
