"""Writing a run's outputs (the output contract in README): summary.json,
timeseries.parquet, cases.parquet, params.json and PNG plots of the year."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from . import kpis, study
from .calendar import MONTH_STARTS, date_of
from .figstyle import (
    GREY,
    MARKERS,
    OKABE_ITO,
    SEASON_COLOUR,
    bounded_axis,
    date_name,
    from_zero,
    month_ticks,
    plt,
    save,
    sentence,
    style,
    unit_label,
)
from .liveness import pid_alive
from .metrics import active_in_run
from .vocabulary import STREETS
from .winter_influx import in_heating_season

F4_SHARE = study.F4_PROPERTY_SHARE
F3_TICKETS = round(study.F3_TICKETS_PER_10K)


def write(model, summary: dict[str, Any], out: Path, scenario_values: dict | None = None) -> Path:
    """Write the run's files into ``out``: each is written in a temporary directory beside
    it and moved into place, so an interrupted run leaves no half-written file; other files
    in ``out`` are left alone."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_run_dirs(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".run-{os.getpid()}-", dir=out))
    try:
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
        (tmp / "params.json").write_text(json.dumps(
            {"params": model.p.to_dict(), "scenario_values": scenario_values or {}},
            indent=2) + "\n")
        ts = model.datacollector.get_model_vars_dataframe()
        ts.insert(0, "date", date_of(ts["day"].to_numpy()))
        ts.to_parquet(tmp / "timeseries.parquet", index=False)
        cases = model.cases.to_frame(active_in_run(model.cases))
        cases.to_parquet(tmp / "cases.parquet", index=False)
        plot_year(ts, summary, tmp / "year.png", model.p)
        plot_communities(summary, tmp / "communities.png")
        plot_categories(summary, tmp / "hotline_categories.png")
        plot_winter_load(summary, tmp / "winter_load.png", model.p)
        for f in sorted(tmp.iterdir()):
            os.replace(f, out / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def remove_stale_run_dirs(out: Path) -> None:
    """Remove the temporary directories (``.run-PID-XXXX``) of runs killed while writing
    into ``out`` (SIGKILL, power cut); those of live processes are theirs."""
    for old in out.glob(".run-*"):
        pid = old.name.split("-")[1]
        if old.is_dir() and (not pid.isdigit() or not pid_alive(int(pid))):
            shutil.rmtree(old, ignore_errors=True)


def _season_spans(p, days: int) -> list[tuple[int, int]]:
    spans, start = [], None
    for t in range(days + 1):
        inside = t < days and in_heating_season(t, p)
        if inside and start is None:
            start = t
        if not inside and start is not None:
            spans.append((start, t))
            start = None
    return spans


def _season_patch(p) -> Patch:
    last = (p.heating_end_day - 1) % 365  # heating_end_day is the first day after the season
    return Patch(color=SEASON_COLOUR, alpha=0.2, lw=0,
                 label=f"heating season {date_name(p.heating_start_day)}–{date_name(last)}: "
                       "seasonal residents in Longqiao")


def _shade_season(ax, p, days: int) -> None:
    for a, b in _season_spans(p, days):
        ax.axvspan(a, b, color=SEASON_COLOUR, alpha=0.2, lw=0)


def _rolling_week(x: pd.Series) -> pd.Series:
    return x.rolling(7, min_periods=1).mean()


def plot_year(ts: pd.DataFrame, summary: dict, path: Path, p) -> Figure:
    """The run day by day: satisfaction on its whole 0..1 scale, disputes, open cases and
    hotline tickets per resident, with the heating season (seasonal residents present) shaded."""
    days, present = ts["day"], ts["present"].clip(lower=1)
    with style():
        fig, axes = plt.subplots(4, 1, figsize=(10, 11.5), sharex=True)
        _satisfaction_panel(axes[0], ts, summary, p)
        _series_panel(axes[1], days, _rolling_week(ts["disputes_per_1000_per_day"]) * 365 / 12,
                      sentence(kpis.label("disputes_per_1000_per_month")) + " (7-day mean)",
                      kpis.unit("disputes_per_1000_per_month"), OKABE_ITO[3])
        _series_panel(axes[2], days, ts["backlog"] / present * 10_000,
                      "Open cases per 10,000 present residents (end of day)",
                      "cases / 10,000", GREY)
        _series_panel(axes[3], days, _rolling_week(ts["hotline_tickets"] / present) * 10_000 * 365,
                      "12345 hotline tickets per 10,000 residents per year (7-day mean; dotted: the "
                      f"study's {F3_TICKETS} in 2021, F3)",
                      kpis.unit("hotline_tickets_per_10k_per_year"), OKABE_ITO[1])
        axes[3].axhline(F3_TICKETS, color="black", ls=":", lw=1)
        axes[3].text(1, F3_TICKETS, " F3", transform=axes[3].get_yaxis_transform(), va="center")
        for ax in axes:
            _shade_season(ax, p, len(ts))
        month_ticks(axes[-1], len(ts))
        fig.suptitle(f"The simulated year day by day ({summary['scenario']} scenario, seed "
                     f"{summary['seed']}, population scale {summary['scale']})")
        fig.legend(handles=[_season_patch(p)], loc="upper center", bbox_to_anchor=(0.5, 0.965),
                   frameon=False)
        fig.tight_layout(rect=(0, 0, 1, 0.95))
        save(fig, path)
    return fig


def _series_panel(ax, x, y, title: str, unit: str, colour: str) -> None:
    ax.plot(x, y, color=colour, lw=1.5)
    ax.set_title(title, loc="left")
    ax.set_ylabel(unit)
    from_zero(ax)  # rates and counts: from zero, so changes are not exaggerated


def _satisfaction_panel(ax, ts: pd.DataFrame, summary: dict, p) -> None:
    """Mean satisfaction on the whole scale; the series holds the mean of all present adults
    only, so the joining and leaving seasonal residents are marked and explained in text."""
    sat = ts["mean_satisfaction"]
    ax.plot(ts["day"], sat, color=OKABE_ITO[0], lw=1.5)
    ax.axhline(0.5, color=GREY, ls="--", lw=1)
    ax.text(1, 0.5, "neutral 0.5 ", transform=ax.get_yaxis_transform(), ha="right", va="bottom",
            color=GREY, fontsize=10)
    ax.set_ylim(0, 1)
    ax.set_ylabel(kpis.unit("mean_satisfaction"))
    ax.set_title("Mean satisfaction of present adults", loc="left")
    for day in ts.index[ts["present"].diff().fillna(0) != 0]:
        _mark_presence_change(ax, ts, day)
    origins = summary.get("satisfaction_by_origin", {})
    year_round = [v for k, v in origins.items() if k != "seasonal" and v is not None]
    note = (f"Range over the run {sat.min():.3f}–{sat.max():.3f}; the steps are the weekly "
            f"updates of satisfaction (every {p.influence_every_days} days).")
    if origins.get("seasonal") is not None and year_round:
        note += ("\nOne mean over all present adults (the series has no split by origin). "
                 "Month-end means\nover the run: seasonal residents "
                 f"{origins['seasonal']:.2f}; year-round residents by origin "
                 f"{min(year_round):.2f}–{max(year_round):.2f}.")
    ax.text(0.01, 0.04, note, transform=ax.transAxes, fontsize=10, va="bottom")


def _mark_presence_change(ax, ts: pd.DataFrame, day: int) -> None:
    """An arrow at a day when residents arrive or leave (the seasonal residents), with the
    number and the step it makes in the mean."""
    joined = int(ts["present"].iloc[day] - ts["present"].iloc[day - 1])
    step = ts["mean_satisfaction"].iloc[day] - ts["mean_satisfaction"].iloc[day - 1]
    what = "join" if joined > 0 else "leave"
    late = day > len(ts) / 2
    ax.annotate(f"{date_name(day)}: {abs(joined):,} seasonal\nresidents {what}\n"
                f"(mean {step:+.4f})", xy=(day, ts["mean_satisfaction"].iloc[day]),
                xytext=(-12 if late else 12, 22), textcoords="offset points",
                ha="right" if late else "left", va="bottom", fontsize=10,
                arrowprops={"arrowstyle": "->", "color": "black", "lw": 0.8})


def _street_style(street: str) -> dict:
    """The same colour and marker for a street in every figure."""
    i = STREETS.index(street)
    return {"color": OKABE_ITO[i], "marker": MARKERS[i]}


COMMUNITY_PANELS = ("disputes_per_1000_per_month", "mean_satisfaction", "mean_days_to_close")


def plot_communities(summary: dict, path: Path) -> Figure:
    """One point per community: three measures against its number of residents."""
    df = pd.DataFrame(summary["by_community"])
    with style():
        fig, axes = plt.subplots(1, 3, figsize=(11, 4.6))
        for street, g in df.groupby("street", sort=False):
            for ax, key in zip(axes, COMMUNITY_PANELS, strict=True):
                ax.scatter(g["population"] / 1000, g[key], s=50, alpha=0.85, label=street,
                           **_street_style(street))
        for ax, key in zip(axes, COMMUNITY_PANELS, strict=True):
            ax.set_title(sentence(kpis.label(key)), fontsize=12)
            ax.set_ylabel(unit_label(key))
            ax.set_xlabel("residents (thousands)")
            bounded_axis(ax, key)
        fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", ncol=len(STREETS),
                   bbox_to_anchor=(0.5, 0.93), frameon=False)
        fig.suptitle(f"Communities by size: one point per community ({len(df)} communities; "
                     "F8: 5,000 to 15,000+ residents)")
        fig.tight_layout(rect=(0, 0, 1, 0.9))
        save(fig, path)
    return fig


