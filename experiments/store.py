"""The result store (结果库): one Parquet file per finished run under ``DIR/runs/``, named by
the run key (a hash of model version, parameters and seed), written to a temporary file and
renamed into place, so a file that exists is complete. Failed runs leave a JSON note under
``DIR/failed/``. ``DIR/manifest.json`` lists the runs of the last sweep by key.

A sweep killed at any moment loses only the runs in flight: their temporary files are
removed the next time the store is opened.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

TMP_SUFFIX = ".tmp"  # hidden, and never matched by *.parquet


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


class ResultStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.runs = self.root / "runs"
        self.failed = self.root / "failed"
        for d in (self.runs, self.failed):  # created on the first write, not before
            for stale in d.glob(f".*{TMP_SUFFIX}"):  # left by a killed sweep
                stale.unlink(missing_ok=True)

    def run_path(self, key: str) -> Path:
        return self.runs / f"{key}.parquet"

    def series_path(self, key: str) -> Path:
        return self.runs / f"{key}.series.parquet"

    def is_done(self, key: str, series: bool = False) -> bool:
        return self.run_path(key).exists() and (not series or self.series_path(key).exists())

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

    def load_runs(self, keys: list[str]) -> pd.DataFrame:
        """The stored rows of the finished runs among ``keys``, in that order."""
        tables = [pq.read_table(self.run_path(k)) for k in keys if self.run_path(k).exists()]
        if not tables:
            return pd.DataFrame(columns=["key"])
        return pa.concat_tables(tables, promote_options="default").to_pandas()
