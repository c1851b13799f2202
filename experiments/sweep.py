"""Sweeps (参数扫描): parameter sets × replicate seeds, run in parallel, streamed to the result
store as they finish, resumable, then gathered into ``summary.parquet`` (one row per run) and
``aggregate.csv`` (per parameter set, mean and 95 % CI of each measure over replicates).
"""

from __future__ import annotations

import math
import sys
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from model.calibration import replicate_seeds
from model.metrics import MODEL_VERSION
from model.params import ParameterError, Params
from model.provenance import model_digest

from . import designs, plan_limits
from .aggregate import aggregate, levels, measure_columns, sweep_paired
from .executors import Backend, ExperimentError, open_backend
from .lock import locked
from .outdir import check_out_dir
from .runner import Task, execute, record, run_key
from .store import ResultStore, atomic_write, full_disk_is_an_error, write_json
from .worlds import draw_worlds, in_k_worlds, in_worlds, split_worlds, worlds_meta

IN_FLIGHT_PER_SLOT = 2  # bounded submission: enough queued work to keep every slot busy


def sweep(scenario: str = "baseline", vary: dict[str, list[Any]] | list[str] | None = None,
          design: pd.DataFrame | str | Path | None = None, replicates: int = 3,
          workers: int = 1, dask: str | None = None, scale: float | None = None,
          days: int | None = None, seed: int = 2021, fixed: dict[str, Any] | None = None,
          series: bool = False, out: str | Path = "results/sweep",
          progress: bool = True, posterior: str | Path | None = None,
          worlds: int | None = None, reference: dict[str, Any] | None = None,
          replace: bool = False) -> pd.DataFrame:
    """Run ``scenario`` for every parameter set of the design, ``replicates`` times each, and
    return the per-run summary (also in ``out/summary.parquet``; ``attrs["varied"]`` names
    the varied parameters). The per-set aggregate is in ``out/aggregate.csv`` (or
    ``experiments.aggregate(runs, runs.attrs["varied"])``), figures in
    ``out/sweep_<param>.png``.

    ``vary`` gives a full factorial ({KEY: [values]} or ["KEY=V1,V2", ...]); ``design`` a
    table (DataFrame or CSV path) with one row per parameter set; both may be combined (the
    table crossed with the factorial). Replicate seeds come from
    ``SeedSequence(seed).spawn(replicates)``, the same for every set. Everything is
    validated before any run starts; finished runs in ``out`` are reused.

    ``reference`` ({KEY: value} of varied parameters) chooses the value each parameter's
    other values are paired against in ``out/paired.csv`` (default its lowest).

    ``posterior`` (a particle file) with ``worlds`` K runs every set in K plausible worlds
    drawn from it (experiments/worlds.py): the summary gains a ``world`` column, and the
    aggregate's intervals are over worlds and seeds together. The worlds are distinct
    particles unless ``replace`` (then drawn with replacement; needed for more worlds than
    particles).
    """
    replicates, workers = (plan_limits.check_count(n, v) for n, v in
                           (("replicates", replicates), ("workers", workers)))
    seed = plan_limits.check_count("seed", seed, lowest=0)
    vary = designs.parse_vary(vary) if isinstance(vary, list) else designs.check_vary(vary or {})
    if isinstance(design, str | Path):
        design = designs.read_design(design)
    elif design is not None:
        design = designs.check_design(design)
    drawn = draw_worlds(posterior, worlds, seed, replace)
    sets = (1 if design is None else len(design)) * math.prod(len(v) for v in vary.values())
    k = len(drawn or [None])
    plan_limits.check_runs(sets * k * replicates, f"sweep: {sets:,} sets{in_k_worlds(drawn)} × "
                           f"{replicates:,} replicates", "lower --replicates"
                           + (", --worlds" if drawn else "") + " or the values varied")
    table = designs.combine(vary, design)
    varied = list(table.columns)
    reference = _check_reference(reference or {}, table)
    fixed = with_run_settings(fixed, scale, days)
    param_sets = designs.parameter_sets(scenario, table, fixed)
    if drawn:
        in_worlds(param_sets, drawn)  # refused now, not once the output directory exists
    plan_limits.check_memory(param_sets, plan_limits.local_workers(workers, dask),
                             runs=sets * k * replicates)
    check_out_dir(out, "sweep")
    with locked(out):  # from the first run to the last file: no second sweep in between
        summary = run_sets(param_sets, replicate_seeds(replicates, seed), out, scenario=scenario,
                           workers=workers, dask=dask, series=series, progress=progress,
                           design=table, worlds=drawn)
        finish(summary, varied, Path(out), {"scenario": scenario, "base_seed": seed,
                                            "replicates": replicates, "fixed": fixed,
                                            "reference": reference,
                                            **worlds_meta(posterior, drawn, replace)},
               paired=sweep_paired(summary, varied, measure_columns(summary), reference))
    summary.attrs["varied"] = varied
    return summary


