"""Faults of the result store and of the processes around it: a changed model, damaged run
files, two processes in one directory, signals, a full disk, scripts without a main guard.
Runs are tiny (scale 0.02, 10-20 days); subprocesses only where a real process is the point."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import PYTHON, REPO

import experiments
import run
from experiments import runner, store
from experiments.executors import ExperimentError
from experiments.lock import LOCK_NAME, locked
from experiments.store import ResultStore
from experiments.sweep import plan_runs, run_plan
from model import outputs
from model.liveness import pid_alive
from model.params import Params
from model.provenance import PACKAGES, digest_of, model_digest

TINY = {"scale": 0.02, "days": 10, "warmup_days": 5}
TIMING = ["build_seconds", "runtime_seconds", "worker_seconds", "summary_json"]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout, not an installed copy
SWEEP = ["run.py", "sweep", "--vary", "staffing_per_10k=16,20,24,28,32,36", "--replicates", "2",
         "--workers", "2", "--scale", "0.02", "--days", "20", "--set", "warmup_days=5", "--quiet"]


def results(runs: pd.DataFrame) -> pd.DataFrame:
    return runs.drop(columns=TIMING).sort_values(["set_id", "replicate"]).reset_index(drop=True)


def tiny_sweep(out: Path, values: str = "18,30", replicates: int = 1, **kw) -> pd.DataFrame:
    return experiments.sweep("baseline", vary=[f"staffing_per_10k={values}"],
                             replicates=replicates, workers=1, fixed=TINY, out=out,
                             progress=False, **kw)


def run_files(out: Path) -> list[Path]:
    return sorted((out / "runs").glob("*.parquet"))


def wait_for(condition, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        assert proc is None or proc.poll() is None, "the process ended too early"
        time.sleep(0.01)


def descendants(pid: int) -> set[int]:
    """Every living descendant of ``pid`` (from /proc: children of each of its threads)."""
    found: set[int] = set()
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            for child in map(int, children.read_text().split()):
                found |= {child} | descendants(child)
        except OSError:  # the thread ended meanwhile
            continue
    return found


def gone(pids: set[int]) -> bool:
    return not any(pid_alive(p) for p in pids)


def dead_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([PYTHON, "-c", "pass"])
    proc.wait()
    return proc.pid


def start_sweep(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([PYTHON, *SWEEP, "--out", str(out), *extra], cwd=REPO, env=ENV,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


@pytest.fixture
def reaper():
    """Processes started by a test, killed with their group if the test fails midway."""
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- 1. the run key follows the model's code -----------------------------------------------------

def test_a_changed_source_file_changes_the_digest(tmp_path):
    for pkg in PACKAGES:
        shutil.copytree(REPO / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    assert digest_of(tmp_path) == model_digest()  # the same sources, wherever they are
    edited = tmp_path / "agents" / "resident.py"
    edited.write_bytes(edited.read_bytes() + b"\n# one more line\n")
    assert digest_of(tmp_path) != model_digest()
    edited.unlink()
    assert digest_of(tmp_path) != model_digest()


def test_the_run_key_depends_on_the_model_digest(monkeypatch):
    params = Params(**TINY)
    key = runner.run_key(params, 5)
    monkeypatch.setattr(runner, "model_digest", lambda: "another model")
    assert runner.run_key(params, 5) != key


@pytest.mark.parametrize("hash_seed", ["0", "4242"])
def test_the_run_key_is_the_same_in_another_process(hash_seed):
    code = ("from experiments.runner import run_key; from model.params import Params; "
            f"print(run_key(Params(**{TINY!r}), 5))")
    r = subprocess.run([PYTHON, "-c", code], cwd=REPO, capture_output=True, text=True,
                       env={**ENV, "PYTHONHASHSEED": hash_seed}, timeout=60)
    assert r.stdout.strip() == runner.run_key(Params(**TINY), 5), r.stderr


def test_the_digest_is_recorded_in_the_manifest(tmp_path):
    tiny_sweep(tmp_path, values="18")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["model_digest"] == model_digest()


# --- 2. damaged run files --------------------------------------------------------------------

def test_damaged_run_files_are_quarantined_and_run_again(tmp_path, capfd):
    first = tiny_sweep(tmp_path, values="18,24,30,36")
    files = run_files(tmp_path)
    truncated, empty, foreign, healthy = files
    truncated.write_bytes(truncated.read_bytes()[:200])
    empty.write_bytes(b"")
    shutil.copy(healthy, foreign)  # a complete file, but another run's
    capfd.readouterr()
    again = tiny_sweep(tmp_path, values="18,24,30,36")
    err = capfd.readouterr().err
    assert err.count("quarantined 3 damaged run file(s)") == 1 and "skipping 1 finished" in err
    moved = {p.name for p in (tmp_path / "quarantine").iterdir()}
    assert {truncated.name, empty.name, foreign.name} <= moved
    reasons = {p.name: p.read_text() for p in (tmp_path / "quarantine").glob("*.reason.txt")}
    assert "another run (key, staffing_per_10k differ)" in reasons[f"{foreign.stem}.reason.txt"]
    assert "cannot be read" in reasons[f"{empty.stem}.reason.txt"]
    assert (again["status"] == "done").all() and len(run_files(tmp_path)) == 4
    pd.testing.assert_frame_equal(results(first), results(again))


def test_a_healthy_resume_reads_each_run_file_once(tmp_path, monkeypatch):
    tiny_sweep(tmp_path, values="18,30", replicates=2)
    reads: list[str] = []
    real = store.pq.ParquetFile

    def counting(path, *args, **kwargs):
        reads.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(store.pq, "ParquetFile", counting)
    again = tiny_sweep(tmp_path, values="18,30", replicates=2)
    assert sorted(reads) == [p.name for p in run_files(tmp_path)] and len(again) == 4
    assert not (tmp_path / "quarantine").exists()


# --- 3. two processes, one directory ---------------------------------------------------------

def hold_lock(directory: Path) -> subprocess.Popen:
    """A real process holding ``directory``'s lock until its stdin closes."""
    code = ("import sys; from experiments.lock import locked\n"
            f"with locked({str(directory)!r}):\n    print('held', flush=True); sys.stdin.read()")
    proc = subprocess.Popen([PYTHON, "-c", code], cwd=REPO, env=ENV, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_sweep_into_a_directory_in_use_is_refused(tmp_path, reaper):
    holder = hold_lock(tmp_path)
    reaper.append(holder)
    live_tmp = tmp_path / "runs" / f".abc.parquet.{holder.pid}.tmp"
    dead_tmp = tmp_path / "runs" / f".def.parquet.{dead_pid()}.tmp"
    live_tmp.parent.mkdir()
    live_tmp.write_text("being written"), dead_tmp.write_text("left by a killed sweep")
    r = subprocess.run([PYTHON, *SWEEP, "--out", str(tmp_path)], cwd=REPO, env=ENV,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert f"in use by process {holder.pid}" in r.stderr
    assert str(tmp_path / LOCK_NAME) in r.stderr and "Traceback" not in r.stderr
    ResultStore(tmp_path)  # opening the store removes only a dead writer's temporary file
    assert live_tmp.exists() and not dead_tmp.exists()
    holder.communicate("", timeout=30)
    assert holder.returncode == 0 and not (tmp_path / LOCK_NAME).exists()


def test_a_stale_lock_is_taken_over(tmp_path, capfd):
    pid = dead_pid()
    (tmp_path / LOCK_NAME).write_text(f"{pid} {os.uname().nodename}\n")
    runs = tiny_sweep(tmp_path, values="18")
    assert (runs["status"] == "done").all()
    assert f"took over the lock {tmp_path / LOCK_NAME} of process {pid}" in capfd.readouterr().err
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_directory_that_cannot_be_written_is_one_line(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(ExperimentError, match="lies under .*file', which is a file; allowed"):
        tiny_sweep(tmp_path / "file" / "out")  # checked before anything runs (outdir)
    with pytest.raises(ExperimentError, match="cannot write in .*file.*; choose another"), \
            locked(tmp_path / "file" / "out"):  # and by the lock, for lower-level callers
        pass


def test_the_lock_is_released_on_error_and_reentrant(tmp_path):
    with pytest.raises(ExperimentError, match="cannot reach a Dask scheduler"):
        tiny_sweep(tmp_path / "out", dask="nohost")
    assert not (tmp_path / "out").exists()  # neither lock nor directory left behind
    with locked(tmp_path), locked(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text().split()[0] == str(os.getpid())
    assert not (tmp_path / LOCK_NAME).exists()


# --- 4. signals ------------------------------------------------------------------------------

def test_sigterm_stops_the_sweep_and_its_workers_and_it_resumes(tmp_path, reaper):
    out = tmp_path / "sweep"
    proc = start_sweep(out)
    reaper.append(proc)
    wait_for(lambda: run_files(out), 120, proc)
    children = descendants(proc.pid)
    assert len(children) >= 3  # the forkserver, its workers and the resource tracker
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    print(f"SIGTERM to exit: {time.monotonic() - start:.2f} s")
    assert proc.returncode == 143, err
    assert err.strip() == "interrupted; finished runs are kept: run the same command again to resume"
    wait_for(lambda: gone(children), 5)
    assert not (out / LOCK_NAME).exists() and not list((out / "runs").glob(".*.tmp"))
    kept = len(run_files(out))
    assert 1 <= kept < 12
    resumed = subprocess.run([PYTHON, *SWEEP, "--out", str(out)], cwd=REPO, env=ENV,
                             capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    assert f"skipping {kept} finished run(s)" in resumed.stderr and len(run_files(out)) == 12
    clean = experiments.sweep("baseline", vary=["staffing_per_10k=16,20,24,28,32,36"],
                              replicates=2, workers=2, fixed={**TINY, "days": 20},
                              out=tmp_path / "clean", progress=False)
    pd.testing.assert_frame_equal(results(pd.read_parquet(out / "summary.parquet")),
                                  results(clean))


def test_workers_exit_when_the_sweep_is_killed(tmp_path, reaper):
    proc = start_sweep(tmp_path)
    reaper.append(proc)
    wait_for(lambda: run_files(tmp_path), 120, proc)
    children = descendants(proc.pid)
    proc.kill()  # SIGKILL: no handler runs in the main process
    proc.wait()
    start = time.monotonic()
    wait_for(lambda: gone(children), 5)
    print(f"workers gone {time.monotonic() - start:.2f} s after SIGKILL")


def test_sigterm_during_a_run_leaves_no_temporary_directory(tmp_path, reaper):
    stale = tmp_path / f".run-{dead_pid()}-x1y2"
    stale.mkdir()
    proc = subprocess.Popen([PYTHON, "run.py", "run", "--scale", "0.02", "--days", "10",
                             "--out", str(tmp_path), "--quiet"], cwd=REPO, env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reaper.append(proc)
    wait_for(lambda: {p for p in tmp_path.glob(".run-*")} - {stale}, 120, proc)
    assert not stale.exists()  # a dead run's directory is removed when the next one starts
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1] == "interrupted; nothing was written"  # run: no resume
    assert not list(tmp_path.glob(".run-*"))


def test_a_live_runs_temporary_directory_is_left_alone(tmp_path, small_run):
    live = tmp_path / f".run-{os.getppid()}-abcd"
    live.mkdir()
    model, summary = small_run
    outputs.write(model, summary, tmp_path)
    assert live.exists() and (tmp_path / "summary.json").exists()


# --- 5. a full disk --------------------------------------------------------------------------

def test_a_full_disk_keeps_the_store_resumable(tmp_path, monkeypatch, capsys):
    real = store.pq.write_table
    writes = []

    def filling(table, path, **kwargs):
        writes.append(path)
        if len(writes) == 3:
            Path(path).write_bytes(b"PAR1 half a file")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(table, path, **kwargs)

    monkeypatch.setattr(store.pq, "write_table", filling)
    argv = ["sweep", "--vary", "staffing_per_10k=16,20,24,28", "--replicates", "1", "--workers",
            "1", "--scale", "0.02", "--days", "10", "--set", "warmup_days=5", "--quiet",
            "--out", str(tmp_path)]
    assert run.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: the disk is full (writing in {tmp_path}); 2 finished run(s) are "
                   "kept: free some space and run the same command again to resume")
    assert len(run_files(tmp_path)) == 2 and not list(tmp_path.rglob(".*.tmp"))
    assert not (tmp_path / LOCK_NAME).exists()
    monkeypatch.setattr(store.pq, "write_table", real)
    assert run.main(argv) == 0
    assert "skipping 2 finished run(s)" in capsys.readouterr().err


def test_a_full_disk_while_writing_the_summary(tmp_path, monkeypatch):
    def full(self, path, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    with pytest.raises(ExperimentError, match=r"disk is full .* 1 finished run\(s\) are kept"):
        tiny_sweep(tmp_path, values="18")
    assert not (tmp_path / "summary.parquet").exists() and not list(tmp_path.glob(".*.tmp"))


# --- 6. the Python API from a script without a main guard ------------------------------------

SCRIPT = f"""
import sys
import experiments
runs = experiments.sweep("baseline", vary={{"staffing_per_10k": [18, 30]}}, replicates=1,
                         workers=2, fixed={TINY!r}, out=sys.argv[1], progress=False)
print("done", (runs["status"] == "done").sum())
"""


@pytest.mark.parametrize("how", ["file", "stdin", "-c"])
def test_a_script_without_a_main_guard_runs(tmp_path, how):
    out = str(tmp_path / "out")
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    args = {"file": [str(script), out], "stdin": ["-", out], "-c": ["-c", SCRIPT, out]}[how]
    r = subprocess.run([PYTHON, *args], cwd=tmp_path, env=ENV, capture_output=True, text=True,
                       input=SCRIPT if how == "stdin" else None, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "done 2", r.stderr
    assert "Error" not in r.stderr and "Traceback" not in r.stderr, r.stderr



def test_a_resume_whose_new_runs_all_fail_keeps_the_stored_ones(tmp_path):
    plan = plan_runs([Params(**TINY)], [1, 2])
    run_plan(plan[:1], tmp_path, progress=False)
    set_id, rep, task = plan[1]
    broken = dataclasses.replace(task, values={**task.values, "household_size": 50.0})
    runs = run_plan([plan[0], (set_id, rep, broken)], tmp_path, progress=False)
    assert runs["status"].tolist() == ["done", "failed"]
    assert runs.loc[0, "key"] == plan[0][2].key and runs.loc[0, "staff"] > 0


# --- an ABC calibration killed with SIGKILL resumes from pyabc's database ------------------------

ABC = ["run.py", "calibrate", "--method", "abc", "--particles", "4", "--generations", "4",
       "--scale", "0.02", "--days", "40", "--workers", "1", "--seed", "5",
       "--params", "case_rate_scale,rate_property"]


def populations(db: Path) -> list[tuple]:
    """(t, nr_samples, epsilon) of every generation pyabc has stored (none while the file or
    its tables do not exist yet)."""
    import sqlite3

    if not db.is_file():
        return []
    try:
        with sqlite3.connect(db) as con:
            return con.execute("SELECT t, nr_samples, epsilon FROM populations WHERE t >= 0 "
                               "ORDER BY t").fetchall()
    except sqlite3.OperationalError:  # tables not created yet, or the writer holds a lock
        return []


def test_a_killed_abc_calibration_resumes_without_losing_generations(tmp_path, reaper):
    out = tmp_path / "abc"
    proc = subprocess.Popen([PYTHON, *ABC, "--out", str(out)], cwd=REPO, env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    reaper.append(proc)
    wait_for(lambda: len(populations(out / "abc.db")) >= 2, 300, proc)
    os.killpg(proc.pid, signal.SIGKILL)  # no handler runs, no output is written
    proc.wait()
    kept = populations(out / "abc.db")
    assert 2 <= len(kept) < 4
    done = subprocess.run([PYTHON, *ABC, "--out", str(out)], cwd=REPO, env=ENV, text=True,
                          capture_output=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"resuming {out / 'abc.db'}: {len(kept)} generation(s) done" in done.stderr
    after = populations(out / "abc.db")
    assert len(after) == 4 and after[:len(kept)] == kept  # the finished generations stay
    assert (out / "posterior.parquet").is_file()
