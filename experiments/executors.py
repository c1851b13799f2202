"""Where runs execute: local processes, or a Dask distributed cluster, behind the one
``concurrent.futures.Executor`` interface."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import spawn
from multiprocessing.context import ForkServerContext, ForkServerProcess
from typing import Any

from tqdm import tqdm

from model.liveness import pid_alive

WATCH_SECONDS = 0.25  # how often a worker checks that its client is still there


class ExperimentError(RuntimeError):
    """An experiment cannot go on (the finished runs are kept)."""


class SweepWorker(ForkServerProcess):
    """A pool worker; its class name is in its process name, which its start-up sees."""


class _WorkerContext(ForkServerContext):
    Process = SweepWorker


_prepare = spawn.prepare


def _prepare_without_main(data: dict[str, Any]) -> None:
    """A new process's start-up, except that a sweep worker does not run the client's main
    script: its tasks need only this package, and a script that calls experiments.sweep()
    without an ``if __name__ == "__main__":`` guard (or one read from stdin) would otherwise
    start a sweep inside every worker and break the pool. Installed in the forkserver, which
    imports this module (preloaded) before it starts any worker."""
    if data.get("name", "").startswith(f"{SweepWorker.__name__}-"):
        data = {k: v for k, v in data.items()
                if k not in ("init_main_from_path", "init_main_from_name")}
    _prepare(data)


spawn.prepare = _prepare_without_main


def _start_worker(client: int) -> None:
    """Worker initializer: Ctrl-C is the client's to handle (it stops the workers), and a
    worker exits by itself once the client or the forkserver (its parent) is gone — even
    after a SIGKILL of the client, which no handler sees."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # the model's (disabled) tqdm bar would create a multiprocessing lock, registered with
    # the resource tracker: a terminated worker cannot unregister it and the tracker warns
    # about "leaked semaphores" when the command ends; a worker needs only a thread lock
    tqdm.set_lock(threading.RLock())
    parent = os.getppid()
    threading.Thread(target=_exit_without, args=(client, parent), daemon=True,
                     name="watch-client").start()


def _exit_without(client: int, parent: int) -> None:
    while os.getppid() == parent and pid_alive(client):
        time.sleep(WATCH_SECONDS)
    os._exit(1)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop the pool's workers now: a shutdown waits for running tasks to finish, which
    may take minutes. (Python 3.14 has ProcessPoolExecutor.terminate_workers().)"""
    processes = list((pool._processes or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)  # first, as 3.14's terminate_workers()
    for process in processes:
        process.terminate()


@dataclass
class Backend:
    executor: Executor
    slots: int          # runs that can execute at once
    description: str


@contextmanager
def local_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """``workers`` processes forked from a clean single-threaded server (the client may run
    threads: tqdm, pyarrow), with the model imported once; on an error or an interrupt the
    workers are terminated, not waited for."""
    context = _WorkerContext()
    context.set_forkserver_preload(["experiments.executors", "experiments.runner", "model.model"])
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                               initargs=(os.getpid(),))
    try:
        yield pool
    except BaseException:
        _terminate(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def open_backend(workers: int = 1, dask: str | None = None) -> Iterator[Backend]:
    """Local processes (``workers``), or Dask: ``dask="local"`` starts a LocalCluster of
    ``workers`` single-threaded processes, any other value is a scheduler address (whose
    workers' threads are the slots; ``workers`` is then not used)."""
    if dask is None:
        with local_pool(workers) as pool:
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
