"""Regret across plausible worlds (后悔值): which policy to choose when the calibration leaves
the world uncertain (docs/experiments.md, "Robust staffing").

In each plausible world (experiments/worlds.py) some policy does best on the objective; the
regret of policy p in world w is how much worse p's mean over the seeds is there than the
best policy's — zero for the world's best. The policy best on average can still be far behind
in some worlds; the min-max-regret policy is the one whose worst case is least bad, and the
90th percentile of regret is the same with the worst tenth of the worlds set aside.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from model import kpis
from model.params import ParameterError

from .worlds import distinct_particles

ROBUST = {"max": "worst-case regret", "p90": "90th-percentile regret"}   # --robust: its words
PERCENTILE = 90   # of the worlds' regrets, for --robust p90


def check_robust(robust: str) -> str:
    """``--robust``: one of :data:`ROBUST`."""
    if robust not in ROBUST:
        raise ParameterError(f"--robust '{robust}': unknown robust objective; allowed: "
                             f"{', '.join(ROBUST)}")
    return robust


def regret_table(runs: pd.DataFrame, by: str, measure: str) -> pd.DataFrame:
    """Per policy (value of ``by``, in order of appearance) and world: the ``seeds`` with a
    finite ``value`` of ``measure`` among the finished runs, their mean (``value``), and its
    ``regret``: how much worse it is than the best policy's in that world, by the measure's
    better direction (model/kpis.py; ≥ 0). A world in which some policy has no value cannot
    rank them: its regrets are NaN."""
    sign = kpis.better(measure)
    if not sign:
        raise ValueError(f"{measure} has no better direction: no regret")
    done = runs[runs["status"] == "done"] if "status" in runs else runs
    done = done.assign(value=done[measure].astype(float).replace([np.inf, -np.inf], np.nan))
    policies = list(dict.fromkeys(runs[by]))
    worlds = sorted(runs["world"].unique())
    grid = pd.MultiIndex.from_product([policies, worlds], names=[by, "world"])
    cells = done.groupby([by, "world"])["value"].agg(["count", "mean"]).reindex(grid)
    table = pd.DataFrame({"seeds": cells["count"].fillna(0).astype(int),
                          "value": cells["mean"]}).reset_index()
    wide = table.pivot(index="world", columns=by, values="value")
    complete = wide.notna().all(axis=1)
    best = (wide.max(axis=1) if sign > 0 else wide.min(axis=1)).where(complete)
    # + 0.0: no negative zero for the best rule of a world
    table["regret"] = sign * (best.reindex(table["world"]).to_numpy() - table["value"]) + 0.0
    return table


def robust_summary(regret: pd.DataFrame, by: str, measure: str, lead: str,
                   worlds: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What :func:`regret_table` says, over the worlds where every policy has a value: per
    policy its mean ``value``, mean, maximum and :data:`PERCENTILE` th-percentile regret
    (linear between the worlds' values) and the worlds where it is best; the policy best on
    average, those with the smallest maximum and percentile regret (ties: the first
    policy), and which of the two ``lead`` (--robust) puts first. With the drawn ``worlds``
    (the manifest's), also the distinct ``particles`` among the ranked worlds."""
    check_robust(lead)
    ranked = regret.dropna(subset=["regret"])
    policies = list(dict.fromkeys(regret[by]))
    per = {p: g for p, g in ranked.groupby(by, sort=False)}
    rows = {p: {"mean": float(per[p]["value"].mean()),
                "mean_regret": float(per[p]["regret"].mean()),
                "max_regret": float(per[p]["regret"].max()),
                "p90_regret": float(np.percentile(per[p]["regret"], PERCENTILE)),
                "worlds_best": int((per[p]["regret"] == 0).sum())}
            for p in policies if p in per}

    def least(key: str) -> str | None:
        return min(rows, key=lambda p: rows[p][key]) if rows else None

    return {"measure": measure, "better": "higher" if kpis.better(measure) > 0 else "lower",
            "lead": lead, "worlds": int(ranked["world"].nunique()),
            "worlds_drawn": int(regret["world"].nunique()),
            "best_on_average": least("mean_regret"), "min_max_regret": least("max_regret"),
            "min_p90_regret": least("p90_regret"), "policies": rows,
            **({"particles": distinct_particles([worlds[int(w)] for w in
                                                 ranked["world"].unique()])}
               if worlds else {})}
