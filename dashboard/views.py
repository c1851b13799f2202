"""What the dashboard shows, as numbers and matplotlib figures of a GovernanceModel at any
day of its year: the schematic district map (streets → communities → compounds, a treemap
sized by population, coloured by a chosen measure), the KPI cards, the monthly series by
street and the comparison with the baseline on paired seeds. Labels, units and
formats come from the measure registry (model/kpis.py)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from model import figstyle, kpis
from model.calendar import month_of
from model.metrics import DAYS_PER_MONTH, summarise
from model.model import GovernanceModel
from model.vocabulary import CHANNELS, IS_DISPUTE, OPEN_STATES, STREETS

from . import levers
from .levers import Settings
from .watched import WatchedModel

# The KPI cards: what a report's bottom line leads with, then the load on staff and what
# overload hides (model/kpis.py declares them all).
CARDS = (*kpis.leads(), "workload_per_worker", "abandoned_share", "backlog_at_year_end")
# The comparison with the baseline: the cards' measures and what else overload shows.
COMPARED = (*CARDS[:-1], "never_handled_share", "escalated_share", "unsatisfied_share",
            CARDS[-1])


@dataclass(frozen=True)
class MapMeasure:
    label: str
    unit: str
    fmt: str
    better: int  # +1 higher is better, -1 lower (the colour map runs from worse to better)


MAP_MEASURES = {
    "satisfaction": MapMeasure("mean satisfaction of adults", kpis.SCALE, "{:.2f}", 1),
    "load": MapMeasure("reported cases per community worker per month",
                       kpis.unit("workload_per_worker"), "{:.1f}", -1),
    "backlog": MapMeasure("open cases per 1,000 residents", "cases / 1,000 residents",
                          "{:.1f}", -1),
    "disputes": MapMeasure("disputes per 1,000 per month", kpis.PER_1000, "{:.2f}", -1),
}


def months_run(model: GovernanceModel) -> float:
    return max(model.day, 1) / DAYS_PER_MONTH


def compound_values(model: WatchedModel, measure: str) -> np.ndarray:
    """Measure ``measure`` (a key of MAP_MEASURES) of every compound, over the days run."""
    d, c = model.district, model.cases
    present = np.maximum(np.bincount(d.compound, model.present, minlength=d.n_compounds), 1)
    year = c.opened >= 0
    if measure == "satisfaction":
        return np.asarray(model.compound_satisfaction(), float)
    if measure == "backlog":
        open_ = np.isin(c.state, OPEN_STATES)
        return np.bincount(c.compound[open_], minlength=d.n_compounds) / present * 1000
    if measure == "disputes":
        disputes = np.bincount(c.compound[year & IS_DISPUTE[c.kind]], minlength=d.n_compounds)
        return disputes / present * 1000 / months_run(model)
    if measure == "load":  # a community's staff serve all its compounds
        return community_load(model)[d.compound_community]
    raise KeyError(f"unknown map measure {measure!r}; allowed: {', '.join(MAP_MEASURES)}")


def community_load(model: WatchedModel) -> np.ndarray:
    """Reported cases per community worker per month in each community, over the days run:
    per community staff member serving there, as the KPI's load by street (winter posts and
    seasonal workers count where they serve, not at home)."""
    d, c = model.district, model.cases
    reported = (c.opened >= 0) & (c.channel != CHANNELS.index("silence"))
    cases = np.bincount(c.community[reported], minlength=d.n_communities)
    return cases * DAYS_PER_MONTH / np.maximum(model.serving_days, 1)  # per worker-month


def _split(x: float, length: float, weights: np.ndarray) -> list[tuple[float, float]]:
    """(start, size) of pieces of [x, x + length] in proportion to ``weights``."""
    edges = x + length * np.concatenate([[0.0], np.cumsum(weights) / max(weights.sum(), 1)])
    return [(float(a), float(b - a)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def treemap(model: GovernanceModel) -> dict[str, list[tuple[int, tuple[float, ...]]]]:
    """Rectangles (x, y, width, height) in the unit square: streets side by side, their
    communities stacked, each community's compounds side by side; sizes by base population."""
    d = model.district
    out: dict[str, list] = {"street": [], "community": [], "compound": []}
    street_pop = np.bincount(d.community_street, d.community_pop, minlength=len(STREETS))
    for s, (x, w) in enumerate(_split(0.0, 1.0, street_pop)):
        out["street"].append((s, (x, 0.0, w, 1.0)))
        comms = np.flatnonzero(d.community_street == s)
        for i, (y, h) in zip(comms, _split(0.0, 1.0, d.community_pop[comms]), strict=True):
            out["community"].append((int(i), (x, y, w, h)))
            cps = np.flatnonzero(d.compound_community == i)
            for j, (cx, cw) in zip(cps, _split(x, w, d.compound_pop[cps]), strict=True):
                out["compound"].append((int(j), (cx, y, cw, h)))
    return out


