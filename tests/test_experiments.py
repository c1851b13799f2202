"""Experiments: designs, executors (local processes, Dask), the resumable result store, the
aggregate and the staffing comparison. Runs are tiny (scale 0.02, a few weeks)."""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import signal
import subprocess
import time
import weakref

import numpy as np
import pandas as pd
import pytest
from helpers import PYTHON, REPO
from hypothesis import given, settings
from hypothesis import strategies as st

import experiments
from experiments import designs
from experiments.aggregate import mean_ci
from experiments.staffing_allocation import compare_staffing
from experiments.sweep import finish, plan_runs, run_plan
from model import scenarios
from model.calibration import replicate_seeds
from model.params import ParameterError

TINY = {"scale": 0.02, "days": 20, "warmup_days": 5}
VARY = ["staffing_per_10k=18,43.9", "closed_loop=true,false"]
# columns that legitimately differ between identical runs: wall-clock time
TIMING = ["build_seconds", "runtime_seconds", "worker_seconds", "summary_json"]


def results(runs: pd.DataFrame) -> pd.DataFrame:
    return runs.drop(columns=TIMING).sort_values(["set_id", "replicate"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def factorial_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("factorial")
    runs = experiments.sweep("baseline", vary=VARY, replicates=2, workers=1, fixed=TINY,
                             out=out, progress=False)
    return runs, out


# --- designs ------------------------------------------------------------------------------------

def test_factorial_has_every_combination_and_common_seeds(factorial_sweep):
    runs, out = factorial_sweep
    assert len(runs) == 2 * 2 * 2 and (runs["status"] == "done").all()
    combos = set(zip(runs["staffing_per_10k"], runs["closed_loop"], strict=True))
    assert combos == {(18.0, True), (18.0, False), (43.9, True), (43.9, False)}
    seeds = replicate_seeds(2, 2021)
    for _, g in runs.groupby("set_id"):  # the same replicate seeds for every parameter set
        assert g.sort_values("replicate")["seed"].tolist() == seeds
    for name in ("summary.parquet", "aggregate.csv", "manifest.json",
                 "sweep_staffing_per_10k.png", "sweep_closed_loop.png"):
        assert (out / name).stat().st_size > 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["runs"]) == set(runs["key"])
    assert all((out / r["file"]).exists() for r in manifest["runs"].values())


def test_results_follow_the_varied_parameter(factorial_sweep):
    runs, _ = factorial_sweep
    staff = runs.groupby("staffing_per_10k")["staff"].mean()
    assert staff[43.9] > 2 * staff[18.0]  # the varied value really reached the model


def test_aggregate_mean_and_ci(factorial_sweep):
    runs, out = factorial_sweep
    agg = pd.read_csv(out / "aggregate.csv")
    assert len(agg) == 4 and (agg["runs"] == 2).all()
    for _, row in agg.iterrows():
        sel = runs[(runs["staffing_per_10k"] == row["staffing_per_10k"])
                   & (runs["closed_loop"] == row["closed_loop"])]
        x = sel["mean_days_to_close"].to_numpy()
        assert row["mean_days_to_close_mean"] == pytest.approx(x.mean())
        assert row["mean_days_to_close_n"] == np.isfinite(x).sum()
        half = 12.706 * x.std(ddof=1) / np.sqrt(2)  # t(0.975, 1 df)
        # days are >= 0: the t interval on the log scale (delta method), back-transformed
        assert row["mean_days_to_close_ci_high"] == pytest.approx(
            x.mean() * np.exp(half / x.mean()), rel=1e-3)


def test_mean_ci_covers_the_mean_at_the_stated_rate():
    rng = np.random.default_rng(5)
    hits = 0
    for _ in range(2000):
        _, lo, hi = mean_ci(rng.normal(1.0, 2.0, 5))
        hits += lo <= 1.0 <= hi
    assert 0.93 < hits / 2000 < 0.97
    assert np.isnan(mean_ci(np.array([1.0]))[1])


def test_design_table_sweep(tmp_path):
    design = tmp_path / "design.csv"
    design.write_text("patience_days,funding_per_community_yuan\n5,200000\n20, 580000\n12.5,300000\n")
    runs = experiments.sweep("baseline", design=design, replicates=2, fixed=TINY,
                             out=tmp_path / "out", progress=False)
    assert len(runs) == 6 and (runs["status"] == "done").all()
    assert runs.groupby("set_id")["patience_days"].first().tolist() == [5.0, 20.0, 12.5]
    assert runs.groupby("set_id")["funding_per_community_yuan"].first().tolist() == [2e5, 5.8e5, 3e5]
    assert runs.attrs["varied"] == ["patience_days", "funding_per_community_yuan"]


def test_design_crossed_with_factorial():
    table = designs.combine({"closed_loop": [True, False]},
                            pd.DataFrame({"patience_days": [5.0, 9.0, 12.0]}))
    assert len(table) == 6 and list(table.columns) == ["patience_days", "closed_loop"]


@pytest.mark.parametrize("vary, match", [
    (["staffing_per_10k"], "KEY=V1,V2"),
    (["stafing_per_10k=1,2"], "unknown parameter 'stafing_per_10k'.*did you mean 'staffing_per_10k'"),
    (["staffing_per_10k=18,,24"], "staffing_per_10k: empty value"),
    (["staffing_per_10k=18,lots"], "'staffing_per_10k': 'lots' is not a valid float"),
    (["closed_loop=true,maybe"], "'closed_loop': 'maybe'"),
    (["staffing_per_10k=18", "staffing_per_10k=24"], "given twice"),
    (["staff_allocation=uniform,random"], "'random' is not allowed.*uniform, proportional"),
    (["staffing_per_10k=18,-3"], "'staffing_per_10k': -3.0 is out of range"),
])
def test_bad_vary_fails_before_any_run(tmp_path, vary, match):
    with pytest.raises(ParameterError, match=match):
        experiments.sweep("baseline", vary=vary, out=tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text, match", [
    ("patience_dayz\n5\n", "unknown parameter 'patience_dayz' in design file"),
    ("patience_days\n5\n\n", None),  # a trailing blank line is not a row
    ("patience_days,closed_loop\n5,\n", "line 2: no value for 'closed_loop'"),
    ("patience_days\nfive\n", "'patience_days': 'five' is not a valid float"),
    ("patience_days\n", "has no rows"),
    ("patience_days\n0.1\n", "parameter set 0 \\(patience_days=0.1\\).*out of range"),
    ("patience_days,closed_loop\n5,true,9\n", "line 2: 3 values for 2 columns"),
    ("patience_days,patience_days\n5,6\n", "column 'patience_days' appears twice"),
    ("winter_influx\n20.5\n", "'winter_influx': '20.5' is not a valid int"),
])
def test_bad_design_fails_before_any_run(tmp_path, text, match):
    path = tmp_path / "design.csv"
    path.write_text(text)
    if match is None:
        assert len(designs.read_design(path)) == 1
        return
    with pytest.raises(ParameterError, match=match):
        experiments.sweep("baseline", design=path, out=tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_design_header_spaces_and_integral_floats(tmp_path):
    """SALib writes integers as 20.0; spreadsheet headers carry stray spaces."""
    path = tmp_path / "design.csv"
    path.write_text(" winter_influx , closed_loop\n20000.0,TRUE\n0,false\n")
    table = designs.read_design(path)
    assert list(table.columns) == ["winter_influx", "closed_loop"]
    assert table["winter_influx"].tolist() == [20000, 0] and table["closed_loop"].tolist() == [True, False]


@pytest.mark.parametrize("kwargs, match", [
    ({"vary": ["staffing_per_10k=18,24"], "fixed": {"staffing_per_10k": "30"}},
     "'staffing_per_10k' is both fixed"),
    ({"scale": 0.02, "fixed": {"scale": 0.05}}, "'scale' is given both as --scale and --set"),
    ({"vary": {"staffing_per_10k": [18, "many"]}}, "'staffing_per_10k': 'many' is not a valid"),
    ({"vary": {"stafing_per_10k": [18]}}, "unknown parameter 'stafing_per_10k' in --vary"),
])
def test_a_parameter_is_given_in_one_place(tmp_path, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        experiments.sweep("baseline", out=tmp_path / "out", progress=False, **kwargs)
    assert not (tmp_path / "out").exists()


def test_measures_are_stored_as_floats_with_nan_for_nothing_measured():
    from experiments.runner import flatten

    summary = {"scenario": "x", "seed": 1, "staff": 12, "mean_days_to_close": None,
               "category_shares": {"property": 0.1, "other": None}, "by_street": [{"a": 1}]}
    flat = flatten(summary)
    assert flat["staff"] == 12.0 and isinstance(flat["staff"], float)
    assert np.isnan(flat["mean_days_to_close"]) and np.isnan(flat["category_shares.other"])
    assert flat["property_share"] == 0.1 and "by_street" not in flat and "seed" not in flat


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=3))
def test_any_vary_text_is_parsed_or_refused_clearly(items):
    """Whatever is typed after --vary: a valid factorial or a ParameterError, nothing else."""
    try:
        vary = designs.parse_vary(items)
    except ParameterError as e:
        assert str(e)
        return
    assert all(values and len(set(values)) == len(values) for values in vary.values())


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="patience_dys,closed_loop\n 0123456789.-\"TRUEfalse", max_size=80))
def test_any_design_text_is_read_or_refused_clearly(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "design.csv"
    path.write_text(text)
    try:
        table = designs.read_design(path)
    except ParameterError as e:
        assert str(e)
        return
    assert len(table) >= 1 and set(table.columns) <= {"patience_days", "closed_loop"}


def test_missing_design_file(tmp_path):
    with pytest.raises(ParameterError, match="design file .* not found"):
        designs.read_design(tmp_path / "nope.csv")


# --- executors and reproducibility ----------------------------------------------------------------

def test_one_and_two_workers_give_identical_results(factorial_sweep, tmp_path):
    runs, _ = factorial_sweep
    two = experiments.sweep("baseline", vary=VARY, replicates=2, workers=2, fixed=TINY,
                            out=tmp_path, progress=False)
    pd.testing.assert_frame_equal(results(runs), results(two))


def test_dask_local_cluster_matches_local_processes(factorial_sweep, tmp_path):
    runs, _ = factorial_sweep
    dask = experiments.sweep("baseline", vary=VARY[:1], replicates=2, workers=2, dask="local",
                             fixed=TINY, out=tmp_path, progress=False)
    local = runs[runs["closed_loop"]].copy()
    local["set_id"] = local["set_id"].map({0: 0, 2: 1})
    pd.testing.assert_frame_equal(results(dask).drop(columns="closed_loop"),
                                  results(local).drop(columns="closed_loop"),
                                  check_like=True)


def test_dask_scheduler_address_matches_local_processes(factorial_sweep, tmp_path):
    """--dask ADDRESS: a running scheduler (here a LocalCluster started by the test)."""
    from distributed import LocalCluster

    runs, _ = factorial_sweep
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        remote = experiments.sweep("baseline", vary=["staffing_per_10k=18"], replicates=2,
                                   dask=cluster.scheduler_address, fixed=TINY, out=tmp_path,
                                   progress=False)
    local = runs[(runs["staffing_per_10k"] == 18.0) & runs["closed_loop"]]
    pd.testing.assert_frame_equal(results(remote).drop(columns=["closed_loop", "set_id"]),
                                  results(local).drop(columns=["closed_loop", "set_id"]),
                                  check_like=True)


def test_unreachable_dask_scheduler_fails_before_writing(tmp_path):
    from experiments.executors import ExperimentError

    with pytest.raises(ExperimentError, match="cannot reach a Dask scheduler at 'nohost'"):
        experiments.sweep("baseline", dask="nohost", fixed=TINY, out=tmp_path / "out",
                          progress=False)
    assert not (tmp_path / "out").exists()


def test_same_set_and_replicate_same_seed_in_any_design(factorial_sweep, tmp_path):
    """A run's identity does not depend on the design it belongs to."""
    runs, _ = factorial_sweep
    other = experiments.sweep("baseline", vary=["staffing_per_10k=43.9,30"], replicates=3,
                              fixed={**TINY, "closed_loop": False}, out=tmp_path, progress=False)
    a = runs[(runs["staffing_per_10k"] == 43.9) & ~runs["closed_loop"]]
    b = other[(other["staffing_per_10k"] == 43.9) & (other["replicate"] < 2)]
    assert a["key"].tolist() == b["key"].tolist()
    pd.testing.assert_frame_equal(results(a).drop(columns="set_id"),
                                  results(b).drop(columns="set_id"), check_like=True)


# --- store: resume, failures, kill --------------------------------------------------------------

def test_rerun_skips_finished_runs(tmp_path, capfd):
    kw = dict(vary=["staffing_per_10k=18,30"], fixed=TINY, out=tmp_path, progress=False)
    first = experiments.sweep("baseline", replicates=2, **kw)
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").glob("*.parquet")}
    capfd.readouterr()
    more = experiments.sweep("baseline", replicates=3, **kw)
    assert "skipping 4 finished run(s)" in capfd.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # not rewritten
    assert len(list((tmp_path / "runs").glob("*.parquet"))) == 6
    pd.testing.assert_frame_equal(results(first), results(more[more["replicate"] < 2]))


def test_failing_run_is_recorded_and_the_others_finish(tmp_path):
    params = designs.parameter_sets("baseline", pd.DataFrame(index=[0, 1]), TINY)
    plan = plan_runs(params[:1], replicate_seeds(3, 7))
    set_id, rep, task = plan[1]
    broken = dataclasses.replace(task, key="broken", values={**task.values, "household_size": 50.0})
    plan[1] = (set_id, rep, broken)  # a run whose model raises inside the worker
    runs = run_plan(plan, tmp_path, workers=2, progress=False)
    assert runs["status"].tolist() == ["done", "failed", "done"]
    error = runs.loc[1, "error"]
    assert "ParameterError" in error and "household_size" in error
    note = json.loads((tmp_path / "failed" / "broken.json").read_text())
    assert "Traceback" in note["traceback"] and note["seed"] == broken.seed
    assert np.isnan(runs.loc[1, "mean_satisfaction"])
    finish(runs, [], tmp_path, {})
    manifest = json.loads((tmp_path / "manifest.json").read_text())["runs"]
    assert manifest["broken"]["status"] == "failed" and manifest["broken"]["file"] == "failed/broken.json"
    assert pd.read_csv(tmp_path / "aggregate.csv").loc[0, ["runs", "failed"]].tolist() == [2, 1]
    # the run is retried on the next attempt; once it succeeds its failure note goes
    plan[1] = (set_id, rep, dataclasses.replace(task, key="broken"))
    again = run_plan(plan, tmp_path, workers=1, progress=False)
    assert (again["status"] == "done").all() and not (tmp_path / "failed" / "broken.json").exists()


def test_sweep_killed_part_way_resumes_to_the_same_results(tmp_path):
    out = tmp_path / "killed"
    cmd = [PYTHON, "run.py", "sweep", "--vary", "staffing_per_10k=16,18,20,22,24,26,28,30,32,34",
           "--replicates", "2", "--workers", "1", "--scale", "0.02", "--days", "60",
           "--set", "warmup_days=5", "--out", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=REPO, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while len(list((out / "runs").glob("*.parquet"))) < 3 and time.time() < deadline:
        assert proc.poll() is None, "the sweep ended before it could be killed"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = list((out / "runs").glob("*.parquet"))
    assert 3 <= len(finished) < 20 and not (out / "summary.parquet").exists()
    for path in finished:  # every file that exists is complete
        assert len(pd.read_parquet(path)) == 1
    resumed = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"skipping {len(finished)} finished run(s)" in resumed.stderr
    assert not list((out / "runs").glob(".*.tmp"))
    clean = experiments.sweep("baseline", vary=["staffing_per_10k=16,18,20,22,24,26,28,30,32,34"],
                              replicates=2, workers=2, fixed={**TINY, "days": 60},
                              out=tmp_path / "clean", progress=False)
    pd.testing.assert_frame_equal(results(pd.read_parquet(out / "summary.parquet")),
                                  results(clean))


# --- command line -------------------------------------------------------------------------------

def test_cli_sweep_prints_aggregate_and_writes_outputs(tmp_path):
    r = subprocess.run([PYTHON, "run.py", "sweep", "--vary", "staffing_per_10k=18,43.9",
                        "--replicates", "2", "--scale", "0.02", "--days", "20",
                        "--out", str(tmp_path), "--quiet"],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "mean_days_to_close" in r.stdout and "4 runs, 0 failed" in r.stdout
    assert len(pd.read_parquet(tmp_path / "summary.parquet")) == 4


def test_cli_bad_vary_exits_2_writing_nothing(tmp_path):
    r = subprocess.run([PYTHON, "run.py", "sweep", "--vary", "winter_influxx=0,1",
                        "--out", str(tmp_path / "out")],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "did you mean 'winter_influx'" in r.stderr
    assert not (tmp_path / "out").exists()


# --- staffing allocation ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def staffing_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("staffing")
    result = compare_staffing(total=598, replicates=2, scale=0.1, days=30, step=0.5,
                              out=out, progress=False, workers=2)
    return result, out


def test_staffing_compares_every_rule_at_the_same_headcount(staffing_result):
    result, out = staffing_result
    assert result["rule"].tolist() == ["uniform", "proportional", "demand", "optimized"]
    allocation = pd.read_csv(out / "staffing_allocation.csv")
    total = round(598 * 0.1)  # the headcount scales with the population
    for rule, g in allocation.groupby("rule"):
        assert g["staff"].sum() == total, rule
        stored = json.loads(result.set_index("rule").loc[rule, "allocation"])
        assert stored == g.sort_values("community")["staff"].tolist()
    for name in ("staffing.csv", "staffing_allocation.csv", "staffing.png", "search.csv"):
        assert (out / name).stat().st_size > 0


def test_staffing_rules_allocate_differently(staffing_result):
    _, out = staffing_result
    allocation = pd.read_csv(out / "staffing_allocation.csv")
    staff = {r: g.sort_values("community")["staff"].to_numpy() for r, g in allocation.groupby("rule")}
    pops = allocation[allocation["rule"] == "uniform"].sort_values("community")["population"]
    assert staff["uniform"].max() - staff["uniform"].min() <= 1
    assert np.corrcoef(staff["proportional"], pops)[0, 1] > 0.95
    assert not np.array_equal(staff["demand"], staff["uniform"])


def test_staffing_optimized_is_the_best_point_of_its_search(staffing_result):
    result, out = staffing_result
    trace = pd.read_csv(out / "search.csv")
    best = trace.loc[trace["mean_days_to_close_mean"].idxmin()]
    assert trace["chosen"].sum() == 1 and trace.loc[trace["chosen"]].index[0] == best.name
    opt = result.set_index("rule").loc["optimized"]
    assert opt["staff_weight_population"] == best["staff_weight_population"]
    assert opt["staff_weight_demand"] == best["staff_weight_demand"]
    assert len(trace) >= 3  # the corners at least


def test_staffing_without_worlds_has_no_regret_and_says_why_once(staffing_result):
    from analysis.reports import staffing

    _, out = staffing_result
    assert not (out / "regret.csv").exists() and not (out / "robust.json").exists()
    page = staffing.build(out)
    assert page.reading.count("No regret across worlds: the rules ran with the scenario's "
                              "parameters alone") == 1
    assert not any("Regret across plausible worlds" in s for s in page.sections)
    assert not any("regret" in s for s in page.bottom_line)


@pytest.mark.parametrize("kwargs, match", [
    ({"rules": ["uniform", "random"]}, "unknown allocation rule 'random'; allowed: uniform"),
    ({"objective": "happiness"},
     "--objective 'happiness': unknown objective; allowed: disputes_per_1000_per_month"),
    ({"total": 0}, "total = 0 is too small; allowed: 1 or more"),
    ({"step": 0.3}, "--step 0.3 must divide 1"),
    ({"step": 1e-320}, "--step 1e-320 must divide 1"),   # 1 / step overflows: still one line
    ({"reference": "demand", "rules": ["uniform"]},
     "--reference 'demand' is not among the rules compared; allowed: uniform"),
])
def test_staffing_bad_input(tmp_path, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        compare_staffing(out=tmp_path / "out", progress=False, **kwargs)
    assert not (tmp_path / "out").exists()


def test_staffing_warns_when_committees_take_every_worker(tmp_path, capfd):
    result = compare_staffing(total=300, rules=["uniform", "demand"], replicates=1, scale=0.05,
                              days=5, out=tmp_path, progress=False, workers=1)
    assert "do not exceed the committees" in capfd.readouterr().err
    assert result["allocation"].nunique() == 1


def test_scenario_total_maps_to_staffing_per_10k():
    base = scenarios.load("baseline").params
    assert 598 * 10_000 / base.urban_population == pytest.approx(24.5, abs=0.01)  # F5


def test_a_released_model_is_freed_without_a_garbage_collection():
    """Workers release each model after its run: the agents and the model are freed at once
    by reference counting, not at Python's next (rare) full collection."""
    from model import GovernanceModel
    from model.params import Params

    gc.disable()
    try:
        model = GovernanceModel(Params(scale=0.02, days=5), seed=1)
        model.run()
        agent, whole = weakref.ref(next(iter(model.agents))), weakref.ref(model)
        model.release()
        assert agent() is None
        del model
        assert whole() is None
    finally:
        gc.enable()
