"""Where runs execute: local processes, or a Dask distributed cluster, behind the one
``concurrent.futures.Executor`` interface."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass


class ExperimentError(RuntimeError):
    """An experiment cannot go on (the finished runs are kept)."""


@dataclass
class Backend:
    executor: Executor
    slots: int          # runs that can execute at once
    description: str


@contextmanager
def open_backend(workers: int = 1, dask: str | None = None) -> Iterator[Backend]:
    """Local processes (``workers``), or Dask: ``dask="local"`` starts a LocalCluster of
    ``workers`` single-threaded processes, any other value is a scheduler address (whose
    workers' threads are the slots; ``workers`` is then not used)."""
    if dask is None:
        # forkserver: workers fork from a clean single-threaded server (the client may run
        # threads: tqdm, pyarrow), with the model imported once
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["experiments.runner", "model.model"])
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            yield Backend(pool, workers, f"{workers} local process(es)")
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as e:  # pragma: no cover - dask[distributed] is a dependency
        raise ExperimentError("--dask needs dask[distributed]: pip install 'dask[distributed]'") from e
    if dask == "local":
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            yield Backend(client.get_executor(pure=False), workers,
                          f"Dask LocalCluster of {workers} process(es)")
        return
    try:
        client = Client(dask, timeout="10s")
    except (OSError, ValueError, TimeoutError) as e:
        raise ExperimentError(f"cannot reach a Dask scheduler at '{dask}' ({e}); give its "
                              "address as tcp://HOST:PORT, or --dask local") from None
    with client:
        slots = max(1, sum(client.nthreads().values()))
        yield Backend(client.get_executor(pure=False), slots,
                      f"Dask scheduler {dask} ({slots} thread(s))")
