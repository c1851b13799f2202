"""The result store (结果库): one Parquet file per finished run under ``DIR/runs/``, named by
the run key (a hash of model version and digest, parameters and seed), written to a
temporary file and renamed into place, so a file that exists is complete. Failed runs leave
a JSON note under ``DIR/failed/``. ``DIR/manifest.json`` lists the runs of the last sweep by
key.

A sweep killed at any moment loses only the runs in flight: their temporary files (named
with the writer's PID) are removed the next time the store is opened, once that process is
gone. A run file that cannot be read, or that holds another run than its name says, is moved
to ``DIR/quarantine/`` with the reason, and the run is done again.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from model.liveness import pid_alive

from .executors import ExperimentError
from .runner import Task

TMP_SUFFIX = ".tmp"  # hidden, and never matched by *.parquet
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp_path)``, then rename the temporary file onto ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path, data: Any) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=1, default=str)))


def writer_pid(tmp: Path) -> int | None:
    """The PID in an ``atomic_write`` temporary file's name (``.NAME.PID.tmp``)."""
    pid = tmp.name.removesuffix(TMP_SUFFIX).rpartition(".")[2]
    return int(pid) if pid.isdigit() else None


def remove_stale_temporaries(directory: Path) -> None:
    """Remove the temporary files of writers that are gone (killed mid-write); a live
    process's files are its own business."""
    for tmp in directory.glob(f".*{TMP_SUFFIX}"):
        pid = writer_pid(tmp)
        if pid is None or (pid != os.getpid() and not pid_alive(pid)):
            tmp.unlink(missing_ok=True)


@contextmanager
def full_disk_is_an_error(root: Path) -> Iterator[None]:
    """A full disk while writing in the store at ``root`` stops the command with one line:
    what is kept and what to do."""
    try:
        yield
    except OSError as e:
        if e.errno not in DISK_FULL:
            raise
        raise ExperimentError(
            f"the disk is full (writing in {root}); {ResultStore(root).count_runs()} finished run(s) "
            "are kept: free some space and run the same command again to resume") from None


class ResultStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.runs = self.root / "runs"
        self.failed = self.root / "failed"
        self.quarantine = self.root / "quarantine"
        for d in (self.runs, self.failed):  # created on the first write, not before
            remove_stale_temporaries(d)

    def run_path(self, key: str) -> Path:
        return self.runs / f"{key}.parquet"

    def series_path(self, key: str) -> Path:
        return self.runs / f"{key}.series.parquet"

    def count_runs(self) -> int:
        return sum(1 for p in self.runs.glob("*.parquet") if not p.name.endswith(".series.parquet"))

    def save_run(self, key: str, row: dict[str, Any], series: pd.DataFrame | None) -> None:
        self.runs.mkdir(parents=True, exist_ok=True)
        if series is not None:  # the series first: the run file marks the run as done
            atomic_write(self.series_path(key), lambda tmp: series.to_parquet(tmp))
        # straight to Arrow (half the cost of a one-row DataFrame); column statistics and
        # dictionaries are of no use for a single row and cost a third of the write
        table = pa.Table.from_pylist([row])
        atomic_write(self.run_path(key), lambda tmp: pq.write_table(
            table, tmp, write_statistics=False, use_dictionary=False))
        (self.failed / f"{key}.json").unlink(missing_ok=True)

    def save_failure(self, key: str, info: dict[str, Any]) -> None:
        self.failed.mkdir(parents=True, exist_ok=True)
        write_json(self.failed / f"{key}.json", info)

    def failure(self, key: str) -> dict[str, Any] | None:
        path = self.failed / f"{key}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def load_runs(self, tasks: Sequence[Task]) -> pd.DataFrame:
        """The stored rows of the finished runs among ``tasks`` (one per key). Each file is
        read once; one that cannot be read or does not hold its task's run is quarantined, so
        that its run counts as not done."""
        tables, loaded, damaged = [], [], []
        for task in {t.key: t for t in tasks}.values():
            if task.series and not self.series_path(task.key).exists():
                continue  # done without the series this task wants: run again
            try:  # one thread: pyarrow's pool costs more than it gains on a one-row file
                table = pq.ParquetFile(self.run_path(task.key)).read(use_threads=False)
            except FileNotFoundError:
                continue
            except (OSError, pa.ArrowException) as e:
                damaged.append((task.key, f"cannot be read ({e})"))
                continue
            if table.num_rows != 1:
                damaged.append((task.key, f"holds {table.num_rows} rows instead of one"))
                continue
            tables.append(table)
            loaded.append(task)
        rows = _concat(tables, loaded, damaged)
        bad = mismatches(rows, loaded)
        damaged += [(t.key, reason) for t, reason in zip(loaded, bad, strict=True) if reason]
        self._quarantine(damaged)
        return rows.loc[[not reason for reason in bad]].reset_index(drop=True)

    def _quarantine(self, damaged: list[tuple[str, str]]) -> None:
        """Move damaged run files (and their series) out of the way, with the reason."""
        if not damaged:
            return
        self.quarantine.mkdir(parents=True, exist_ok=True)
        for key, reason in damaged:
            for path in (self.run_path(key), self.series_path(key)):
                if path.exists():
                    os.replace(path, self.quarantine / path.name)
            (self.quarantine / f"{key}.reason.txt").write_text(reason + "\n")
        print(f"quarantined {len(damaged)} damaged run file(s) in {self.quarantine} (first: "
              f"{damaged[0][0]}.parquet {damaged[0][1]}); their runs are done again",
              file=sys.stderr)


def _concat(tables: list[pa.Table], tasks: list[Task],
            damaged: list[tuple[str, str]]) -> pd.DataFrame:
    """One frame of the one-row tables. A table whose columns cannot be combined with the
    others (not a run file of this tool) is taken out, with ``tasks``, into ``damaged``."""
    if not tables:
        return pd.DataFrame(columns=["key"])
    try:
        return pa.concat_tables(tables, promote_options="permissive").to_pandas()
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # rare: sort the odd ones out
        common = Counter(t.schema for t in tables).most_common(1)[0][0]
        odd = [i for i, t in enumerate(tables) if t.schema != common]
        for i in reversed(odd):
            damaged.append((tasks.pop(i).key, "has columns of other types than a run file"))
            del tables[i]
        return _concat(tables, tasks, damaged)


def mismatches(rows: pd.DataFrame, tasks: list[Task]) -> list[str | None]:
    """Per row (the stored runs of ``tasks``, in order): why it is not its task's run, or
    None. Compared column by column over all rows at once: a resume of thousands of runs
    checks them in milliseconds."""
    if not tasks:
        return []
    expected = pd.DataFrame([{"key": t.key, "seed": t.seed, **t.values} for t in tasks])
    differ = {}
    for col in expected.columns:
        stored = rows[col].to_numpy() if col in rows else np.full(len(rows), None)
        differ[col] = stored != expected[col].to_numpy()
    wrong = pd.DataFrame(differ)
    return [f"holds another run ({', '.join(wrong.columns[w][:3])} differ)" if w.any() else None
            for w in wrong.to_numpy()]
