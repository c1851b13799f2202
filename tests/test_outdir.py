"""Output paths are checked before any simulation, in every command: a file, a path under a
file, a dangling link, an unwritable place or a full disk stops the command with exit 2 and
one line naming the path and what is allowed, and nothing is written; a run's outputs are
not replaced by another run's without --force; calibrate writes tracked files only with
--write."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections import namedtuple
from pathlib import Path

import pytest
from helpers import REPO

from experiments import outdir
from yanzhou_governance import cli

TINY = ["--scale", "0.01", "--days", "3"]
# each command with the options of a tiny plan; --out is appended
COMMANDS = {
    "run": ["run", *TINY, "--quiet"],
    "compare": ["compare", "--scenarios", "baseline", "--seeds", "1", *TINY, "--quiet"],
    "sweep": ["sweep", "--replicates", "1", *TINY, "--quiet"],
    "staffing": ["staffing", "--rules", "uniform", "--replicates", "1", *TINY, "--quiet"],
    "sensitivity": ["sensitivity", "--problem", "staffing_funding_influx", "--method", "morris",
                    "--n", "4", "--replicates", "1", *TINY, "--quiet"],
    "calibrate": ["calibrate", "--method", "abc", "--particles", "2", "--generations", "1",
                  *TINY, "--workers", "1"],
    "validate": ["validate", "--seeds", "2", "--scale", "0.01", "--quiet"],
}


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


Bad = namedtuple("Bad", "name make message")


def _file(tmp: Path) -> Path:
    (tmp / "afile").write_text("x")
    return tmp / "afile"


def _under_file(tmp: Path) -> Path:
    return _file(tmp) / "sub" / "out"


def _dangling(tmp: Path) -> Path:
    (tmp / "link").symlink_to(tmp / "nowhere")
    return tmp / "link"


BAD_OUTS = [
    Bad("existing file", _file, r"is an existing file; allowed: a directory"),
    Bad("under a file", _under_file, r"lies under '.*afile', which is a file; allowed"),
    Bad("dangling symlink", _dangling, r"dangling symbolic link .*allowed"),
]


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("bad", BAD_OUTS, ids=lambda b: b.name)
def test_bad_out_refused_before_any_run(command, bad, tmp_path, capsys):
    out = bad.make(tmp_path)
    before = tree(tmp_path)
    assert cli.main([*COMMANDS[command], "--out", str(out)]) == 2
    line = one_error_line(capsys)
    assert "--out" in line and str(out) in line
    assert pytest.importorskip("re").search(bad.message, line), line
    assert tree(tmp_path) == before


@pytest.mark.parametrize("command", list(COMMANDS))
def test_full_disk_refused_before_any_run(command, tmp_path, capsys, monkeypatch):
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(outdir.shutil, "disk_usage",
                        lambda p: usage._replace(free=outdir.MiB // 2))
    out = tmp_path / "out"
    assert cli.main([*COMMANDS[command], "--out", str(out)]) == 2
    line = one_error_line(capsys)
    assert "0.5 MiB free" in line and "needed" in line
    assert not out.exists()


@pytest.mark.skipif(os.access("/sys", os.W_OK) and os.geteuid() != 0 or not Path("/sys").is_dir(),
                    reason="needs a read-only /sys")
def test_read_only_place_refused(tmp_path, capsys):
    out = Path("/sys/yanzhou-out")
    try:
        assert cli.main([*COMMANDS["run"], "--out", str(out)]) == 2
    finally:
        assert not out.exists()
    assert "is not writable" in one_error_line(capsys)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_directory_refused(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    assert cli.main([*COMMANDS["sweep"], "--out", str(ro / "out")]) == 2
    assert "is not writable" in one_error_line(capsys)
    assert not (ro / "out").exists()


def test_report_out_checked(tmp_path, capsys):
    """report --out: a directory or a path under a file is refused, nothing written."""
    run_dir = tmp_path / "run"
    assert cli.main([*COMMANDS["run"], "--out", str(run_dir)]) == 0
    capsys.readouterr()
    before = tree(tmp_path)
    assert cli.main(["report", str(run_dir), "--out", str(tmp_path)]) == 2
    assert "is a directory; allowed: a file path" in one_error_line(capsys)
    assert cli.main(["report", str(run_dir), "--out", str(_file(tmp_path) / "r.html")]) == 2
    assert "which is a file" in one_error_line(capsys)
    assert tree(tmp_path) == before | {"afile"}


def test_run_does_not_replace_another_run(tmp_path, capsys):
    """The same run again replaces its own outputs; another run needs --force."""
    out = tmp_path / "out"
    assert cli.main([*COMMANDS["run"], "--out", str(out)]) == 0
    assert cli.main([*COMMANDS["run"], "--out", str(out)]) == 0  # the same run: replaced
    first = (out / "summary.json").read_text()
    capsys.readouterr()
    assert cli.main([*COMMANDS["run"], "--seed", "2", "--out", str(out)]) == 2
    line = one_error_line(capsys)
    assert "holds another run's outputs (scenario baseline, seed 1" in line and "--force" in line
    assert (out / "summary.json").read_text() == first
    assert cli.main([*COMMANDS["run"], "--seed", "2", "--force", "--out", str(out)]) == 0
    assert json.loads((out / "summary.json").read_text())["seed"] == 2


def test_command_refuses_another_commands_directory(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main([*COMMANDS["run"], "--out", str(out)]) == 0
    capsys.readouterr()
    before = tree(tmp_path)
    assert cli.main([*COMMANDS["sweep"], "--out", str(out)]) == 2
    assert "holds the outputs of `run`, not `sweep`" in one_error_line(capsys)
    assert tree(tmp_path) == before


# A directory of each kind by its identifying files alone (what kind_of looks at).
IDENTIFIED_BY = {"run": "summary.json", "calibrate": "abc_config.json",
                 "validate": "validation.csv"}


@pytest.mark.parametrize("holder, writer", [("calibrate", "validate"), ("validate", "calibrate"),
                                            ("calibrate", "run"), ("run", "calibrate"),
                                            ("run", "validate")])
def test_abc_and_validate_refuse_other_directories(holder, writer, tmp_path, capsys):
    """calibrate --method abc and validate write only into their own kind of directory."""
    out = tmp_path / "out"
    out.mkdir()
    (out / IDENTIFIED_BY[holder]).write_text("{}")
    before = tree(tmp_path)
    assert cli.main([*COMMANDS[writer], "--out", str(out)]) == 2
    line = one_error_line(capsys)
    assert (f"holds the outputs of `{outdir.command(holder)}`, not `{outdir.command(writer)}`"
            in line), line
    assert tree(tmp_path) == before


def test_an_abc_directory_takes_its_own_command_again(tmp_path):
    """Resuming: an ABC directory, finished or not (its settings written, no outputs yet), is
    one `calibrate --method abc` may write into; whether the settings match is
    abc_calibration.check_resume's to say."""
    out = tmp_path / "abc"
    out.mkdir()
    (out / "abc_config.json").write_text("{}")
    assert outdir.kind_of(out) == "calibrate"
    assert outdir.check_out_dir(out, "calibrate") == out


