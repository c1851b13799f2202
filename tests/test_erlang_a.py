"""Docking (model/docking.py): the model's own queue and patience code, in a minimal
configuration (single units, Poisson arrivals, exponential work and patience, no escalation),
matches the Erlang-A (M/M/1+M) abandonment probability and mean wait within 10 %.
benchmarks/bench_erlang_a.py sweeps utilisation 0.5-1.2 and plots model against theory."""

from __future__ import annotations

import math

import pytest

from model.docking import docked_queue, erlang_a

# A step (a model day) is short against the times of the queue: 20 steps of mean service and
# 100 of mean patience; 100 independent units for 4,000 steps give ~10,000-24,000 arrivals.
SERVICE, PATIENCE, QUEUES, STEPS, WARMUP = 20, 100, 100, 4000, 500


def erlang_c_sojourn(arrival_rate: float, servers: int) -> float:
    """Mean time in an M/M/c system (service rate 1), by Erlang's C formula."""
    a, c = arrival_rate, servers
    top = a**c / math.factorial(c) * c / (c - a)
    wait_prob = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return wait_prob / (c - a) + 1.0


@pytest.mark.parametrize("patience_in_service", [True, False])
def test_without_abandonment_the_theory_is_the_textbook_queue(patience_in_service):
    tiny = 1e-9
    one = erlang_a(0.5, 1.0, tiny, patience_in_service=patience_in_service)
    assert one.abandonment < 1e-8 and one.mean_wait == pytest.approx(1 / (1 - 0.5))  # M/M/1
    three = erlang_a(2.5, 1.0, tiny, servers=3, patience_in_service=patience_in_service)
    assert three.mean_wait == pytest.approx(erlang_c_sojourn(2.5, 3))


def test_patience_during_service_means_more_abandonment_and_shorter_waits():
    model_rule = erlang_a(0.9, 1.0, 0.2)
    textbook = erlang_a(0.9, 1.0, 0.2, patience_in_service=False)
    assert model_rule.abandonment > textbook.abandonment
    assert model_rule.mean_wait < textbook.mean_wait
    # overloaded, at least the excess load abandons
    assert erlang_a(1.2, 1.0, 0.01).abandonment > 1 - 1 / 1.2


@pytest.mark.parametrize("utilisation", [0.5, 0.9, 1.2])
def test_the_model_queue_matches_erlang_a(utilisation):
    model = docked_queue(utilisation, SERVICE, PATIENCE, QUEUES, STEPS, WARMUP)
    theory = erlang_a(utilisation / SERVICE, 1 / SERVICE, 1 / PATIENCE)
    assert model.abandonment == pytest.approx(theory.abandonment, rel=0.10)
    assert model.mean_wait == pytest.approx(theory.mean_wait, rel=0.10)
