#!/usr/bin/env python3
"""Speed and memory of the baseline year at scale 1.0 (a benchmark, not a test).

Prints build and simulation wall seconds, resident-days per second, peak memory, the ratio of
our resident-days per second to the agent-steps per second of Mesa's own network example
(virus_on_network, 5,000 nodes, average degree 8, 50 steps, median of 3), and a digest of
summary.json for seed 1 (timing keys removed) so that optimisations can show results are
unchanged.

    python benchmarks/bench_year.py [--scale 1.0] [--seed 1] [--skip-mesa]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model import GovernanceModel, scenarios  # noqa: E402
from model.metrics import summarise  # noqa: E402

TIMING_KEYS = ("runtime_seconds", "build_seconds")
TARGETS = {"wall_s": 60.0, "peak_gib": 2.0}  # issue 2; issue 5 tightens to 5 s and 1.5 GiB


def digest(summary: dict) -> str:
    clean = {k: v for k, v in summary.items() if k not in TIMING_KEYS}
    return hashlib.sha256(json.dumps(clean, sort_keys=True).encode()).hexdigest()[:16]


def mesa_agent_steps_per_second(repeats: int = 3) -> float:
    """Agent-steps per second of mesa.examples.basic.virus_on_network (5,000 nodes, degree 8)."""
    from mesa.examples.basic.virus_on_network.model import VirusOnNetwork

    rates = []
    for r in range(repeats):
        m = VirusOnNetwork(num_nodes=5000, avg_node_degree=8, rng=r + 1)
        t0 = time.perf_counter()
        for _ in range(50):
            m.step()
        rates.append(5000 * 50 / (time.perf_counter() - t0))
    return statistics.median(rates)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-mesa", action="store_true", help="skip the Mesa reference example")
    args = ap.parse_args()

    params = scenarios.load("baseline", {"scale": args.scale}).params
    t0 = time.perf_counter()
    model = GovernanceModel(params, seed=args.seed)
    build = time.perf_counter() - t0
    model.run()
    summary = summarise(model, "baseline")
    wall = summary["runtime_seconds"]
    resident_days = summary["population"] * summary["days"] / wall
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"scale {args.scale}, seed {args.seed}, {summary['days']} days, "
          f"{summary['population']:,.0f} mean present residents, {model.cases.n:,} cases")
    print(f"build seconds           {build:8.2f}")
    print(f"simulate seconds        {model.run_seconds:8.2f}")
    print(f"runtime_seconds (total) {wall:8.2f}   (target <= {TARGETS['wall_s']:.0f})")
    print(f"resident-days per second {resident_days:,.0f}")
    print(f"peak memory (GiB)       {peak_gib:8.2f}   (target <= {TARGETS['peak_gib']})")
    if not args.skip_mesa:
        mesa_rate = mesa_agent_steps_per_second()
        print(f"mesa virus_on_network agent-steps/s {mesa_rate:,.0f}; "
              f"ratio {resident_days / mesa_rate:.1f}")
    print(f"summary digest (seed {args.seed}) {digest(summary)}")
    ok = wall <= TARGETS["wall_s"] and peak_gib <= TARGETS["peak_gib"]
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
