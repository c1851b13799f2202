"""Sensitivity analysis: the SALib pipeline proven on the Ishigami function (analytic Sobol
indices), a Morris run on the model through the CLI (finite indices, files, resume), and bad
problem files refused before any run."""

from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import PYTHON, REPO
from SALib.test_functions import Ishigami

import run
from analysis import problem as problems
from analysis import sensitivity
from analysis.problem import Factor, Space
from experiments.runner import flatten, measure_names
from model.params import ParameterError

# --- the pipeline on a function with known indices ------------------------------------------

A, B = 7.0, 0.1  # Ishigami's usual constants (Ishigami & Homma 1990; SALib's test function)


def ishigami_analytic() -> dict[str, np.ndarray]:
    """First-order, total and the x1-x3 second-order index of Ishigami over [-pi, pi]^3."""
    v1 = 0.5 * (1 + B * math.pi ** 4 / 5) ** 2
    v2 = A ** 2 / 8
    v13 = B ** 2 * math.pi ** 8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return {"S1": np.array([v1, v2, 0.0]) / v, "ST": np.array([v1 + v13, v2, v13]) / v,
            "S2_13": v13 / v}


ISHIGAMI = Space(tuple(Factor(f"x{i}", -math.pi, math.pi) for i in (1, 2, 3)), ("y",))


def evaluate_ishigami(table: pd.DataFrame) -> sensitivity.Evaluation:
    y = pd.DataFrame({"y": Ishigami.evaluate(table.to_numpy(dtype=float), A=A, B=B)})
    return sensitivity.Evaluation(y, pd.Series({"y": 0.0}))


