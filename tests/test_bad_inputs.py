"""Bad input, one row per case: every command refuses it with exit status 2 and ONE line on
stderr naming the key, the value and what is allowed, without a traceback, and writes nothing
(neither --out nor anything else in the working directory). The CLI runs in-process."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest

from experiments import designs, plan_limits
from model import ParameterError, Params
from yanzhou_governance import cli

GIB = 2**30
TEST_MEMORY = 16 * GIB  # the machine's memory as the plan checks see it: the same on any host

BIG = 50_150_000  # residents at scale 10 of 5,000,000 and the winter influx of 15,000
RUN_GIB = f"{plan_limits.run_bytes(Params(scale=10.0, urban_population=5_000_000)) / GIB:.1f}"
OUTPUTS = 'outputs = ["mean_satisfaction"]\n'
FACTOR = "[parameters.staffing_per_10k]\nbounds = [18.0, 43.9]\n"


class Case(NamedTuple):
    args: list[str]                  # {tmp} is the case's directory; --out {out} is added
    message: str                     # regex the one stderr line must match
    files: dict[str, bytes] = {}     # files (name -> content) or directories (name/ -> b"")


CASES: dict[str, Case] = {
    # --- 2. unreadable input files ---------------------------------------------------------
    "scenario_not_utf8": Case(
        ["run", "--scenario", "{tmp}/s.toml"],
        r"scenario file '.*s\.toml' is not UTF-8 text \(byte 0xff at position 8\); expected a "
        r"TOML file", {"s.toml": b'name = "\xff"\n'}),
    "scenario_binary": Case(["run", "--scenario", "{tmp}/s.toml"],
                            r"scenario file '.*s\.toml' is binary.*NUL.*; expected a TOML file",
                            {"s.toml": b"\x00\x01\x02\x00"}),
    "scenario_empty": Case(["run", "--scenario", "{tmp}/s.toml"],
                           r"scenario file '.*s\.toml' is empty; expected a TOML file",
                           {"s.toml": b"  \n"}),
    "scenario_directory": Case(["run", "--scenario", "{tmp}/d"],
                               r"scenario file '.*d' is a directory; expected a TOML file",
                               {"d/": b""}),
    "scenario_in_compare_not_utf8": Case(
        ["compare", "--scenarios", "baseline,{tmp}/s.toml"],
        r"scenario file '.*s\.toml' is not UTF-8 text \(byte 0xe9 at position 8\)",
        {"s.toml": "name = 'é'\n".encode("latin-1")}),
    "design_utf16": Case(["sweep", "--design", "{tmp}/d.csv"],
                         r"design file '.*d\.csv' is not UTF-8 text \(byte 0xff at position 0\); "
                         r"expected a CSV table", {"d.csv": "staffing_per_10k\n18\n".encode("utf-16")}),
    "design_empty": Case(["sweep", "--design", "{tmp}/d.csv"],
                         r"design file '.*d\.csv' is empty; expected a CSV table", {"d.csv": b""}),
    "design_header_only": Case(["sweep", "--design", "{tmp}/d.csv"],
                               r"design file '.*d\.csv' has no rows; expected a header",
                               {"d.csv": b"staffing_per_10k\r\n\r\n"}),
    "design_directory": Case(["sweep", "--design", "{tmp}/d.csv"],
                             r"design file '.*d\.csv' is a directory", {"d.csv/": b""}),
    "design_binary": Case(["sweep", "--design", "{tmp}/d.csv"],
                          r"design file '.*d\.csv' is binary", {"d.csv": b"\x00" * 16}),
    "problem_not_utf8": Case(
        ["sensitivity", "--problem", "{tmp}/p.toml"],
        r"problem file '.*p\.toml' is not UTF-8 text \(byte 0xe9 at position 15\); expected a "
        r"TOML file", {"p.toml": "description = 'é'\n".encode("latin-1")}),
    "problem_empty": Case(["sensitivity", "--problem", "{tmp}/p.toml"],
                          r"problem file '.*p\.toml' is empty", {"p.toml": b""}),
    "problem_directory": Case(["sensitivity", "--problem", "{tmp}/p"],
                              r"problem file '.*p' is a directory", {"p/": b""}),
    # --- 3. --set and the run settings -----------------------------------------------------
    "run_set_days_out_of_range": Case(["run", "--set", "days=0"],
                                      r"parameter 'days': 0 is out of range; allowed: 1 to 3650"),
    "run_set_scale_nan": Case(["run", "--set", "scale=nan"],
                              r"parameter 'scale': nan is out of range; allowed: 0\.001 to 10\.0"),
    "compare_set_days_text": Case(["compare", "--scenarios", "baseline", "--set", "days=abc"],
                                  r"parameter 'days': 'abc' is not a valid int \(allowed: 1 to 3650"),
    "sweep_set_scale_inf": Case(["sweep", "--set", "scale=inf"],
                                r"parameter 'scale': inf is out of range; allowed: 0\.001 to 10\.0"),
    "run_set_twice": Case(["run", "--set", "staffing_per_10k=18", "--set", "staffing_per_10k=20"],
                          r"--set: parameter 'staffing_per_10k' is given twice \('18', then '20'\)"),
    "compare_set_twice": Case(["compare", "--scenarios", "baseline", "--set", "days=3",
                               "--set", "days=4"], r"parameter 'days' is given twice \('3', then '4'\)"),
    "sweep_set_twice": Case(["sweep", "--set", "scale=0.1", "--set", "scale=0.2"],
                            r"parameter 'scale' is given twice \('0\.1', then '0\.2'\)"),
    "run_days_flag_and_set": Case(["run", "--days", "30", "--set", "days=40"],
                                  r"parameter 'days' is given both as --days and --set; give it once"),
    "compare_scale_flag_and_set": Case(
        ["compare", "--scenarios", "baseline", "--scale", "0.1", "--set", "scale=0.2"],
        r"parameter 'scale' is given both as --scale and --set"),
    "sweep_days_flag_and_set": Case(["sweep", "--days", "3", "--set", "days=4"],
                                    r"parameter 'days' is given both as --days and --set"),
    "run_scale_negative": Case(["run", "--scale", "-1"],
                               r"argument --scale: parameter 'scale': -1\.0 is out of range; "
                               r"allowed: 0\.001 to 10\.0"),
    "run_scale_text": Case(["run", "--scale", "big"],
                           r"argument --scale: parameter 'scale': 'big' is not a valid float"),
    "compare_scale_nan": Case(["compare", "--scale", "nan"],
                              r"argument --scale: parameter 'scale': nan is out of range; allowed: "
                              r"0\.001 to 10\.0"),
    "sweep_scale_inf": Case(["sweep", "--scale", "inf"],
                            r"argument --scale: parameter 'scale': inf is out of range"),
    "staffing_days_zero": Case(["staffing", "--days", "0"],
                               r"argument --days: parameter 'days': 0 is out of range; allowed: 1 to 3650"),
    "sensitivity_days_fraction": Case(["sensitivity", "--problem", "staffing_funding_influx",
                                       "--days", "2.5"],
                                      r"argument --days: parameter 'days': '2\.5' is not a valid int"),
    "calibrate_scale_zero": Case(["calibrate", "--scale", "0", "--dry-run"],
                                 r"argument --scale: parameter 'scale': 0\.0 is out of range"),
    # --- 4. empty lists ---------------------------------------------------------------------
    "compare_scenarios_comma": Case(["compare", "--scenarios", ","],
                                    r"argument --scenarios: empty name in ','; expected NAME,NAME"),
    "compare_scenarios_twice": Case(["compare", "--scenarios", "baseline,baseline"],
                                    r"argument --scenarios: 'baseline' is listed twice"),
    "staffing_rules_comma": Case(["staffing", "--rules", ","],
                                 r"argument --rules: empty name in ','; expected NAME,NAME"),
    "staffing_rules_empty": Case(["staffing", "--rules", ""],
                                 r"argument --rules: empty name in ''; expected NAME,NAME"),
    "staffing_rules_trailing_comma": Case(["staffing", "--rules", "uniform,"],
                                          r"argument --rules: empty name in 'uniform,'"),
    "sweep_vary_no_values": Case(["sweep", "--vary", "staffing_per_10k="],
                                 r"--vary staffing_per_10k: no values; expected V1,V2"),
    "sweep_vary_no_key": Case(["sweep", "--vary", "=1"], r"--vary expects KEY=V1,V2,\.\.\., got '=1'"),
    "sweep_vary_empty_value": Case(["sweep", "--vary", "staffing_per_10k=18,,20"],
                                   r"--vary staffing_per_10k: empty value in '18,,20'"),
    "problem_no_factors": Case(["sensitivity", "--problem", "{tmp}/p.toml"],
                               r"problem file '.*p\.toml': \[parameters\] is missing or empty",
                               {"p.toml": OUTPUTS.encode()}),
    "problem_no_outputs": Case(["sensitivity", "--problem", "{tmp}/p.toml"],
                               r"outputs must be a non-empty list",
                               {"p.toml": f"outputs = []\n{FACTOR}".encode()}),
    # --- 5. plans that cannot fit -----------------------------------------------------------
    "sweep_replicates": Case(
        ["sweep", "--vary", "staffing_per_10k=18,24.5,43.9", "--replicates", "100000000"],
        r"plan of 300,000,000 runs exceeds the limit of 1,000,000 runs \(sweep: 3 sets × "
        r"100,000,000 replicates\); lower --replicates"),
    "sweep_design_replicates": Case(["sweep", "--design", "{tmp}/d.csv", "--replicates", "600000"],
                                    r"plan of 1,200,000 runs exceeds the limit of 1,000,000 runs "
                                    r"\(sweep: 2 sets × 600,000 replicates\)",
                                    {"d.csv": b"\xef\xbb\xbfstaffing_per_10k\r\n18\r\n20\r\n"}),
    "sensitivity_sobol_n": Case(
        ["sensitivity", "--problem", "staffing_funding_influx", "--method", "sobol",
         "--n", "268435456"],
        r"plan of 4,294,967,296 runs exceeds the limit of 1,000,000 runs \(sobol: 2,147,483,648 "
        r"samples × 2 replicates\); lower --n or --replicates"),
    "sensitivity_morris_replicates": Case(
        ["sensitivity", "--problem", "{tmp}/p.toml", "--method", "morris", "--n", "4",
         "--replicates", "1000000"],
        r"plan of 8,000,000 runs exceeds the limit .*\(morris: 8 samples × 1,000,000 replicates\)",
        {"p.toml": f"{OUTPUTS}{FACTOR}".encode()}),
    "staffing_replicates": Case(["staffing", "--replicates", "100000000"],
                                r"plan of .* runs exceeds the limit of 1,000,000 runs \(staffing: 4 "
                                r"rules \+ up to 75 search points × 100,000,000 replicates\)"),
    "run_memory": Case(["run", "--scale", "10", "--set", "urban_population=5000000"],
                       rf"plan needs about {RUN_GIB} GiB of memory, over the 16\.0 GiB of this "
                       rf"machine \(1 worker\(s\) × {RUN_GIB} GiB for a run of {BIG:,} residents at "
                       r"scale 10\.0 .*; lower scale, urban_population or workers"),
    "sweep_memory": Case(["sweep", "--scale", "10", "--set", "urban_population=5000000",
                          "--workers", "2", "--replicates", "1"],
                         rf"plan needs about .* GiB .* \(2 worker\(s\) × {RUN_GIB} GiB for a run of "
                         rf"{BIG:,} residents"),
    "staffing_memory": Case(["staffing", "--scale", "10", "--scenario", "{tmp}/big.toml"],
                            r"plan needs about .* GiB of memory, over the 16\.0 GiB",
                            {"big.toml": b'extends = "baseline"\n[params]\nurban_population = 5000000\n'}),
    "sensitivity_memory": Case(["sensitivity", "--problem", "{tmp}/p.toml", "--n", "4",
                                "--scale", "10"],
                               r"plan needs about .* GiB of memory, over the 16\.0 GiB .* "
                               rf"{BIG:,} residents",
                               {"p.toml": f"{OUTPUTS}[fixed]\nurban_population = 5000000\n{FACTOR}"
                                .encode()}),
    # --- found by a hostile review of the fixes ------------------------------------------------
    "scenario_fifo": Case(["run", "--scenario", "{tmp}/f.toml"],
                          r"scenario file '.*f\.toml' is not a regular file", {"f.toml|": b""}),
    "design_fifo": Case(["sweep", "--design", "{tmp}/f.csv"],
                        r"design file '.*f\.csv' is not a regular file", {"f.csv|": b""}),
    "scenario_number_as_text": Case(
        ["run", "--scenario", "{tmp}/s.toml"],
        r"parameter 'staffing_per_10k' in scenario file '.*s\.toml' is text \('20'\); write the "
        r"float without quotes", {"s.toml": b'extends = "baseline"\n[params]\nstaffing_per_10k = "20"\n'}),
    "scenario_empty_name": Case(["run", "--scenario", ""], r"scenario is empty; allowed: a scenario"),
    "problem_empty_name": Case(["sensitivity", "--problem", ""], r"problem is empty; allowed"),
    "design_repeated_row": Case(["sweep", "--design", "{tmp}/d.csv"],
                                r"design file '.*d\.csv', line 3: the same parameter set as line 2",
                                {"d.csv": b"staffing_per_10k\n18\n18\n"}),
    "design_bad_cell_names_its_line": Case(
        ["sweep", "--design", "{tmp}/d.csv"],
        r"design file '.*d\.csv', line 2: parameter 'staffing_per_10k': 'abc' is not a valid float",
        {"d.csv": b"staffing_per_10k\nabc\n"}),
    "option_given_twice": Case(["run", "--days", "3", "--days", "4"],
                               r"argument --days: given twice; give it once"),
    "out_given_twice": Case(["sweep", "--out", "{tmp}/a"], r"argument --out: given twice"),
    "option_abbreviated": Case(["run", "--sca", "0.01"], r"unrecognized arguments: --sca"),
    "seed_too_large": Case(["run", "--seed", "1" + "0" * 40], r"too large; allowed: 0 to 1844"),
    "staffing_total_too_large": Case(["staffing", "--total", "99999999999"],
                                     r"--total 99,999,999,999 is .* staff per 10,000 residents; "
                                     r"allowed: 1 to 12,200"),
    "set_key_very_long": Case(["run", "--set", "x" * 100_000 + "=1"],
                              r"unknown parameter 'x{50}…\(100,000 characters\)' in --set"),
}


@pytest.fixture(scope="module")
def cli_main():
    """The command line's ``main``, in-process (run.py and the installed command call it)."""
    return cli.main


