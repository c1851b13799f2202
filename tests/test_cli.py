"""The command line: a small run writes the output contract of README; bad input exits
non-zero, names the key or value and what is allowed, and writes nothing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from helpers import PYTHON, REPO

from model.params import FIELDS, GROUP_OF, prior_of
from model.vocabulary import KINDS, LEVELS, ORIGINS
from yanzhou_governance import cli

SUMMARY_KEYS = (
    "scenario", "seed", "days", "scale", "population", "hotline_tickets_per_10k_per_year",
    "category_shares", "disputes_per_1000_per_month", "resolution_rate", "mean_days_to_close",
    "escalation_shares", "mean_satisfaction", "satisfaction_by_origin", "participation_rate",
    "workload_per_worker", "by_community", "by_month", "runtime_seconds", "model_version")
COMMUNITY_KEYS = ("community", "street", "population", "staff", "disputes_per_1000_per_month",
                  "mean_satisfaction", "mean_days_to_close")
MONTH_KEYS = ("month", "population", "disputes_per_1000", "hotline_tickets", "mean_satisfaction",
              "backlog")


def start(args: list[str], cwd: Path = REPO) -> subprocess.Popen:
    return subprocess.Popen([PYTHON, str(REPO / "run.py"), *args], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=180)
    return proc.returncode, out, err


def run_cli(args: list[str], cwd: Path = REPO) -> tuple[int, str, str]:
    return finish(start(args, cwd))


# --- a small run --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """``run --scale 0.05 --days 30`` and the implicit form ``run.py --scale ...``, in parallel."""
    base = tmp_path_factory.mktemp("cli")
    out, implicit = base / "out", base / "implicit"
    procs = [start(["run", "--scale", "0.05", "--days", "30", "--seed", "3", "--out", str(out),
                    "--quiet"]),
             start(["--scale", "0.02", "--days", "3", "--out", str(implicit), "--quiet"])]
    results = [finish(p) for p in procs]
    return out, implicit, results


def test_run_exits_zero_and_reports(small):
    out, implicit, ((rc, stdout, stderr), (rc2, _, stderr2)) = small
    assert rc == 0, stderr
    assert "Traceback" not in stderr and "simulating days" not in stderr  # --quiet: no bar
    assert "baseline (seed 3, scale 0.05, 30 days)" in stdout
    assert "hotline tickets per 10,000" in stdout and str(out) in stdout
    assert rc2 == 0, stderr2
    assert json.loads((implicit / "summary.json").read_text())["days"] == 3


def test_summary_json_has_the_contract(small):
    out = small[0]
    s = json.loads((out / "summary.json").read_text())
    missing = [k for k in SUMMARY_KEYS if k not in s]
    assert not missing, missing
    assert s["scenario"] == "baseline" and s["seed"] == 3 and s["days"] == 30
    assert s["scale"] == 0.05
    assert set(s["category_shares"]) == set(KINDS)
    assert set(s["escalation_shares"]) == set(LEVELS)
    assert set(s["satisfaction_by_origin"]) == set(ORIGINS)
    assert isinstance(s["model_version"], str) and s["model_version"]
    assert s["runtime_seconds"] > 0
    assert s["population"] == round(244_000 * 0.05) + round(15_000 * 0.05)  # January: in season
    assert s["by_community"] and s["by_month"]
    for entry in s["by_community"]:
        missing = [k for k in COMMUNITY_KEYS if k not in entry]
        assert not missing, missing
    for entry in s["by_month"]:
        missing = [k for k in MONTH_KEYS if k not in entry]
        assert not missing, missing
    assert [e["month"] for e in s["by_month"]] == [1]
    params = json.loads((out / "params.json").read_text())
    assert set(params["params"]) == set(FIELDS)
    assert params["params"]["scale"] == 0.05 and params["params"]["days"] == 30


def test_tables_and_plots_are_written(small):
    out = small[0]
    s = json.loads((out / "summary.json").read_text())
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 30 and list(ts["day"]) == list(range(30))
    assert str(ts["date"].iloc[0].date()) == "2021-01-01" and str(ts["date"].iloc[-1].date()) == "2021-01-30"
    assert (ts["disputes_per_1000_per_day"] == ts["new_disputes"] / ts["present"] * 1000).all()
    for col in ("present", "new_cases", "hotline_tickets", "backlog", "mean_satisfaction"):
        assert col in ts.columns
    cases = pd.read_parquet(out / "cases.parquet")
    assert len(cases) == sum(s["case_states"].values()) > 0
    for col in ("case_id", "kind", "channel", "state", "opened", "closed", "tickets", "resident"):
        assert col in cases.columns
    assert set(cases["kind"].astype(str)) <= set(KINDS)
    pngs = sorted(out.glob("*.png"))
    assert pngs
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png.name
    assert not [p for p in out.iterdir() if p.name.startswith(".run-")]  # no temp dir left


# --- bad input ----------------------------------------------------------------------------------

BAD = {
    "unknown_key": (["--set", "staffing_per_10K=20"],
                    ["staffing_per_10K", "did you mean 'staffing_per_10k'"]),
    "bad_bool": (["--set", "closed_loop=maybe"], ["closed_loop", "maybe", "true or false"]),
    "bad_number": (["--set", "staffing_per_10k=abc"], ["staffing_per_10k", "abc", "0.0 to 500.0"]),
    "bad_choice": (["--set", "staff_allocation=fair"],
                   ["staff_allocation", "fair", "uniform, proportional"]),
    "out_of_range": (["--set", "staffing_per_10k=-5"], ["staffing_per_10k", "-5", "0.0 to 500.0"]),
    "unknown_scenario": (["--scenario", "baselin"],
                         ["baselin", "did you mean 'baseline'", "staffing_18"]),
    "missing_file": (["--scenario", "no/such/file.toml"], ["no/such/file.toml", "does not exist"]),
    "scale_zero": (["--scale", "0"], ["scale", "0.001 to 10.0"]),
    "days_negative": (["--days", "-3"], ["days", "-3", "1 to 3650"]),
    "days_not_int": (["--days", "abc"], ["--days", "abc"]),
    "malformed_set": (["--set", "staffing_per_10k"], ["KEY=VALUE", "staffing_per_10k"]),
    "empty_key": (["--set", "=5"], ["KEY=VALUE", "=5"]),
    "cross_field": (["--scenario", "welfare_posts_2022", "--set", "staffing_per_10k=10"],
                    ["welfare_posts_per_10k", "staffing_per_10k"]),
}


# a few in real processes (exit status and stderr as a user sees them), all of them in-process
IN_SUBPROCESS = ("unknown_key", "bad_choice", "unknown_scenario", "scale_zero")


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("bad")
    procs = {name: start(["run", *BAD[name][0], "--out", str(base / name), "--quiet"])
             for name in IN_SUBPROCESS}
    return base, {name: finish(p) for name, p in procs.items()}


@pytest.fixture(scope="module")
def cli_main():
    """The command line's ``main``, in-process (run.py and the installed command call it)."""
    return cli.main


