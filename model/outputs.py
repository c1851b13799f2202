"""Writing a run's outputs (the output contract of DESIGN.md): summary.json,
timeseries.parquet, cases.parquet, params.json and PNG plots of the year."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .calendar import MONTH_STARTS  # noqa: E402
from .liveness import pid_alive  # noqa: E402
from .metrics import active_in_run  # noqa: E402
from .vocabulary import STREETS  # noqa: E402
from .winter_influx import in_heating_season  # noqa: E402

F4_SHARE = 0.133  # F4: property-management share of hotline tickets


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
        ts.to_parquet(tmp / "timeseries.parquet", index=False)
        cases = model.cases.to_frame(active_in_run(model.cases))
        cases.to_parquet(tmp / "cases.parquet", index=False)
        plot_year(ts, summary, tmp / "year.png", model.p)
        plot_communities(summary, tmp / "communities.png")
        plot_categories(summary, tmp / "hotline_categories.png")
        plot_winter_load(summary, tmp / "winter_load.png")
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


def plot_year(ts: pd.DataFrame, summary: dict, path: Path, p) -> None:
    fig, axes = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    days = ts["day"]
    axes[0].plot(days, ts["mean_satisfaction"], color="tab:blue")
    axes[0].set_ylabel("mean satisfaction\n(present adults)")
    axes[1].plot(days, ts["disputes_per_1000"].rolling(7, min_periods=1).mean() * 365 / 12,
                 color="tab:red")
    axes[1].set_ylabel("disputes per 1,000\nper month (7-day mean)")
    axes[2].plot(days, ts["backlog"], color="tab:gray", label="open cases")
    axes[2].plot(days, ts["hotline_tickets"].rolling(7, min_periods=1).mean() * 10,
                 color="tab:orange", label="hotline tickets per day x10 (7-day mean)")
    axes[2].set_ylabel("cases")
    axes[2].legend(loc="upper left", fontsize=8)
    for ax in axes:
        for a, b in _season_spans(p, len(ts)):
            ax.axvspan(a, b, color="tab:cyan", alpha=0.12, lw=0)
    axes[2].set_xticks([m for m in MONTH_STARTS if m < len(ts)] or [0])
    axes[2].set_xticklabels(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
                             "Oct", "Nov", "Dec"][: len(axes[2].get_xticks())])
    fig.suptitle(f"{summary['scenario']} (seed {summary['seed']}, scale {summary['scale']}): "
                 "the year; shaded = heating season and winter influx")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_communities(summary: dict, path: Path) -> None:
    df = pd.DataFrame(summary["by_community"])
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.5))
    colors = {s: c for s, c in zip(STREETS, ("tab:blue", "tab:orange", "tab:green"), strict=True)}
    for street, g in df.groupby("street"):
        kw = dict(color=colors[street], label=street, alpha=0.8)
        axes[0].scatter(g["population"], g["disputes_per_1000_per_month"], **kw)
        axes[1].scatter(g["population"], g["mean_satisfaction"], **kw)
        axes[2].scatter(g["population"], g["mean_days_to_close"], **kw)
    for ax, label in zip(axes, ("disputes per 1,000 per month", "mean satisfaction",
                                "mean days to close"), strict=True):
        ax.set_xlabel("community residents")
        ax.set_ylabel(label)
    axes[0].legend(fontsize=8)
    fig.suptitle("Communities compared (F8: sizes from under 5,000 to over 15,000; F9: 7 "
                 "committee members each)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_categories(summary: dict, path: Path) -> None:
    shares = pd.Series(summary["category_shares"]).sort_values()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colors = ["tab:red" if k == "property" else "tab:gray" for k in shares.index]
    ax.barh(shares.index, shares.to_numpy() * 100, color=colors)
    ax.axvline(F4_SHARE * 100, color="tab:red", ls="--", lw=1, label="F4: property 13.3 %")
    ax.set_xlabel("share of hotline tickets (%)")
    ax.set_title(f"12345 hotline categories: {summary['hotline_tickets_per_10k_per_year']:.0f} "
                 "tickets per 10,000 residents per year (F3: 588)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_winter_load(summary: dict, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for s in summary["by_street"]:
        load = np.array(s["monthly_load_per_worker"])
        ax.plot(np.arange(1, len(load) + 1), load, marker="o", label=s["street"])
    ax.set_xlabel("month")
    ax.set_ylabel("cases entering staff queues per worker")
    ax.set_title("Load per worker by street (P3: the winter influx in Longqiao)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