def plot_categories(summary: dict, path: Path) -> Figure:
    """Share of hotline tickets per category, property against the study's 13.3 % (F4)."""
    shares = pd.Series(summary["category_shares"]).sort_values() * 100
    with style():
        fig, ax = plt.subplots(figsize=(9, 5))
        colours = [OKABE_ITO[3] if k == "property" else GREY for k in shares.index]
        ax.barh([k.replace("_", " ") for k in shares.index], shares.to_numpy(), color=colours)
        for y, v in enumerate(shares.to_numpy()):
            ax.text(v + 0.2, y, f"{v:.1f}", va="center", fontsize=10)
        ax.axvline(F4_SHARE * 100, color=OKABE_ITO[3], ls="--", lw=1.5)
        ax.text(F4_SHARE * 100, 1.01, "F4 (study, 2021): property 13.3 %,\nthe largest category",
                transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=10,
                color=OKABE_ITO[3])
        ax.set_xlim(0, max(shares.max(), F4_SHARE * 100) * 1.15)
        ax.set_xlabel(kpis.unit("property_share"))
        ax.set_title("12345 hotline tickets by category (simulated: "
                     f"{summary['hotline_tickets_per_10k_per_year']:.0f} tickets per 10,000 "
                     f"residents per year; F3: {F3_TICKETS})", fontsize=12, pad=38)
        fig.tight_layout()
        save(fig, path)
    return fig