def test_kind_of_matches_the_report_kinds():
    """The reports recognise directories by the same table."""
    from analysis.reports import KINDS

    assert {k.name: k.files for k in KINDS} == outdir.KINDS


def test_calibrate_writes_tracked_files_only_with_write(monkeypatch, capsys):
    """A fit inside the acceptance bands (stubbed: the real one takes full-scale years) is
    printed; baseline.toml and docs/calibration.md are written only with --write."""
    import numpy as np

    from model import calibration
    from model.vocabulary import KINDS

    def round_of(seeds: int, leads: int) -> calibration.Round:
        shares = np.full((seeds, len(KINDS)), 0.8 / (len(KINDS) - 1))
        shares[:, KINDS.index("property")] = calibration.PROPERTY_TARGET
        shares[leads:, KINDS.index("other")] = calibration.PROPERTY_TARGET + 0.001
        return calibration.Round(dict.fromkeys(calibration.FITTED, 1.0),
                                 np.full(seeds, calibration.TICKETS_TARGET), shares,
                                 np.full(seeds, 0.75))

    accepted = round_of(3, 3)
    held_out = {"round": round_of(10, 9)}
    monkeypatch.setattr(calibration, "fit", lambda *a, **k: ([accepted], accepted))
    monkeypatch.setattr(calibration, "evaluate", lambda values, seeds, *a: held_out["round"])
    written = []
    monkeypatch.setattr(calibration, "write_baseline", lambda values: written.append("baseline"))
    monkeypatch.setattr(calibration, "write_docs", lambda *a: written.append("docs"))
    assert cli.main(["calibrate"]) == 0
    out = capsys.readouterr().out
    assert written == [] and "fitted:" in out and "held out (seeds 101-110)" in out
    assert cli.main(["calibrate", "--write"]) == 0
    assert written == ["baseline", "docs"]
    # property leading in only 8 of the 10 held-out seeds: refused, nothing written
    held_out["round"] = round_of(10, 8)
    with pytest.raises(SystemExit, match="failed on the held-out seeds"):
        cli.main(["calibrate", "--write"])
    assert written == ["baseline", "docs"]