@pytest.mark.parametrize("case", IN_SUBPROCESS)
def test_bad_input_is_refused_by_the_process(bad_runs, case):
    base, results = bad_runs
    rc, stdout, stderr = results[case]
    assert rc == 2
    assert "Traceback" not in stderr
    for text in BAD[case][1]:
        assert text in stderr, (text, stderr)
    assert not (base / case).exists()
    assert not list(base.glob(f".{case}.*"))  # no temporary output either


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_refused_and_writes_nothing(cli_main, capsys, tmp_path, case):
    out = tmp_path / "out"
    try:
        rc = cli_main(["run", *BAD[case][0], "--out", str(out), "--quiet"])
    except SystemExit as e:  # argparse's own errors
        rc = e.code
    _, stderr = capsys.readouterr()
    assert rc == 2
    for text in BAD[case][1]:
        assert text in stderr, (text, stderr)
    assert not out.exists()
    assert not list(tmp_path.iterdir())  # no temporary output either


# --- other commands -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def info_runs():
    procs = {"help": start(["--help"]), "run_help": start(["run", "--help"]),
             "params": start(["params"]), "scenarios": start(["scenarios"])}
    return {name: finish(p) for name, p in procs.items()}


def test_help(info_runs):
    rc, out, _ = info_runs["help"]
    assert rc == 0 and "run" in out and "params" in out and "scenarios" in out
    rc, out, _ = info_runs["run_help"]
    assert rc == 0
    for flag in ("--scenario", "--set", "--seed", "--days", "--scale", "--out", "--quiet"):
        assert flag in out


def test_params_lists_every_parameter_with_source(info_runs):
    rc, out, _ = info_runs["params"]
    assert rc == 0
    head, *rest = out.strip().splitlines()
    assert "docs/source.md" in head  # where the study's codes are explained
    headings = [line for line in rest if line.startswith("[")]  # one per mechanism
    lines = [line for line in rest if line and not line.startswith("[")]
    assert headings == [f"[{g}]" for g in dict.fromkeys(GROUP_OF[n] for n in FIELDS)]
    assert len(lines) == len(FIELDS)
    for name, line in zip(FIELDS, lines, strict=True):
        assert line.startswith(f"{name} = ") and "source:" in line
        assert ("prior:" in line) == (prior_of(name) is not None)


def test_scenarios_lists_shipped_scenarios(info_runs):
    from model import scenarios

    rc, out, _ = info_runs["scenarios"]
    assert rc == 0
    for name in scenarios.available():
        assert name in out


# --- the output directory ------------------------------------------------------------------------


def test_existing_files_in_out_dir_are_kept(small_run, tmp_path):
    """Writing into an existing directory must not delete what the run does not produce,
    e.g. ``results/compare`` (the default of ``run.py compare``) under ``results`` (the
    default of ``run.py run``). Checked on ``model.outputs.write``, which ``run`` calls."""
    from model import outputs

    model, summary = small_run
    out = tmp_path / "results"
    (out / "compare").mkdir(parents=True)
    (out / "compare" / "compare.csv").write_text("kept\n")
    (out / "notes.txt").write_text("kept\n")
    (out / "summary.json").write_text("{}")  # a previous run's output is replaced
    outputs.write(model, summary, out)
    assert json.loads((out / "summary.json").read_text())["scenario"] == summary["scenario"]
    assert (out / "notes.txt").is_file()
    assert (out / "compare" / "compare.csv").is_file()


def test_out_dot_does_not_wipe_the_working_directory(tmp_path):
    cwd = tmp_path / "work"
    cwd.mkdir()
    (cwd / "notes.txt").write_text("kept\n")
    rc, _, err = run_cli(["run", "--scale", "0.02", "--days", "3", "--out", ".", "--quiet"],
                         cwd=cwd)
    assert (cwd / "notes.txt").is_file(), "run.py --out . deleted the working directory's files"
    assert rc == 0 and "Traceback" not in err, err
    assert (cwd / "summary.json").is_file()
