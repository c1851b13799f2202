"""The study's directions, with enough replicates to be real.

Full years of the calibrated baseline scenario with one parameter changed, the same seeds
in each arm: scale 0.1 (25,900 residents) for staffing and funding, whose effects are large;
scale 0.25 for the winter influx, whose effect on a monthly load is small against the
month-to-month noise of one street (measured: a raise of ~1.7 vs ~1.1 cases per worker
with a seed-to-seed sd of ~0.3, so 8 seeds per arm give t ~ 5; at scale 0.1 the same test
needed ~10 seeds per arm). A direction holds when the difference of
means exceeds MARGIN = 3 standard errors of that difference, a t-like test: about a one-sided
97.5 % level for 4 paired seeds (t with 3 df: 3.18) and beyond 99 % for two arms of 6 seeds
(Welch, about 10 df: 2.76).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from helpers import run_scenario

SCALE = 0.1
WINTER_SCALE = 0.25
SEEDS = (101, 102, 103, 104)
WINTER_SEEDS = (201, 202, 203, 204, 205, 206, 207, 208)
MARGIN = 3.0


@pytest.fixture(scope="module")
def summary():
    @cache
    def get(arm: tuple[tuple[str, object], ...], seed: int) -> dict:
        return run_scenario("baseline", {"days": 365, **dict(arm)}, seed)

    def run(seed: int, scale: float = SCALE, **over) -> dict:
        return get(tuple(sorted({"scale": scale, **over}.items())), seed)

    return run


def paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean of a - b and its standard error, arms paired by seed."""
    d = a - b
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


def welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean of a minus mean of b and its standard error, arms independent."""
    return float(a.mean() - b.mean()), float(np.hypot(a.std(ddof=1) / np.sqrt(len(a)),
                                                      b.std(ddof=1) / np.sqrt(len(b))))


def test_more_staff_closes_cases_faster(summary):
    """F5-F7: 43.9 staff per 10,000 (after the 2022 welfare posts) against the provincial
    standard of 18: cases close sooner."""
    seeds = SEEDS
    more = np.array([summary(s, staffing_per_10k=43.9)["mean_days_to_close"] for s in seeds])
    fewer = np.array([summary(s, staffing_per_10k=18.0)["mean_days_to_close"] for s in seeds])
    diff, se = paired(more, fewer)
    assert diff < 0 and abs(diff) > MARGIN * se, (more, fewer)
    assert np.all(more < fewer)


def _raise(s: dict) -> float:
    """Longqiao's load per worker in December/January minus June/July."""
    load = next(x for x in s["by_street"] if x["street"] == "Longqiao")["monthly_load_per_worker"]
    assert len(load) == 12
    return (load[11] + load[0]) / 2 - (load[5] + load[6]) / 2


def test_winter_influx_raises_longqiao_load_per_worker(summary):
    """F11, P3: the seasonal residents raise Longqiao's load per worker in the heating season
    (Dec/Jan against Jun/Jul), by more than the season alone does without them."""
    with_influx = np.array([_raise(summary(s, WINTER_SCALE)) for s in WINTER_SEEDS])
    without = np.array([_raise(summary(s, WINTER_SCALE, winter_influx=0)) for s in WINTER_SEEDS])
    mean = float(with_influx.mean())
    se = float(with_influx.std(ddof=1) / np.sqrt(len(with_influx)))
    assert mean > MARGIN * se, with_influx
    # the districts differ between arms (the seasonal households are drawn from the same
    # stream), so the arms are compared as independent samples
    diff, se = welch(with_influx, without)
    assert diff > MARGIN * se, (with_influx, without)


def test_winter_influx_raises_longqiao_population_in_winter(summary):
    s = summary(WINTER_SEEDS[0], WINTER_SCALE)
    lq = next(x for x in s["by_street"] if x["street"] == "Longqiao")
    present = np.array(lq["monthly_present"])
    expected = round(15_000 * WINTER_SCALE)  # F11
    assert present[0] - present[6] == pytest.approx(expected)
    assert present[11] > present[6]


def test_more_funding_raises_satisfaction(summary):
    """F13 vs F14: 580,000 yuan per community (Shanghai Qingpu) against 200,000 (Yanzhou)."""
    seeds = SEEDS
    rich = np.array([summary(s, funding_per_community_yuan=580_000.0)["mean_satisfaction"]
                     for s in seeds])
    poor = np.array([summary(s, funding_per_community_yuan=200_000.0)["mean_satisfaction"]
                     for s in seeds])
    diff, se = paired(rich, poor)
    assert diff > MARGIN * se and diff > 0, (rich, poor)
