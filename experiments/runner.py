"""One run of an experiment, executed in a worker process (local or on a Dask cluster).

The task carries the full parameter values, not a scenario name, so a remote worker needs
no scenario files; the worker returns the summary (and optionally the daily series) and the
client writes them, so workers need no shared disk either.
"""

from __future__ import annotations

import hashlib
import json
import traceback
from dataclasses import asdict, dataclass
from time import perf_counter
from typing import Any

import numpy as np

from model import kpis
from model.metrics import MODEL_VERSION
from model.params import Params
from model.provenance import model_digest

# Summary keys that identify a run rather than measure it.
IDENTITY = ("scenario", "seed", "days", "scale", "model_version", "model_digest")


def run_key(params: Params, seed: int) -> str:
    """Hash of (model version, model digest, parameters, seed): the identity of a run in the
    result store. The digest covers the model's source and libraries (model/provenance.py):
    a changed model gets new keys even when MODEL_VERSION was not raised."""
    blob = json.dumps({"model_version": MODEL_VERSION, "model_digest": model_digest(),
                       "params": asdict(params), "seed": seed}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Task:
    key: str
    scenario: str
    values: dict[str, Any]   # every parameter, typed
    seed: int
    series: bool = False     # keep the daily series too


def execute(task: Task) -> dict[str, Any]:
    """Run the model; never raises: an error comes back with its traceback."""
    start = perf_counter()
    try:
        from model import GovernanceModel

        model = GovernanceModel(Params(**task.values), seed=task.seed)
        model.run()
        summary = {**model.summary, "scenario": task.scenario}  # summarised as the run ended
        series = model.datacollector.get_model_vars_dataframe() if task.series else None
        model.release()  # free it now: workers run thousands of models
        return {"key": task.key, "summary": summary, "series": series,
                "worker_seconds": perf_counter() - start}
    except Exception as e:  # noqa: BLE001 - a failing run is recorded, the sweep goes on
        return {"key": task.key, "error": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc()}


def flatten(summary: dict[str, Any]) -> dict[str, Any]:
    """The scalar measures of a summary as floats (None, "nothing to measure", becomes NaN so
    that every run stores the same column types): top-level numbers, one level of named
    shares (``category_shares.property``), and the measures model/kpis.py declares as
    repeating another under a headline name (``property_share``)."""
    flat: dict[str, float] = {}
    for key, value in summary.items():
        if key in IDENTITY:
            continue
        items = value.items() if isinstance(value, dict) else [(None, value)]
        for sub, v in items:
            if v is None or (isinstance(v, int | float) and not isinstance(v, bool)):
                flat[key if sub is None else f"{key}.{sub}"] = np.nan if v is None else float(v)
    for m in kpis.MEASURES:
        if m.same_as:
            flat[m.key] = flat[m.same_as]
    return flat


def measure_names() -> tuple[str, ...]:
    """Every measure ``flatten`` gives a run, known without running one (a test pins the two
    together): the measures declared in model/kpis.py."""
    return kpis.keys(lambda m: True)


def record(task: Task, result: dict[str, Any]) -> dict[str, Any]:
    """The row stored for a finished run: key, seed, parameters, measures, the
    run's wall time in its worker (build, simulate, summarise) and the whole summary as JSON
    (for reports and per-community results)."""
    summary = result["summary"]
    return {"key": task.key, "seed": task.seed, "model_version": summary["model_version"],
            "scenario": task.scenario, **task.values, **flatten(summary),
            "worker_seconds": result["worker_seconds"], "summary_json": json.dumps(summary)}
