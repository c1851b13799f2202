"""Plan limits (计划规模): an experiment whose number of runs or memory cannot fit is refused
before anything is allocated (no sample drawn, no seed spawned, no task built, nothing
written), with the estimate and the limit in one line.

These are engineering limits of the tool and the machine, not behavioural numbers: those
live in the parameter schema (``model.params``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import numpy as np

from model.params import ParameterError, Params

# Runs in one plan. The client holds every planned run twice in memory, as a Task with its
# full parameter dict (3.6 KB) and as a gathered summary row (15 KB with its summary JSON),
# both measured with tracemalloc on 10,000 runs; the store writes one file per run into one
# directory and one manifest entry each. At 1,000,000 runs that is ~19 GB of bookkeeping
# (CLIENT_BYTES_PER_RUN below) and, at 0.5 s per run at scale 0.1 on two cores, about three
# days of computing: a bigger plan is a typing mistake, or needs splitting into several.
MAX_RUNS = 1_000_000
CLIENT_BYTES_PER_RUN = 19 * 1024

# Peak memory of one run in a worker (ru_maxrss of a fresh process running the baseline
# for 365 days after its 60 warm-up days, minus nothing: imports included), on this
# project's 2-core Linux machine, Python 3.12, numpy 2:
#   scale 0.1 (25,900 residents):  221 MiB, of which 183 MiB after the imports
#   scale 1.0 (259,000 residents): 474 MiB
#   scale 2.0 (518,000 residents): 726 MiB
# i.e. 1,137 then 1,019 bytes per extra resident, and the same at 120 days as at 365 (cases
# do not accumulate: the arrays are sized by residents). Rounded up: 200 MiB per process
# (imports plus the ~10 MiB fixed part of a model) and 1,200 bytes per resident present.
PROCESS_BYTES = 200 * 2**20
BYTES_PER_RESIDENT = 1_200

GIB = 2**30


def check_runs(runs: int, detail: str, hint: str) -> None:
    """Refuse a plan of more than MAX_RUNS runs; ``detail`` says how the count arises, ``hint``
    what to lower."""
    if runs > MAX_RUNS:
        raise ParameterError(f"plan of {count_text(runs)} runs exceeds the limit of "
                             f"{MAX_RUNS:,} runs ({detail}); {hint}")


def count_text(n: int) -> str:
    """A count for a message: 1,234,567, or from 10^12 on 2.50e+600 (a mistyped step can
    plan a count of hundreds of digits, too large for a float)."""
    return f"{n:,}" if n < 10**12 else f"{Decimal(n):.2e}"


def residents(params: Params) -> int:
    """Residents present at the winter peak: the urban population and the influx, scaled."""
    return round(params.urban_population * params.scale) + round(params.winter_influx * params.scale)


def run_bytes(params: Params) -> int:
    """Estimated peak memory of a worker process running one model of ``params``."""
    return PROCESS_BYTES + BYTES_PER_RESIDENT * residents(params)


def physical_memory() -> int:
    """Bytes of physical memory of this machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_memory(params: Iterable[Params], workers: int, runs: int = 1) -> None:
    """Refuse a plan whose ``workers`` simultaneous runs of its largest parameter set, plus
    the client's record of ``runs`` runs, exceed the physical memory (``workers`` = 0 when
    the runs execute on other machines, a Dask scheduler's)."""
    largest = max(params, key=residents)
    per_run, client = run_bytes(largest), runs * CLIENT_BYTES_PER_RUN
    need, have = workers * per_run + client, physical_memory()
    if need > have:
        raise ParameterError(
            f"plan needs about {need / GIB:,.1f} GiB of memory, over the {have / GIB:,.1f} GiB "
            f"of this machine ({workers} worker(s) × {per_run / GIB:,.1f} GiB for a run of "
            f"{residents(largest):,} residents at scale {largest.scale} + {client / GIB:,.1f} "
            f"GiB for the results of {runs:,} run(s)); lower scale, urban_population or workers")


def sensitivity_rows(method: str, n: int, factors: int) -> int:
    """Model evaluations of a SALib design, from N and D alone (without sampling): Saltelli's
    N (2D + 2), Morris' N (D + 1), and FAST's N D plus its separate N/2 curve ((N/2) D)."""
    if method == "sobol":
        return n * (2 * factors + 2)
    if method == "morris":
        return n * (factors + 1)
    return n * factors + n // 2 * factors


def local_workers(workers: int, dask: str | None) -> int:
    """Model processes on this machine: none when a remote Dask scheduler runs them."""
    return workers if dask in (None, "local") else 0


def check_count(name: str, value: Any, lowest: int = 1) -> int:
    """A whole-number argument of the Python API (replicates, workers, seed, total, n) as a
    plain int, refused in one line when it is not one (a float, text, a bool) or too small."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ParameterError(f"{name} = {value!r} is a {type(value).__name__}; allowed: a whole "
                             f"number, {lowest} or more")
    if value < lowest:
        raise ParameterError(f"{name} = {value} is too small; allowed: {lowest} or more")
    return int(value)


def check_runner(replicates: Any, workers: Any, seed: Any) -> tuple[int, int, int]:
    """The replicates, workers and base seed every experiment is given, each checked by
    :func:`check_count` (the seed may be 0)."""
    replicates, workers = (check_count(n, v) for n, v in
                           (("replicates", replicates), ("workers", workers)))
    return replicates, workers, check_count("seed", seed, lowest=0)
