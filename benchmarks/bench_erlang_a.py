#!/usr/bin/env python3
"""Docking the work queues against Erlang-A (a benchmark, not a test; tests/test_erlang_a.py
checks three points).

The model's own queue code in the minimal configuration of model/docking.py (independent
single units, Poisson arrivals, exponential work and patience, no escalation: an impatient
resident gives up) against the exact M/M/1+M queue with the model's rule that patience runs
until the work is finished; the textbook Erlang-A (patience only while waiting) is drawn for
comparison. Two sweeps:

- utilisation 0.5 to 1.2 at ``--service`` steps of mean service and ``--patience`` steps of
  mean patience: abandonment probability and mean wait (arrival to the end of the first
  handling, over the handled) of model and theory;
- resolution: at utilisation 0.5, 0.9 and 1.2 and mean patience = 5 mean services, the
  model/theory ratios against the steps per mean service (1 step = a model day), which
  shows how short a step must be against the queue's times for the daily steps to match
  continuous time.

Writes erlang_a_docking.csv (both sweeps, ``sweep`` column) and erlang_a_docking.png to
``--out`` (docs/figures) and prints the table; exit status 1 when a point of the utilisation
sweep is off by more than 10 %.

    python benchmarks/bench_erlang_a.py [--service 20] [--patience 100] [--queues 100]
                                        [--steps 4000] [--out docs/figures]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.docking import docked_queue, erlang_a  # noqa: E402
from model.figstyle import GREY, OKABE_ITO, plt, save, style  # noqa: E402

UTILISATIONS = np.round(np.arange(0.5, 1.21, 0.05), 2)
RESOLUTIONS = (1, 2, 5, 10, 20)  # steps per mean service
RESOLUTION_UTILISATIONS = (0.5, 0.9, 1.2)
PATIENCE_PER_SERVICE = 5
TOLERANCE = 0.10


def point(utilisation: float, service: float, patience: float, queues: int, steps: int,
          seed: int) -> dict:
    """Model and theory at one utilisation (times in steps)."""
    model = docked_queue(utilisation, service, patience, queues, steps,
                         warmup=int(5 * patience), seed=seed)
    rates = (utilisation / service, 1 / service, 1 / patience)
    theory, textbook = erlang_a(*rates), erlang_a(*rates, patience_in_service=False)
    return {"utilisation": utilisation, "service_steps": service, "patience_steps": patience,
            "model_abandonment": model.abandonment, "theory_abandonment": theory.abandonment,
            "textbook_abandonment": textbook.abandonment,
            "model_wait": model.mean_wait, "theory_wait": theory.mean_wait,
            "textbook_wait": textbook.mean_wait,
            "abandonment_ratio": model.abandonment / theory.abandonment,
            "wait_ratio": model.mean_wait / theory.mean_wait}


def plot(sweep: pd.DataFrame, resolution: pd.DataFrame, path: Path) -> None:
    with style():
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), layout="constrained")
        for ax, what, label in ((axes[0], "wait", "mean wait before first handling (steps)"),
                                (axes[1], "abandonment", "abandonment probability")):
            ax.plot(sweep["utilisation"], sweep[f"theory_{what}"], color=OKABE_ITO[0],
                    label="theory: M/M/1+M, patience until handled (the model's rule)")
            ax.plot(sweep["utilisation"], sweep[f"textbook_{what}"], color=GREY, ls="--",
                    label="textbook Erlang-A: patience only while waiting")
            ax.plot(sweep["utilisation"], sweep[f"model_{what}"], "o", color=OKABE_ITO[3],
                    label="model's queue code")
            ax.fill_between(sweep["utilisation"], sweep[f"theory_{what}"] * (1 - TOLERANCE),
                            sweep[f"theory_{what}"] * (1 + TOLERANCE), color=OKABE_ITO[0],
                            alpha=0.15, lw=0, label="theory ± 10 %")
            ax.set_xlabel("utilisation (arrival rate / service rate)")
            ax.set_ylabel(label)
            ax.set_ylim(0, None)
        s = sweep.iloc[0]
        axes[0].set_title(f"Mean wait: {s['service_steps']:g} steps of service, "
                          f"{s['patience_steps']:g} of patience")
        axes[1].set_title("Abandonment (never handled)")
        axes[1].legend(loc="lower right", fontsize=9)
        ax = axes[2]
        for i, u in enumerate(RESOLUTION_UTILISATIONS):
            r = resolution[resolution["utilisation"] == u]
            ax.plot(r["service_steps"], r["abandonment_ratio"], "-o", color=OKABE_ITO[i],
                    label=f"abandonment, utilisation {u:g}")
            ax.plot(r["service_steps"], r["wait_ratio"], ":s", color=OKABE_ITO[i],
                    label=f"mean wait, utilisation {u:g}")
        ax.axhspan(1 - TOLERANCE, 1 + TOLERANCE, color=GREY, alpha=0.15, lw=0)
        ax.axhline(1, color=GREY, lw=1)
        ax.set_xscale("log")
        ax.set_xticks(RESOLUTIONS, [str(r) for r in RESOLUTIONS])
        ax.set_xlabel("steps (model days) per mean service")
        ax.set_ylabel("model / theory")
        ax.set_title(f"Step length (mean patience = {PATIENCE_PER_SERVICE} services)")
        ax.legend(fontsize=9)
        save(fig, path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--service", type=float, default=20, help="steps of mean service (20)")
    ap.add_argument("--patience", type=float, default=100, help="steps of mean patience (100)")
    ap.add_argument("--queues", type=int, default=100, help="independent units (100)")
    ap.add_argument("--steps", type=int, default=4000, help="steps with arrivals (4,000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("docs/figures"))
    args = ap.parse_args()

    sweep = pd.DataFrame([point(u, args.service, args.patience, args.queues, args.steps,
                                args.seed) for u in UTILISATIONS]).assign(sweep="utilisation")
    resolution = pd.DataFrame([point(u, r, PATIENCE_PER_SERVICE * r, args.queues,
                                     args.steps, args.seed)
                               for r in RESOLUTIONS for u in RESOLUTION_UTILISATIONS]
                              ).assign(sweep="resolution")
    args.out.mkdir(parents=True, exist_ok=True)
    pd.concat([sweep, resolution]).to_csv(args.out / "erlang_a_docking.csv", index=False)
    plot(sweep, resolution, args.out / "erlang_a_docking.png")
    print(pd.concat([sweep, resolution]).round(3).to_string(index=False))
    worst = np.abs(sweep[["abandonment_ratio", "wait_ratio"]].to_numpy() - 1).max()
    print(f"utilisation sweep: worst model/theory difference {worst:.1%} "
          f"({'PASS' if worst <= TOLERANCE else 'FAIL'} at {TOLERANCE:.0%})")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
