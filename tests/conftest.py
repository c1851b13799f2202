"""Shared small runs for the test suite.

Runs are session-scoped and must be treated as read-only: a test that steps or edits a model
builds its own (``fresh_model``). Sizes keep the whole suite within a few minutes on two
cores (scale 0.05 ~ 13,000 residents; a 60-day run takes well under a second).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import run_model

from model import GovernanceModel, Params


@pytest.fixture(scope="session")
def small_run() -> tuple[GovernanceModel, dict]:
    """Defaults at scale 0.05 for 60 days (January-February, inside the heating season)."""
    return run_model(Params(scale=0.05, days=60), seed=1, name="small")


@pytest.fixture(scope="session")
def year_run() -> tuple[GovernanceModel, dict]:
    """Defaults at scale 0.05 for a full year (closed loop on, winter influx on)."""
    return run_model(Params(scale=0.05, days=365), seed=3, name="year")


@pytest.fixture
def fresh_model() -> GovernanceModel:
    """A built but not yet run model that a test may step or modify."""
    return GovernanceModel(Params(scale=0.05, days=60), seed=7)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