@pytest.mark.parametrize("method, n, tol", [("sobol", 2048, 0.04), ("fast", 1024, 0.04)])
def test_ishigami_indices_match_the_analytic_values(method, n, tol):
    result = sensitivity.analyse(ISHIGAMI, method, n, evaluate_ishigami, seed=11)
    exact = ishigami_analytic()
    got = result.indices.set_index("parameter")
    assert list(got.index) == ["x1", "x2", "x3"]
    np.testing.assert_allclose(got["S1"], exact["S1"], atol=tol)
    np.testing.assert_allclose(got["ST"], exact["ST"], atol=tol)
    assert (got["S1_conf"] > 0).all() and (got["ST_conf"] < 0.2).all()
    assert sorted(result.convergence["n"].unique()) == [n // 2, n]
    if method == "sobol":
        pairs = result.second_order.set_index(["parameter_1", "parameter_2"])["S2"]
        assert pairs[("x1", "x3")] == pytest.approx(exact["S2_13"], abs=0.08)
        assert abs(pairs[("x1", "x2")]) < 0.08 and abs(pairs[("x2", "x3")]) < 0.08


def test_ishigami_morris_ranks_x3_as_interacting_only():
    """x3 acts only through its interaction with x1: mu (signed) near 0, sigma large."""
    result = sensitivity.analyse(ISHIGAMI, "morris", 200, evaluate_ishigami, seed=5)
    got = result.indices.set_index("parameter")
    assert list(result.indices.columns) == ["output", "parameter", "mu_star", "mu_star_conf",
                                            "sigma", "mu"]
    assert got.loc["x3", "sigma"] > got.loc["x3", "mu_star"] > abs(got.loc["x3", "mu"])
    assert got.loc["x2", "mu_star"] > 0
    assert np.isfinite(got[["mu_star", "mu_star_conf", "sigma", "mu"]].to_numpy()).all()


def test_sobol_convergence_uses_the_first_half_of_the_sample():
    small = sensitivity.analyse(ISHIGAMI, "sobol", 256, evaluate_ishigami, seed=3)
    large = sensitivity.analyse(ISHIGAMI, "sobol", 512, evaluate_ishigami, seed=3)
    at_256 = large.convergence[large.convergence["n"] == 256].reset_index(drop=True)
    own = small.convergence[small.convergence["n"] == 256].reset_index(drop=True)
    pd.testing.assert_frame_equal(at_256, own)


@pytest.mark.parametrize("method, n", [("sobol", 8), ("morris", 4)])
def test_doubling_n_extends_the_same_sample(method, n):
    """The first rows of the 2N design are the N design, so a larger N reuses stored runs."""
    p = problems.load("staffing_funding_influx")
    small, large = (sensitivity.sample(p, method, k, seed=4) for k in (n, 2 * n))
    pd.testing.assert_frame_equal(large.iloc[:len(small)], small)


def test_the_sample_is_the_same_in_another_process():
    code = ("from analysis import problem, sensitivity; import sys; sensitivity.sample("
            "problem.load('staffing_funding_influx'), 'sobol', 8, 4).to_csv(sys.stdout)")
    other = subprocess.run([PYTHON, "-c", code], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout
    here = sensitivity.sample(problems.load("staffing_funding_influx"), "sobol", 8, 4)
    assert other == here.to_csv()


def test_design_rounds_integers_and_switches():
    space = Space((Factor("winter_influx", 0, 30000), Factor("closed_loop", 0, 1),
                   Factor("patience_days", 6, 24)), ("mean_satisfaction",))
    table = sensitivity.design(space, np.array([[1234.6, 0.49, 7.25], [0.2, 0.5, 24.0]]))
    assert table["winter_influx"].tolist() == [1235, 0]
    assert table["closed_loop"].tolist() == [False, True]
    assert table["patience_days"].tolist() == [7.25, 24.0]


def test_integer_factors_take_every_whole_value_equally_often():
    space = Space((Factor("committee_per_community", 5, 11),), ("mean_satisfaction",))
    table = sensitivity.sample(space, "fast", 1400, seed=1)
    counts = table["committee_per_community"].value_counts()
    assert sorted(counts.index) == list(range(5, 12))
    assert counts.max() / counts.min() < 1.2  # rounding [4.5, 11.5]: no half-weight ends


def test_a_sample_with_an_undefined_run_is_undefined():
    runs = pd.DataFrame({"set_id": [0, 0, 1, 1], "y": [1.0, np.nan, 2.0, 4.0]})
    means = sensitivity.sample_means(runs, ["y"], 3)["y"]
    assert np.isnan(means[0]) and means[1] == 3.0 and np.isnan(means[2])


def test_the_noise_probe_sits_at_the_medians():
    space = Space((Factor("staffing_per_10k", 18, 43.9, "truncnorm", mean=100.0, sd=5.0),
                   Factor("activity_yuan", 1000, 100000, "logunif"),
                   Factor("committee_per_community", 5, 11)), ("mean_satisfaction",))
    centre = sensitivity.centre(space).iloc[0]
    assert 40 < centre["staffing_per_10k"] <= 43.9          # truncated far above: near the top
    assert centre["activity_yuan"] == pytest.approx(10000)  # geometric middle
    assert centre["committee_per_community"] == 8


@pytest.mark.parametrize("factor, message", [
    (Factor("closed_loop", 0, 1), "is a switch"),
    (Factor("committee_per_community", 5, 10), "multiple of 3 (e.g. bounds = [5, 11])")])
def test_morris_refuses_factors_its_grid_cannot_step(factor, message):
    space = Space((factor, Factor("patience_days", 6, 24)), ("mean_satisfaction",))
    with pytest.raises(ParameterError, match=re.escape(message)):
        sensitivity.sample(space, "morris", 4, seed=1)
    assert len(sensitivity.sample(space, "sobol", 4, seed=1)) == 4 * 6  # fine elsewhere


def test_noise_table_shares():
    y = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [5.0, 5.0, 5.0]})
    noise = sensitivity.noise_table(y, pd.Series({"a": 0.5, "b": 0.1}), 2).set_index("output")
    assert noise.loc["a", "output_variance"] == pytest.approx(1.0)
    assert noise.loc["a", "noise_variance"] == pytest.approx(0.25)
    assert noise.loc["a", "seed_noise_share"] == pytest.approx(0.25)
    assert np.isnan(noise.loc["b", "seed_noise_share"])  # a constant output has no share


def test_seed_noise_leaves_out_the_seeds_common_effect():
    """Under common random numbers a seed's main effect shifts every sample alike and is not
    noise between samples; the estimate is the sample x seed interaction only."""
    rng = np.random.default_rng(8)
    signal = rng.normal(0, 1.0, size=(400, 1))
    seed_effect = np.array([[-5.0, 0.0, 5.0]])
    table = signal + seed_effect + rng.normal(0, 0.2, size=(400, 3))
    assert sensitivity.interaction_variance(table) == pytest.approx(0.04, rel=0.15)
    table[3, 1] = np.nan  # a sample with an undefined output is left out
    assert sensitivity.interaction_variance(table) == pytest.approx(0.04, rel=0.15)
    assert np.isnan(sensitivity.interaction_variance(table[:, :1]))


