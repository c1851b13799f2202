"""A non-editable install works on its own: the wheel carries the scenario and problem files
and the `yanzhou-governance` command, which runs a tiny year from another directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from helpers import REPO


def run(cmd: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    """``cmd`` without the caller's PYTHONPATH (which would put a checkout before the install)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """A fresh venv with the wheel installed (no editable finder, no checkout on the path);
    the dependencies are borrowed from the test venv through a .pth line, so nothing is
    downloaded but the build backend."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"  # setuptools builds in the source tree: a copy keeps the checkout clean
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "results", "*.egg-info", "__pycache__", ".*_cache"))
    built = run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "dist"),
                 str(source)], cwd=tmp)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp / "dist").glob("yanzhou_governance-*.whl")
    env = tmp / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    py = env / "bin" / "python"
    site = Path(run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    cwd=tmp).stdout.strip())
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
               cwd=tmp)
    assert done.returncode == 0, done.stderr
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return env, elsewhere


def test_the_wheel_runs_a_year_from_another_directory(installed):
    env, elsewhere = installed
    where = run([str(env / "bin" / "python"), "-c", "import model; print(model.__file__)"],
                cwd=elsewhere)
    assert str(env) in where.stdout and str(REPO) not in where.stdout  # the installed copy
    result = run([str(env / "bin" / "yanzhou-governance"), "run", "--scale", "0.01", "--days",
                  "3", "--out", "out", "--quiet"], cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    summary = json.loads((elsewhere / "out" / "summary.json").read_text())
    assert summary["scenario"] == "baseline" and summary["days"] == 3


def test_the_wheel_carries_scenarios_and_problems(installed):
    env, elsewhere = installed
    listed = run([str(env / "bin" / "yanzhou-governance"), "scenarios"], cwd=elsewhere)
    assert listed.returncode == 0 and "staffing_18" in listed.stdout, listed.stderr
    problems = run([str(env / "bin" / "python"), "-c",
                    "from analysis import problem; print(problem.available())"], cwd=elsewhere)
    assert "staffing_funding_influx" in problems.stdout, problems.stderr
    helped = run([str(env / "bin" / "yanzhou-governance"), "run", "--help"], cwd=elsewhere)
    assert helped.returncode == 0 and "usage: yanzhou-governance run" in helped.stdout