def plot_winter_load(summary: dict, path: Path, p=None) -> Figure:
    """Per street and month: cases entering community staff queues per staff member, drawn
    at mid-month, with the heating season shaded when ``p`` is given."""
    key = "workload_per_worker"
    with style():
        fig, ax = plt.subplots(figsize=(10, 5))
        for s in summary["by_street"]:
            load = np.array(s["monthly_load_per_worker"])
            mid = _mid_month_days(len(load))
            ax.plot(mid, load, lw=1.8, ms=7, label=f"{s['street']} ({s['staff_per_10k']:.1f} "
                    "staff per 10,000 residents)", **_street_style(s["street"]))
        days = 365 * -(-len(summary["by_street"][0]["monthly_load_per_worker"]) // 12)
        if p is not None:
            _shade_season(ax, p, days)
        month_ticks(ax, days)
        from_zero(ax)
        ax.set_ylabel(kpis.unit(key))
        ax.set_title(sentence(kpis.label(key)) + ", by street", loc="left")
        handles, labels = ax.get_legend_handles_labels()
        if p is not None:
            handles.append(_season_patch(p))
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2,
                  frameon=False, fontsize=10)
        fig.tight_layout()
        save(fig, path)
    return fig


def _mid_month_days(months: int) -> np.ndarray:
    """The 15th day of each month of a run, on the day axis (day 0 = 1 January)."""
    m = np.arange(months)
    return 365 * (m // 12) + MONTH_STARTS[m % 12] + 14