def map_figure(model: WatchedModel, measure: str) -> Figure:
    """The district map coloured by ``measure``, with the street names and a colour bar."""
    m = MAP_MEASURES[measure]
    values = compound_values(model, measure)
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5 * max(abs(lo), 1e-3), hi + 0.5 * max(abs(hi), 1e-3)
    with figstyle.style():
        # fixed places, not a layout engine: a figure a week, and the engine costs more than
        # the drawing
        fig = Figure(figsize=(7.5, 5.2), dpi=figstyle.DPI)
        ax = fig.add_axes((0.01, 0.01, 0.8, 0.9))
        cmap = "RdYlBu" if m.better > 0 else "RdYlBu_r"
        norm = mpl.colors.Normalize(lo, hi)
        colours = mpl.colormaps[cmap](norm(values))
        rects = treemap(model)
        for j, (x, y, w, h) in rects["compound"]:
            ax.add_patch(Rectangle((x, y), w, h, facecolor=colours[j], edgecolor="white", lw=0.8))
        for _, (x, y, w, h) in rects["community"]:
            ax.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor="#555555", lw=1.4))
        for s, (x, y, w, h) in rects["street"]:
            ax.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor="black", lw=2.5))
            ax.text(x + w / 2, 1.01, STREETS[s], ha="center", va="bottom", fontsize=12,
                    fontweight="bold")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.07)
        ax.set_axis_off()
        ax.set_title(f"Compounds by population, in communities (thin lines) and streets: "
                     f"day {model.day} of {model.p.days}", fontsize=11, loc="left")
        bar = fig.colorbar(mpl.cm.ScalarMappable(norm, cmap), cax=fig.add_axes((0.83, 0.1, 0.03, 0.75)))
        bar.set_label(figstyle.wrap(f"{m.label} ({m.unit})", 34))
    return fig


def summary_so_far(model: GovernanceModel) -> dict[str, Any] | None:
    """The run's summary: the finished year's, or the days run so far (None before day 1)."""
    if model.summary is not None:
        return model.summary
    if model.day == 0:
        return None
    if model.daily.snapshots:
        return summarise(model, model.scenario_name)
    # before the first month's end the summary has no month-end look at satisfaction yet:
    # today's, taken back at once (the run itself never sees it)
    model.daily.month_snapshot(model)
    try:
        return summarise(model, model.scenario_name)
    finally:
        model.daily.snapshots.pop()