def tree(root: Path) -> set[tuple[str, int]]:
    """Every path under ``root`` with its size (directories: -1)."""
    return {(str(p.relative_to(root)), -1 if p.is_dir() else p.stat().st_size)
            for p in root.rglob("*")}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_in_one_line_and_writes_nothing(cli_main, capsys, tmp_path,
                                                             monkeypatch, name):
    case = CASES[name]
    monkeypatch.setattr(plan_limits, "physical_memory", lambda: TEST_MEMORY)
    monkeypatch.chdir(tmp_path)  # anything written to a relative path shows in the snapshot
    for file, content in case.files.items():
        if file.endswith("/"):
            (tmp_path / file).mkdir()
        elif file.endswith("|"):  # a named pipe: reading it would block for ever
            os.mkfifo(tmp_path / file[:-1])
        else:
            (tmp_path / file).write_bytes(content)
    out = tmp_path / "out"
    args = [a.replace("{tmp}", str(tmp_path)) for a in case.args]
    before = tree(tmp_path)
    try:
        rc = cli_main([*args, "--out", str(out), "--quiet"])
    except SystemExit as e:  # argparse's errors
        rc = e.code
    stdout, stderr = capsys.readouterr()
    assert rc == 2, (stdout, stderr)
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert re.search(case.message, lines[0]), lines[0]
    assert not out.exists()
    assert tree(tmp_path) == before