def test_measure_names_are_what_a_run_reports(small_run):
    _, summary = small_run
    assert set(measure_names()) == set(flatten(summary))


# --- the model through the command line ---------------------------------------------------

MORRIS_ARGS = ["--problem", "behaviour", "--method", "morris", "--n", "4", "--scale", "0.02",
               "--days", "45", "--replicates", "1", "--quiet"]


@pytest.fixture(scope="module")
def morris_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("morris") / "sa"
    assert run.main(["sensitivity", *MORRIS_ARGS, "--workers", "2", "--out", str(out)]) == 0
    return out


def test_morris_on_the_model_gives_finite_indices_for_everything(morris_dir):
    p = problems.load("behaviour")
    indices = pd.read_csv(morris_dir / "indices.csv")
    assert list(indices.columns) == ["output", "parameter", "mu_star", "mu_star_conf", "sigma",
                                     "mu"]
    assert len(indices) == len(p.outputs) * len(p.factors)
    assert set(indices["output"]) == set(p.outputs)
    assert set(indices["parameter"]) == set(p.names)
    assert np.isfinite(indices[["mu_star", "mu_star_conf", "sigma", "mu"]].to_numpy()).all()
    assert (indices["mu_star"] >= 0).all()
    assert indices.groupby("output")["mu_star"].max().gt(0).all()  # every output moves