def cards(summary: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """(label, value, unit) of each KPI card ("–" before the first day is run)."""
    out = []
    for key in CARDS:
        v = kpis.value(summary, key) if summary else None
        shown = "–" if summary is None else "n/a" if v is None else kpis.fmt(key).format(v)
        out.append((kpis.label(key), shown, kpis.unit(key)))
    return out


def monthly_by_street(model: GovernanceModel) -> dict[str, np.ndarray]:
    """Per street (rows) and month (columns) so far: cases entering community staff queues
    per worker, disputes per 1,000 residents and month-end mean satisfaction of adults."""
    d, c, log = model.district, model.cases, model.daily
    days = len(log.new_cases)
    if days == 0:
        return {}
    month = month_of(np.arange(days))
    n_months = int(month[-1]) + 1
    summary = summary_so_far(model)
    load = np.array([s["monthly_load_per_worker"] for s in summary["by_street"]])
    sel = (c.opened >= 0) & IS_DISPUTE[c.kind]
    disputes = np.zeros((len(STREETS), n_months))
    np.add.at(disputes, (c.street[sel], month_of(c.opened[sel])), 1)
    present_days = np.stack([np.bincount(month, log.present_by_street[:, s], minlength=n_months)
                             for s in range(len(STREETS))])
    per_1000 = disputes * 1000 * DAYS_PER_MONTH / np.maximum(present_days, 1)
    snaps = log.snapshots
    sat = np.full((len(STREETS), n_months), np.nan)
    for i, snap in enumerate(snaps[:n_months]):
        total = np.bincount(d.community_street, snap["community_sum"], minlength=len(STREETS))
        n = np.bincount(d.community_street, snap["community_n"], minlength=len(STREETS))
        sat[:, i] = total / np.maximum(n, 1)
    return {"load": load, "disputes": per_1000, "satisfaction": sat}


SERIES = (("load", "workload_per_worker"), ("disputes", "disputes_per_1000_per_month"),
          ("satisfaction", "mean_satisfaction"))


def series_figure(model: GovernanceModel) -> Figure:
    """Three panels by month, a line per street: load per worker, disputes, satisfaction."""
    data = monthly_by_street(model)
    with figstyle.style():
        fig = Figure(figsize=(12, 3.6), dpi=figstyle.DPI)
        fig.subplots_adjust(left=0.06, right=0.99, bottom=0.15, top=0.86, wspace=0.3)
        axes = fig.subplots(1, len(SERIES))
        for ax, (name, key) in zip(axes, SERIES, strict=True):
            ax.set_title(figstyle.wrap(kpis.declared(key).label, 36), fontsize=11)
            ax.set_ylabel(kpis.unit(key), fontsize=10)
            ax.set_xlabel("month of the year", fontsize=10)
            ax.set_xlim(0.5, 12.5)
            if name not in data:
                continue
            months = np.arange(1, data[name].shape[1] + 1)
            for s, street in enumerate(STREETS):
                ax.plot(months, data[name][s], marker=figstyle.MARKERS[s], label=street)
        if data:
            axes[0].legend(loc="best", fontsize=9)
    return fig


PAIRED_SEEDS = 3  # the comparison's seeds: the page's and the next ones


def paired_seeds(seed: int) -> tuple[int, ...]:
    return tuple(range(seed, seed + PAIRED_SEEDS))


@lru_cache(maxsize=64)
def _year(key: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    from model.model import run_model

    return run_model(**dict(key))


def year_summary(settings: Settings) -> dict[str, Any]:
    """The summary of the year of ``settings`` (kept: the comparisons on the same seed and
    scale reuse the baseline's, and a setting tried again reuses its own)."""
    return _year(settings.key())


def baseline_summary(seed: int, scale: float) -> dict[str, Any]:
    """The baseline year's summary at ``seed`` and ``scale``."""
    return year_summary(levers.for_scenario("baseline", seed, scale))


def paired_summaries(settings: Settings, summary: dict[str, Any]
                     ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The summaries of ``settings`` (``summary`` is its year on its own seed) and of the
    baseline at the same scale, on each of the paired seeds."""
    seeds = paired_seeds(settings.seed)
    current = [summary, *(year_summary(settings.with_value(levers.SEED, s)) for s in seeds[1:])]
    return current, [baseline_summary(s, settings.scale) for s in seeds]


def verdict(differences: list[float], better: int) -> str:
    """Better or worse only when the paired difference has the same sign on every seed of the
    comparison; "unclear (seed noise)" when the signs differ."""
    if len(differences) < PAIRED_SEEDS:
        return f"checking {PAIRED_SEEDS - len(differences)} more seeds"
    if all(abs(d) < 1e-12 for d in differences):
        return "same"
    if not better:
        return ""
    signs = {int(np.sign(d)) * better for d in differences}
    return "better" if signs == {1} else "worse" if signs == {-1} else "unclear (seed noise)"


def _signed(key: str, diff: float) -> str:
    f = kpis.fmt(key)
    pct = kpis.PERCENT_FORMAT.fullmatch(f or "")
    return f"{diff * 100:+.{pct.group(1)}f} points" if pct else f.replace("{:", "{:+").format(diff)


def comparison(current: list[dict[str, Any]], baseline: list[dict[str, Any]]
               ) -> list[dict[str, str]]:
    """The headline measures of the current settings against the baseline, paired on the
    seeds given (the page's first): both values and the difference on the page's seed, the
    range of the paired differences over the seeds, and the verdict (``verdict``)."""
    rows = []
    for key in COMPARED:
        pairs = [(kpis.value(a, key), kpis.value(b, key))
                 for a, b in zip(current, baseline, strict=True)]
        if any(a is None or b is None for a, b in pairs):
            continue
        f = kpis.fmt(key)
        diffs = [a - b for a, b in pairs]
        rows.append({"measure": kpis.label(key), "unit": kpis.unit(key),
                     "current": f.format(pairs[0][0]), "baseline": f.format(pairs[0][1]),
                     "difference": _signed(key, diffs[0]),
                     "range": (f"{_signed(key, min(diffs))} to {_signed(key, max(diffs))}"
                               if len(diffs) == PAIRED_SEEDS else ""),
                     "verdict": verdict(diffs, kpis.better(key))})
    return rows