@pytest.mark.parametrize("command", ["run", "sweep", "compare"])
@pytest.mark.parametrize("out, message", [
    ("", r"--out is empty; allowed: a directory path"),
    ("/", r"--out '/' is the file system's root or holds the model's code"),
    (str(REPO), r"is the file system's root or holds the model's code"),
    (str(REPO / "model" / "results"), r"holds the model's code"),
])
def test_out_that_is_empty_the_root_or_the_code_is_refused(command, out, message, capsys):
    before = tree(REPO / "model")
    assert cli.main([*COMMANDS[command], "--out", out]) == 2
    assert pytest.importorskip("re").search(message, one_error_line(capsys))
    assert tree(REPO / "model") == before


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
def test_a_directory_locked_by_a_live_process_is_refused(command, tmp_path, capsys):
    """Every command that writes into --out holds its lock; another live holder stops it."""
    import subprocess

    from experiments.lock import LOCK_NAME

    out = tmp_path / "out"
    code = ("import sys; from experiments.lock import locked\n"
            f"with locked({str(out)!r}):\n    print('held', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert cli.main([*COMMANDS[command], "--out", str(out)]) == 2
        line = one_error_line(capsys)
        assert f"in use by process {holder.pid}" in line, line
        assert tree(out) == {LOCK_NAME}
    finally:
        holder.communicate("", timeout=30)
    assert not out.exists()  # the holder made the directory and removed it, empty


@pytest.mark.parametrize("content", ["", "\x00garbage\n", f"{os.getpid() + 10**7} nowhere\n"])
def test_a_lock_file_left_behind_is_taken_over(content, tmp_path, capsys):
    """A lock file nobody holds (its owner was killed, even while writing it, or its PID was
    reused) is simply taken over: the kernel's lock, not the PID, says who holds it."""
    from experiments import lock

    out = tmp_path / "out"
    out.mkdir()
    (out / lock.LOCK_NAME).write_text(content)
    assert cli.main([*COMMANDS["run"], "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert ("took over" in err) == bool(content), err
    assert not (out / lock.LOCK_NAME).exists() and (out / "summary.json").is_file()


def test_a_lock_that_is_a_directory_is_one_line(tmp_path, capsys):
    from experiments.lock import LOCK_NAME
    from model.liveness import pid_alive

    assert pid_alive(99999999999999999999) is False and pid_alive(-5) is False
    out = tmp_path / "out"
    (out / LOCK_NAME).mkdir(parents=True)
    assert cli.main([*COMMANDS["run"], "--out", str(out)]) == 2
    assert "is a directory, not a lock file; remove it" in one_error_line(capsys)


def test_two_processes_never_hold_one_lock(tmp_path):
    """Many processes racing for a lock left behind: at most one holds it at any moment."""
    import multiprocessing

    out = tmp_path / "out"
    out.mkdir()
    (out / ".lock").write_text("1 nowhere\n")
    ctx = multiprocessing.get_context("spawn")  # fork from a threaded pytest may deadlock
    holders, barrier = ctx.Value("i", 0), ctx.Barrier(4)
    most = ctx.Value("i", 0)
    procs = [ctx.Process(target=_race, args=(out, barrier, holders, most)) for _ in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(30)
    assert most.value == 1


def _race(out, barrier, holders, most) -> None:
    import time

    from experiments.executors import ExperimentError
    from experiments.lock import locked

    barrier.wait()
    for _ in range(20):
        try:
            with locked(out):
                with holders.get_lock():
                    holders.value += 1
                    most.value = max(most.value, holders.value)
                time.sleep(0.005)
                with holders.get_lock():
                    holders.value -= 1
        except ExperimentError:
            pass
