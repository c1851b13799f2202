"""Helpers shared by the test modules (imported as ``helpers``; pytest puts tests/ on the path)."""

from __future__ import annotations

import sys
from pathlib import Path

from model import GovernanceModel, Params, scenarios
from model.metrics import summarise

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TIMING_KEYS = ("runtime_seconds", "build_seconds")

# Source facts (docs/source.md), not simulated outputs.
URBAN_POPULATION = 244_000     # F2
LONGQIAO_POPULATION = 123_000  # F10
WINTER_INFLUX = 15_000         # F11


def strip_timing(summary: dict) -> dict:
    """A summary without its wall-clock entries (the only legitimately varying keys)."""
    return {k: v for k, v in summary.items() if k not in TIMING_KEYS}


def run_model(params: Params, seed: int = 1, name: str = "test") -> tuple[GovernanceModel, dict]:
    model = GovernanceModel(params, seed=seed)
    model.run()
    return model, summarise(model, name)


def run_scenario(name: str, overrides: dict, seed: int) -> dict:
    """Summary of one scenario run with ``overrides`` (as from --set)."""
    sc = scenarios.load(name, overrides)
    return run_model(sc.params, seed, sc.name)[1]


def beyond_noise(diffs, sign: int) -> bool:
    """Paired on-minus-off differences over seeds: their mean has ``sign`` and lies beyond
    2.5 paired standard errors (no inert mechanism)."""
    import numpy as np

    diffs = np.asarray(diffs, float)
    se = diffs.std(ddof=1) / np.sqrt(len(diffs))
    return bool(sign * diffs.mean() > 2.5 * se)