def test_every_class_has_cases():
    """At least one row per class of bad input (files, settings, lists, plan size)."""
    kinds = ("scenario_", "design_", "problem_", "_set_", "_flag_and_set", "scale", "rules",
             "scenarios", "vary", "replicates", "memory", "_n")
    for kind in kinds:
        assert any(kind in name for name in CASES), kind


# --- what spreadsheets write is read, not refused -----------------------------------------------


@pytest.mark.parametrize("variant", ["bom_crlf", "trailing_blank_lines", "semicolons"])
def test_design_files_as_spreadsheets_save_them_are_read(tmp_path, variant):
    plain = tmp_path / "plain.csv"
    plain.write_text("staffing_per_10k,closed_loop\n18,true\n24.5,false\n")
    saved = tmp_path / f"{variant}.csv"
    text = plain.read_text()
    saved.write_bytes({
        "bom_crlf": b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode(),
        "trailing_blank_lines": (text + "\n,\n\n").encode(),
        "semicolons": text.replace(",", ";").encode(),
    }[variant])
    expected = designs.read_design(plain)
    assert expected.shape == (2, 2)
    pd.testing.assert_frame_equal(designs.read_design(saved), expected)


# --- plan sizes are counted without sampling -----------------------------------------------------


@pytest.mark.parametrize(("method", "n"), [("sobol", 8), ("morris", 4), ("fast", 130)])
def test_sensitivity_rows_match_what_salib_samples(method, n):
    """The count the plan check uses, against the rows SALib's samplers really draw (the
    full design and, for FAST, its separate N/2 curve)."""
    from analysis import methods, problem, sensitivity

    space = problem.load("staffing_funding_influx")
    drawn = len(sensitivity.sample(space, method, n, seed=1))
    m = methods.get(method)
    if m.rows_per_unit is None:  # as analyse() draws it
        drawn += len(m.sample(space.salib(m.grid), n // 2, 1))
    assert plan_limits.sensitivity_rows(method, n, len(space.factors)) == drawn


def test_limits_follow_the_machine_and_the_workers(monkeypatch):
    monkeypatch.setattr(plan_limits, "physical_memory", lambda: TEST_MEMORY)
    full = Params(scale=10.0)  # 2,590,000 residents: about 3 GiB a run
    plan_limits.check_memory([full], workers=5)  # 5 x 3.1 GiB fit in 16 GiB, 6 do not
    with pytest.raises(ParameterError, match="6 worker"):
        plan_limits.check_memory([full], workers=6)
    plan_limits.check_memory([full], workers=0, runs=plan_limits.MAX_RUNS // 2)  # remote Dask
    plan_limits.check_runs(plan_limits.MAX_RUNS, "at the limit", "")
    with pytest.raises(ParameterError, match=f"{plan_limits.MAX_RUNS + 1:,} runs"):
        plan_limits.check_runs(plan_limits.MAX_RUNS + 1, "one over", "")


# --- numpy values through the Python API -----------------------------------------------------------


def test_sweep_takes_a_numpy_array_as_a_plain_list(tmp_path):
    """``vary`` as SALib/pandas loops give it: the same runs (same keys, so the second sweep
    finds them all finished) as the plain Python list."""
    import numpy as np

    import experiments

    settings = {"replicates": 1, "workers": 1, "scale": 0.005, "days": 2, "progress": False,
                "out": tmp_path / "sweep"}
    arrays = experiments.sweep(vary={"staffing_per_10k": np.array([18.0, 24.5])}, **settings)
    plain = experiments.sweep(vary={"staffing_per_10k": [18.0, 24.5]}, **settings)
    assert (arrays["status"] == "done").all()
    assert list(arrays["key"]) == list(plain["key"])
    assert list(arrays["staffing_per_10k"]) == [18.0, 24.5]


def test_design_frames_with_numpy_dtypes_give_the_plain_parameter_sets():
    typed = pd.DataFrame({"days": np.array([30, 40], dtype=np.int32),
                          "staffing_per_10k": np.array([18.0, 24.5], dtype=np.float32),
                          "closed_loop": np.array([True, False])})
    plain = pd.DataFrame({"days": [30, 40], "staffing_per_10k": [18.0, 24.5],
                          "closed_loop": [True, False]})
    assert designs.parameter_sets("baseline", designs.check_design(typed)) == \
        designs.parameter_sets("baseline", plain)


@pytest.mark.parametrize(("vary", "message"), [
    ({"staffing_per_10k": 18.0}, r"vary\['staffing_per_10k'\]: 18\.0 is not a list of values"),
    ({"staff_allocation": "uniform,demand"}, r"is not a list of values"),
    ({"staff_allocation": ["uniform,demand"]}, r"'uniform,demand' is not allowed"),  # not split
    ({"staffing_per_10k": []}, r"--vary staffing_per_10k: no values"),
    ({"days": [30, 30.0]}, r"repeated value"),
    ({"days": [np.True_]}, r"'days'.*not a valid int"),
])
def test_vary_mappings_are_checked_on_their_values(vary, message):
    with pytest.raises(ParameterError, match=message):
        designs.check_vary(vary)


def test_empty_design_frame_is_refused():
    with pytest.raises(ParameterError, match="the design table has no rows"):
        designs.check_design(pd.DataFrame({"days": []}))
    with pytest.raises(ParameterError, match="unknown parameter 'dayz'.*did you mean 'days'"):
        designs.check_design(pd.DataFrame({"dayz": [3]}))


def test_problem_settings_take_numpy_numbers():
    from analysis import problem

    base = problem.load("staffing_funding_influx")
    given = base.with_settings(scale=np.float64(0.1), days=np.int64(30), replicates=np.int64(3),
                               n=np.int64(8), seed=np.int64(5))
    assert given == base.with_settings(scale=0.1, days=30, replicates=3, n=8, seed=5)
    assert type(given.replicates) is int and type(given.days) is int


# --- the Python API refuses wrong kinds of arguments in one ParameterError ----------------------

@pytest.mark.parametrize("call, message", [
    (lambda out: __import__("experiments").sweep("baseline", replicates=2.5, out=out),
     r"replicates = 2\.5 is a float; allowed: a whole number, 1 or more"),
    (lambda out: __import__("experiments").sweep("baseline", replicates="2", out=out),
     r"replicates = '2' is a str"),
    (lambda out: __import__("experiments").sweep("baseline", replicates=True, out=out),
     r"replicates = True is a bool"),
    (lambda out: __import__("experiments").sweep("baseline", workers=0, out=out),
     r"workers = 0 is too small; allowed: 1 or more"),
    (lambda out: __import__("experiments").sweep("baseline", seed=-1, out=out),
     r"seed = -1 is too small; allowed: 0 or more"),
    (lambda out: __import__("experiments").compare_staffing(rules="uniform", out=out),
     r"rules = 'uniform' is text; allowed: a list of rules"),
    (lambda out: __import__("experiments").compare_staffing(total=598.5, out=out),
     r"total = 598\.5 is a float"),
    (lambda out: __import__("model").scenarios.load(123), r"scenario 123 is a int; allowed"),
    (lambda out: __import__("model").scenarios.load(None), r"scenario None is a NoneType"),
])
def test_python_api_refuses_wrong_kinds(call, message, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ParameterError, match=message):
        call(out)
    assert not out.exists()


def test_params_take_a_whole_number_for_a_float():
    """18 is accepted for staffing_per_10k as by the command line and TOML, stored as 18.0."""
    assert Params(staffing_per_10k=18) == Params(staffing_per_10k=18.0)
    assert Params(staffing_per_10k=np.int32(18)).staffing_per_10k == 18.0
    with pytest.raises(ParameterError, match="True has type bool"):
        Params(staffing_per_10k=True)