def test_morris_files_describe_the_analysis(morris_dir):
    p = problems.load("behaviour")
    manifest = json.loads((morris_dir / "manifest.json").read_text())
    assert manifest["kind"] == "sensitivity" and manifest["method"] == "morris"
    assert (manifest["n"], manifest["scale"], manifest["days"], manifest["replicates"]) == \
        (4, 0.02, 45, 1)
    assert manifest["samples"] == 4 * (len(p.factors) + 1)
    assert manifest["runs"] == manifest["samples"] + sensitivity.PROBE_SEEDS
    assert manifest["failed"] == 0 and len(manifest["seeds"]) == 1
    assert [f["name"] for f in manifest["problem"]["parameters"]] == p.names
    convergence = pd.read_csv(morris_dir / "convergence.csv")
    assert sorted(convergence["n"].unique()) == [2, 4]
    assert set(convergence["index"]) == {"mu_star"}
    noise = pd.read_csv(morris_dir / "noise.csv")
    assert list(noise["output"]) == list(p.outputs)
    assert ((noise["seed_noise_share"] >= 0) & (noise["seed_noise_share"] <= 1)).all()
    samples = pd.read_csv(morris_dir / "samples.csv")
    assert list(samples.columns) == ["sample", *p.names, *p.outputs]
    assert len(samples) == manifest["samples"]
    for name in ("morris.png", "convergence.png"):
        assert (morris_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (morris_dir / "second_order.csv").exists()


def test_an_interrupted_analysis_resumes_to_the_same_indices(morris_dir, tmp_path, capsys):
    """Lose some of the stored runs (as a killed analysis would): the same command runs only
    those again and writes the same indices."""
    copy = tmp_path / "sa"
    (copy / "runs").mkdir(parents=True)
    stored = sorted((morris_dir / "runs").glob("*.parquet"))
    for path in stored[::2]:
        (copy / "runs" / path.name).write_bytes(path.read_bytes())
    assert run.main(["sensitivity", *MORRIS_ARGS, "--workers", "1", "--out", str(copy)]) == 0
    assert f"skipping {len(stored[::2])} finished run(s)" in capsys.readouterr().err
    for name in ("indices.csv", "convergence.csv", "noise.csv", "samples.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(copy / name), pd.read_csv(morris_dir / name))


# --- bad input is refused before any run -------------------------------------------------

GOOD = """name = "t"
scenario = "baseline"
outputs = ["mean_satisfaction"]
scale = 0.02
days = 10
[parameters.staffing_per_10k]
bounds = [18.0, 43.9]
"""

BAD = {
    "unknown parameter": (GOOD.replace("staffing_per_10k]", "staffing_per_10K]"),
                          "unknown parameter 'staffing_per_10K'", "staffing_per_10k"),
    "lower above upper": (GOOD.replace("[18.0, 43.9]", "[43.9, 18.0]"),
                          "lower bound 43.9 must be below upper bound 18.0", "staffing_per_10k"),
    "unknown output": (GOOD.replace('["mean_satisfaction"]', '["mean_satisfation"]'),
                       "unknown output 'mean_satisfation'", "did you mean 'mean_satisfaction'"),
    "unknown top-level key": (GOOD.replace("days = 10", "dayz = 10"), "unknown key 'dayz'",
                              "allowed:"),
    "bounds outside the schema": (GOOD.replace("[18.0, 43.9]", "[-1.0, 43.9]"),
                                  "leave the range the model allows", "allowed:"),
    "one bound": (GOOD.replace("[18.0, 43.9]", "[18.0]"), "bounds must be [lower, upper]", ""),
    "unknown dist": (GOOD + 'dist = "normal"\n', "unknown dist 'normal'", "truncnorm"),
    "triang without peak": (GOOD + 'dist = "triang"\n', "needs peak", ""),
    "fixed and varied": (GOOD + "[fixed]\nstaffing_per_10k = 20.0\n", "both in [fixed]", ""),
    "text parameter": (GOOD + '[parameters.staff_allocation]\nbounds = [0, 1]\n',
                       "takes a name", "uniform"),
    "no outputs": (GOOD.replace('outputs = ["mean_satisfaction"]', "outputs = []"),
                   "outputs must be a non-empty list", ""),
    "wall time as output": (GOOD.replace('["mean_satisfaction"]', '["runtime_seconds"]'),
                            "unknown output 'runtime_seconds'", ""),
    "bad replicates": (GOOD.replace("days = 10", "days = 10\nreplicates = 0"),
                       "replicates must be an integer >= 1", ""),
    "run setting in [fixed]": (GOOD + "[fixed]\nscale = 0.5\n", "'scale' is a run setting", ""),
    "text for a number": (GOOD.replace("scale = 0.02", 'scale = "0.02"'), "is text", "without"),
    "text for a switch in [fixed]": (GOOD + '[fixed]\nclosed_loop = "false"\n', "is text", ""),
    "fractional integer bounds": (GOOD + "[parameters.committee_per_community]\nbounds = [4.5, 11]\n",
                                  "its bounds must be whole numbers", ""),
    "triangle peaking at its upper end": (GOOD + 'dist = "triang"\npeak = 43.9\n',
                                          "must lie in [lower, upper)", ""),
    "triangle below zero": (GOOD + '[parameters.hotline_propensity]\nbounds = [-1.0, -0.2]\n'
                            'dist = "triang"\npeak = -0.5\n', "needs an upper bound >= 0", ""),
    "cross-check at a bound": (GOOD.replace("staffing_per_10k]", "welfare_posts_per_10k]")
                               .replace("[18.0, 43.9]", "[0.0, 40.0]"),
                               "must not exceed 'staffing_per_10k'", ""),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_problem_files_fail_clearly(case, tmp_path):
    text, message, hint = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ParameterError) as err:
        problems.load(path)
    assert message in str(err.value) and hint in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize("case", ["unknown parameter", "lower above upper", "unknown output"])
def test_cli_refuses_bad_problem_files_before_running(case, tmp_path, capsys):
    path, out = tmp_path / "bad.toml", tmp_path / "out"
    path.write_text(BAD[case][0])
    assert run.main(["sensitivity", "--problem", str(path), "--n", "4", "--out", str(out)]) == 2
    assert BAD[case][1] in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("method, n, message", [
    ("sobol", 6, "power of 2"), ("morris", 2, "at least 4"), ("fast", 100, "at least 130")])
def test_cli_refuses_a_bad_n_before_running(method, n, message, tmp_path, capsys):
    path, out = tmp_path / "ok.toml", tmp_path / "out"
    path.write_text(GOOD)
    code = run.main(["sensitivity", "--problem", str(path), "--method", method, "--n", str(n),
                     "--out", str(out)])
    assert code == 2 and message in capsys.readouterr().err and not out.exists()


def test_cli_needs_n_from_the_file_or_the_command_line(tmp_path, capsys):
    path = tmp_path / "ok.toml"
    path.write_text(GOOD)
    assert run.main(["sensitivity", "--problem", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "give --n" in capsys.readouterr().err


def test_unknown_problem_name_suggests_the_shipped_ones():
    with pytest.raises(ParameterError, match="did you mean 'behaviour'"):
        problems.load("behavior")


def test_flags_override_the_problem_file():
    p = problems.load("staffing_funding_influx").with_settings(scale=0.05, days=30, replicates=3,
                                                               n=None)
    assert (p.scale, p.days, p.replicates, p.n) == (0.05, 30, 3, 64)
    with pytest.raises(ParameterError, match="scale"):
        problems.load("staffing_funding_influx").with_settings(scale=0.0001)


@pytest.mark.parametrize("name", problems.available())
def test_shipped_problems_load_and_cite_sources(name):
    p = problems.load(name)
    assert p.factors and p.outputs and p.n
    assert all(f.source for f in p.factors)
    assert p.description


def test_dask_gives_the_same_indices(morris_dir, tmp_path):
    """The same analysis on a Dask LocalCluster: the same runs, so the same indices."""
    out = tmp_path / "dask"
    assert run.main(["sensitivity", *MORRIS_ARGS, "--dask", "local", "--workers", "1",
                     "--out", str(out)]) == 0
    for name in ("indices.csv", "noise.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(out / name), pd.read_csv(morris_dir / name))


@pytest.mark.parametrize("method, n", [("sobol", 64), ("morris", 8), ("fast", 130)])
def test_distributions_keep_samples_within_bounds(method, n):
    space = Space((Factor("patience_days", 6, 24, "triang", peak=9.0),
                   Factor("susceptibility", 0.1, 0.5, "truncnorm", mean=0.2, sd=0.05),
                   Factor("activity_yuan", 1000, 100000, "logunif")), ("mean_satisfaction",))
    table = sensitivity.sample(space, method, n, seed=2)
    for f in space.factors:
        assert table[f.name].between(f.lower, f.upper).all()
    if method != "morris":  # Morris walks a 4-level grid of quantiles
        assert table["susceptibility"].mean() == pytest.approx(0.2, abs=0.02)
        assert table["patience_days"].median() < 15  # the mid-range of [6, 24]
        assert table["activity_yuan"].median() < 20000  # log-uniform: geometric middle 10,000


def test_sobol_on_the_model_with_replicates(tmp_path):
    """The R >= 2 path: replicate seeds averaged, noise from the sample x seed interaction."""
    out = tmp_path / "sobol"
    assert run.main(["sensitivity", "--problem", "staffing_funding_influx", "--method", "sobol",
                     "--n", "4", "--scale", "0.02", "--days", "30", "--replicates", "2",
                     "--workers", "2", "--quiet", "--out", str(out)]) == 0
    p = problems.load("staffing_funding_influx")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs"] == 2 * manifest["samples"] == 2 * 4 * (2 * 3 + 2)
    assert len(manifest["seeds"]) == 2 and "interaction" in manifest["seed_noise"]["estimate"]
    runs = pd.read_parquet(out / "summary.parquet")
    samples = pd.read_csv(out / "samples.csv")
    means = runs.groupby("set_id")["mean_days_to_close"].mean()
    np.testing.assert_allclose(samples["mean_days_to_close"], means.to_numpy())
    noise = pd.read_csv(out / "noise.csv").set_index("output")
    table = runs.pivot(index="set_id", columns="replicate", values="mean_days_to_close")
    assert noise.loc["mean_days_to_close", "noise_variance"] == pytest.approx(
        sensitivity.interaction_variance(table.to_numpy()) / 2)
    indices = pd.read_csv(out / "indices.csv")
    assert list(indices.columns) == ["output", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert len(indices) == 3 * len(p.outputs)
    pairs = pd.read_csv(out / "second_order.csv")
    assert len(pairs) == 3 * len(p.outputs) and {"S2", "S2_conf"} <= set(pairs.columns)
    assert (out / "indices.png").exists() and not (out / "morris.png").exists()
