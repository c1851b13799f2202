#!/usr/bin/env python3
"""Throughput of ABC-SMC on Dask: simulations per second with 1 and 2 LocalCluster workers
(a benchmark, not a test; issue 13: "the Dask sampler's throughput scales with workers").

Runs the same small calibration (``calibrate --method abc``'s pipeline,
``abc_calibration.run`` with ``dask="local"``) once per worker count into a fresh directory,
and reports its simulations, wall seconds, simulations per second and the speed-up over one
worker. The posteriors must be identical (the particles' seeds do not depend on the workers):
the benchmark checks it. A LocalCluster takes a few seconds to start, counted in the wall
time as a user would see it; on this 2-core machine two workers cannot do better than 2 x.

    python benchmarks/bench_abc_dask.py [--particles 40] [--generations 2] [--scale 0.05]
                                        [--days 120] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from model import abc_calibration  # noqa: E402

PARAMS = ("case_rate_scale", "rate_property")


def one(out: Path, workers: int, args: argparse.Namespace) -> dict:
    abc_calibration.run(out, PARAMS, args.particles, args.generations, args.scale, args.days,
                        seed=2021, workers=workers, dask="local", log=lambda line: None)
    info = json.loads((out / "abc_summary.json").read_text())
    sims, wall = info["total_simulations"], info["wall_time_seconds"]
    print(f"{workers} worker(s): {sims} simulations in {wall:.1f} s, "
          f"{sims / wall:.2f} simulations/s", flush=True)
    return {"workers": workers, "simulations": sims, "wall_s": wall, "per_s": sims / wall,
            "posterior": pd.read_parquet(out / "posterior.parquet")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--particles", type=int, default=40)
    ap.add_argument("--generations", type=int, default=2)
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    args = ap.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        rows = [one(Path(tmp) / f"w{w}", w, args) for w in counts]
    base = rows[0]
    print(f"\n{'workers':>8}{'simulations':>13}{'wall s':>9}{'sims/s':>9}{'speed-up':>10}")
    for r in rows:
        print(f"{r['workers']:>8}{r['simulations']:>13}{r['wall_s']:>9.1f}{r['per_s']:>9.2f}"
              f"{r['per_s'] / base['per_s']:>9.2f}x")
    same = all(r["posterior"].equals(base["posterior"]) for r in rows)
    print("posteriors identical across worker counts:", "yes" if same else "NO")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