def _check_reference(reference: dict[str, Any], table: pd.DataFrame) -> dict[str, Any]:
    """``reference`` values, each of a varied parameter and one of its values."""
    for key, value in reference.items():
        if key not in table.columns:
            raise ParameterError(f"--reference {key}: not a varied parameter; allowed: "
                                 f"{', '.join(table.columns) or 'none (nothing is varied)'}")
        if value not in set(table[key]):
            raise ParameterError(f"--reference {key}={value}: not a value of the sweep; "
                                 f"allowed: {', '.join(map(str, levels(table[key])))}")
    return reference


def with_run_settings(fixed: dict[str, Any] | None, scale: float | None,
                      days: int | None) -> dict[str, Any]:
    """``fixed`` overrides plus ``--scale`` and ``--days``; the same key twice is refused."""
    fixed = dict(fixed or {})
    for key, value in (("scale", scale), ("days", days)):
        if value is not None:
            if key in fixed:
                raise ParameterError(f"parameter '{key}' is given both as --{key} and --set; "
                                     "give it once")
            fixed[key] = value
    return fixed


def run_sets(param_sets: list[Params], seeds: list[int], out: str | Path, *,
             scenario: str = "custom", workers: int = 1, dask: str | None = None,
             series: bool = False, progress: bool = True, design: pd.DataFrame | None = None,
             backend: Backend | None = None,
             worlds: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """Every parameter set × every seed through the store; returns one row per run with
    ``set_id``, ``replicate``, ``status`` (done / failed) and ``error``. An open ``backend``
    is reused (else one is opened for ``workers`` / ``dask`` when something must run).

    With ``worlds`` (experiments/worlds.py) every set runs in every world on the same seeds,
    and the rows gain a ``world`` column (0..K-1) after ``set_id``."""
    if not worlds:
        return run_plan(plan_runs(param_sets, seeds, scenario, series), out, workers=workers,
                        dask=dask, progress=progress, design=design, backend=backend)
    plan = plan_runs(in_worlds(param_sets, worlds), seeds, scenario, series)
    summary = run_plan(plan, out, workers=workers, dask=dask, progress=progress,
                       backend=backend)
    return with_design(split_worlds(summary, len(worlds)), design)


def plan_runs(param_sets: list[Params], seeds: list[int], scenario: str = "custom",
              series: bool = False) -> list[tuple[int, int, Task]]:
    """(set_id, replicate, task) for every parameter set and seed."""
    return [(set_id, rep, Task(run_key(p, s), scenario, asdict(p), s, series))
            for set_id, p in enumerate(param_sets) for rep, s in enumerate(seeds)]


Plan = list[tuple[int, int, Task]]


def run_plan(plan: Plan, out: str | Path, *, workers: int = 1, dask: str | None = None,
             progress: bool = True, design: pd.DataFrame | None = None,
             backend: Backend | None = None) -> pd.DataFrame:
    """Run what the store does not hold yet, then gather one row per planned run; ``out`` is
    locked meanwhile (another process using it stops this one)."""
    with locked(out):
        store = ResultStore(out)
        unique = list({t.key: t for _, _, t in plan}.values())
        stored = store.load_runs(unique)  # each stored run read once, here
        held = set(stored["key"])
        todo = [t for t in unique if t.key not in held]
        if held:
            print(f"skipping {len(held)} finished run(s) found in {out}/runs", file=sys.stderr)
        if todo:
            with full_disk_is_an_error(store.root), ExitStack() as stack:
                backend = backend or stack.enter_context(open_backend(workers, dask))
                _execute(todo, store, backend, progress, skipped=len(held))
            new = store.load_runs(todo)
            if len(new):  # (all of them may have failed)
                stored = pd.concat([stored, new], ignore_index=True) if held else new
        return _gather(plan, store, stored, design)


def _execute(todo: list[Task], store: ResultStore, backend: Backend, progress: bool,
             skipped: int) -> None:
    counts = {"done": 0, "failed": 0, "skipped": skipped}
    queue = iter(todo)
    if progress:
        print(f"{len(todo)} run(s) on {backend.description}", file=sys.stderr)
    with tqdm(total=len(todo), desc="runs", unit="run", disable=not progress,
              postfix=counts) as bar:
        pending: dict[Any, Task] = {}

        def top_up() -> None:
            while len(pending) < IN_FLIGHT_PER_SLOT * backend.slots:
                task = next(queue, None)
                if task is None:
                    return
                pending[backend.executor.submit(execute, task)] = task

        try:
            top_up()
            while pending:
                finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for future in finished:
                    task = pending.pop(future)
                    status = _store_result(store, task, _result(future, task))
                    counts[status] += 1
                    bar.set_postfix(counts, refresh=False)
                    bar.update()
                top_up()
        except BrokenProcessPool:
            raise ExperimentError("a worker process died (out of memory?); the finished runs "
                                  "are stored: run the same command again to resume") from None
        finally:  # on Ctrl-C or an error, do not start what is still queued
            for future in pending:
                future.cancel()


def _result(future: Future, task: Task) -> dict[str, Any]:
    try:
        return future.result()
    except Exception as e:  # noqa: BLE001 - the worker itself died or the cluster failed
        return {"key": task.key, "error": f"{type(e).__name__}: {e}", "traceback": ""}


def _store_result(store: ResultStore, task: Task, result: dict[str, Any]) -> str:
    if "error" in result:
        store.save_failure(task.key, {"key": task.key, "seed": task.seed, "params": task.values,
                                      "error": result["error"], "traceback": result["traceback"]})
        return "failed"
    store.save_run(task.key, record(task, result), result.get("series"))
    return "done"


def _gather(plan: Plan, store: ResultStore, stored: pd.DataFrame,
            design: pd.DataFrame | None) -> pd.DataFrame:
    done = stored.drop(columns="seed", errors="ignore").set_index("key")
    rows_by_key = done.to_dict("index")  # once: a lookup per planned run costs ~1 ms
    rows = []
    for set_id, rep, task in plan:
        head = {"set_id": set_id, "replicate": rep, "key": task.key, "seed": task.seed}
        if task.key in rows_by_key:
            # a stored run may come from another sweep: this sweep's scenario name applies
            rows.append({**head, "status": "done", "error": None, **rows_by_key[task.key],
                         "scenario": task.scenario})
        else:
            failure = store.failure(task.key) or {"error": "not run"}
            rows.append({**head, "status": "failed", "error": failure["error"], **task.values})
    return with_design(pd.DataFrame(rows), design)


def with_design(summary: pd.DataFrame, design: pd.DataFrame | None) -> pd.DataFrame:
    """The design's columns on every run, by ``set_id`` (they keep their order and types)."""
    if design is not None:
        for col in design.columns:
            summary[col] = design[col].to_numpy()[summary["set_id"].to_numpy()]
    return summary


def _run_list(summary: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The manifest's runs by key: file, status, set, replicate, seed and, with plausible
    worlds, the world (the index into the manifest's ``worlds``), of the run's first place in
    the plan. A run in two or more places (two identical sets, or two worlds drawn from one
    particle with --replace) also lists every place under ``places``, so that no (set,
    world, seed) it stands for is lost."""
    worlds = "world" in summary
    columns = ["key", "status", "set_id", "replicate", "seed", *(["world"] if worlds else [])]
    runs: dict[str, dict[str, Any]] = {}
    for row in summary[columns].itertuples(index=False):
        place = {"set_id": int(row.set_id), "replicate": int(row.replicate),
                 "seed": int(row.seed), **({"world": int(row.world)} if worlds else {})}
        if row.key in runs:
            runs[row.key].setdefault("places", [_place(runs[row.key], worlds)]).append(place)
            continue
        runs[row.key] = {"file": f"runs/{row.key}.parquet" if row.status == "done"
                         else f"failed/{row.key}.json", "status": row.status, **place}
    return runs


def _place(entry: dict[str, Any], worlds: bool) -> dict[str, Any]:
    """The (set, replicate, seed, world) of a run list's entry."""
    return {k: entry[k] for k in ("set_id", "replicate", "seed", *(["world"] if worlds else []))}


def finish(summary: pd.DataFrame, varied: list[str], out: Path, meta: dict[str, Any],
           paired: pd.DataFrame | None = None) -> pd.DataFrame:
    """Write summary.parquet, aggregate.csv, paired.csv (``paired``, by default each varied
    parameter's values against its lowest: :func:`sweep_paired`), manifest.json and the
    figures of a sweep (the figures of an earlier sweep in ``out`` are removed), with ``out``
    locked."""
    with locked(out), full_disk_is_an_error(out):
        agg = aggregate(summary, varied)
        atomic_write(out / "summary.parquet", lambda tmp: summary.to_parquet(tmp, index=False))
        atomic_write(out / "aggregate.csv", lambda tmp: agg.to_csv(tmp, index=False))
        if paired is None:
            paired = sweep_paired(summary, varied, measure_columns(summary))
        atomic_write(out / "paired.csv", lambda tmp: paired.to_csv(tmp, index=False))
        write_json(out / "manifest.json", {
            "model_version": MODEL_VERSION, "model_digest": model_digest(), **meta,
            "varied": varied, "runs": _run_list(summary)})
        for old in out.glob("sweep_*.png"):
            old.unlink()
        from .plots import plot_sweep  # matplotlib only where figures are drawn

        plot_sweep(summary, varied, out)
    return agg
