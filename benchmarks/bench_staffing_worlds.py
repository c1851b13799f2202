#!/usr/bin/env python3
"""Wall time of a staffing comparison in plausible worlds (a benchmark, not a test; issue 14,
"Performance": 4 rules × 20 worlds × 5 seeds at scale 0.25, 400 runs, in at most 10 minutes
on 2 cores, and the same on ``--dask`` scaling with workers).

Part 1 runs ``compare_staffing`` as ``python run.py staffing --posterior FILE --worlds 20
--replicates 5 --scale 0.25`` does, on local worker processes, and reports the runs (the
400 evaluations plus the optimized rule's search), the wall time and PASS/FAIL against the
target. Part 2 runs a smaller comparison (``--dask-rules`` × ``--dask-worlds`` × 5 seeds)
on a Dask LocalCluster of 1 and then 2 workers and reports runs per minute and the speed-up;
on this 2-core machine two workers cannot do better than 2 ×, and the LocalCluster's start
(a few seconds) is counted, as a user would wait for it.

    python benchmarks/bench_staffing_worlds.py --posterior FILE [--worlds 20] [--replicates 5]
        [--scale 0.25] [--workers 2] [--dask-rules uniform,proportional] [--dask-worlds 5]
        [--skip-dask]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from experiments.staffing_allocation import RULES, compare_staffing  # noqa: E402

TARGET_SECONDS = 600


def timed(posterior: str, rules: list[str], worlds: int, args: argparse.Namespace,
          workers: int, dask: str | None) -> float:
    """Wall seconds of one staffing comparison (search included) into a fresh directory."""
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        compare_staffing(rules=rules, replicates=args.replicates, scale=args.scale,
                         workers=workers, dask=dask, out=Path(out) / "staffing",
                         progress=False, posterior=posterior, worlds=worlds)
        return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posterior", required=True, help="particle file (posterior.parquet)")
    ap.add_argument("--worlds", type=int, default=20)
    ap.add_argument("--replicates", type=int, default=5)
    ap.add_argument("--scale", type=float, default=0.25)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dask-rules", default="uniform,proportional")
    ap.add_argument("--dask-worlds", type=int, default=5)
    ap.add_argument("--skip-dask", action="store_true")
    args = ap.parse_args()

    planned = len(RULES) * args.worlds * args.replicates
    wall = timed(args.posterior, list(RULES), args.worlds, args, args.workers, None)
    status = "PASS" if wall <= TARGET_SECONDS else "FAIL"
    print(f"staffing, {len(RULES)} rules x {args.worlds} worlds x {args.replicates} seeds "
          f"({planned} evaluations + the optimized rule's search), scale {args.scale}, "
          f"{args.workers} local workers: {wall:.0f} s (target <= {TARGET_SECONDS} s: {status})",
          flush=True)
    if args.skip_dask:
        return 0 if status == "PASS" else 1
    rules = args.dask_rules.split(",")
    runs = len(rules) * args.dask_worlds * args.replicates
    per_min = {}
    for workers in (1, 2):
        w = timed(args.posterior, rules, args.dask_worlds, args, workers, "local")
        per_min[workers] = runs / w * 60
        print(f"dask LocalCluster, {workers} worker(s): {runs} runs in {w:.0f} s, "
              f"{per_min[workers]:.1f} runs per minute", flush=True)
    print(f"speed-up of 2 workers over 1: {per_min[2] / per_min[1]:.2f} x")
    return 0 if status == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
