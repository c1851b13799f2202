#!/usr/bin/env python3
"""Throughput and overhead of the sweep engine (a benchmark, not a test).

Runs 40 baseline years at scale 0.1 (4 staffing levels × 10 replicates) over 2 local worker
processes into a fresh store, and reports runs per minute and the overhead per run:

- engine overhead per run: the execution phase (worker start, submission, pickling, writing
  each run to the store) × workers / runs, against the mean time a run takes inside its
  worker;
- against a solo run: the same against the median time of one run alone in this process
  (adds the cost of two simulations sharing a 2-core machine);
- the fixed costs of a sweep apart: validation and planning before, and gathering
  summary.parquet, aggregate.csv, the manifest and the figures after.

Target (issue 3): engine overhead per run under 5 %.

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

from experiments import designs  # noqa: E402
from experiments.sweep import finish, plan_runs, run_plan  # noqa: E402
from model import GovernanceModel, scenarios  # noqa: E402
from model.calibration import replicate_seeds  # noqa: E402

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
        design = designs.factorial(designs.parse_vary([f"staffing_per_10k={LEVELS}"]))
        sets = designs.parameter_sets("baseline", design, {"scale": args.scale})
        plan = plan_runs(sets, replicate_seeds(args.runs_per_set, 2021), "baseline")
        t1 = time.perf_counter()
        runs = run_plan(plan, out, workers=args.workers, progress=False, design=design)
        t2 = time.perf_counter()
        finish(runs, list(design.columns), Path(out), {})
        t3 = time.perf_counter()
    n, wall, execute = len(runs), t3 - t0, t2 - t1
    in_worker = float(runs["runtime_seconds"].mean())
    per_run = execute * args.workers / n
    engine = per_run / in_worker - 1
    vs_solo = per_run / solo - 1
    print(f"runs                          {n} ({(runs['status'] != 'done').sum()} failed), "
          f"scale {args.scale}, {args.workers} workers")
    print(f"wall                          {wall:.1f} s   ->  {n / wall * 60:.1f} runs per minute")
    print(f"  plan / execute / finish     {t1 - t0:.2f} s / {execute:.2f} s / {t3 - t2:.2f} s")
    print(f"run time inside a worker      {in_worker:.3f} s (mean)")
    print(f"solo run in this process      {solo:.3f} s (median of 3)")
    print(f"worker-seconds per run        {per_run:.3f} s")
    status = "PASS" if engine < TARGET_OVERHEAD else "FAIL"
    print(f"engine overhead per run       {engine:+.1%}  (target < {TARGET_OVERHEAD:.0%}: {status})")
    print(f"overhead against a solo run   {vs_solo:+.1%}  (includes two runs sharing 2 cores)")
    return 0 if engine < TARGET_OVERHEAD else 1


if __name__ == "__main__":
    sys.exit(main())
