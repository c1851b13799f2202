#!/usr/bin/env python3
"""Throughput and overhead of the sweep engine (a benchmark, not a test).

Runs 40 baseline years at scale 0.1 (4 staffing levels × 10 replicates) over 2 local worker
processes into a fresh store, and reports runs per minute and the overhead per run:

- engine overhead: wall × workers / runs against the mean time a run takes inside its worker
  (what the engine adds: process start, pickling, the store, the aggregate and the figures);
- against a solo run: the same against the median time of one run alone in this process
  (adds the cost of running two simulations at once on a 2-core machine).

Target (issue 3): engine overhead under 5 %.

    python benchmarks/bench_sweep.py [--runs-per-set 10] [--workers 2] [--scale 0.1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import experiments  # noqa: E402
from model import GovernanceModel, scenarios  # noqa: E402

TARGET_OVERHEAD = 0.05
LEVELS = "18,24.5,30,43.9"


def solo_run_seconds(scale: float, repeats: int = 3) -> float:
    times = []
    for seed in range(repeats):
        t0 = time.perf_counter()
        GovernanceModel(scenarios.load("baseline", {"scale": scale}).params, seed=seed).run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs-per-set", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scale", type=float, default=0.1)
    args = ap.parse_args()

    solo = solo_run_seconds(args.scale)
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        runs = experiments.sweep("baseline", vary=[f"staffing_per_10k={LEVELS}"],
                                 replicates=args.runs_per_set, workers=args.workers,
                                 scale=args.scale, out=out, progress=False)
        wall = time.perf_counter() - t0
    n = len(runs)
    in_worker = float(runs["runtime_seconds"].mean())
    per_run = wall * args.workers / n
    engine = per_run / in_worker - 1
    vs_solo = per_run / solo - 1
    print(f"runs                          {n} ({(runs['status'] != 'done').sum()} failed), "
          f"scale {args.scale}, {args.workers} workers")
    print(f"wall                          {wall:.1f} s   ->  {n / wall * 60:.1f} runs per minute")
    print(f"run time inside a worker      {in_worker:.3f} s (mean)")
    print(f"solo run in this process      {solo:.3f} s (median of 3)")
    print(f"worker-seconds per run        {per_run:.3f} s")
    status = "PASS" if engine < TARGET_OVERHEAD else "FAIL"
    print(f"engine overhead per run       {engine:+.1%}  (target < {TARGET_OVERHEAD:.0%}: {status})")
    print(f"overhead against a solo run   {vs_solo:+.1%}  (includes two runs sharing 2 cores)")
    return 0 if engine < TARGET_OVERHEAD else 1


if __name__ == "__main__":
    sys.exit(main())
