"""calibrate --method abc (model/abc_calibration.py): truncated priors, the outputs, resuming,
reproducibility and the refusal of bad input. Tiny runs: scale 0.02, 60 days, 4 particles,
2 generations, one process."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pyabc
import pytest

from model import abc_calibration as ac
from model.params import FIELDS
from yanzhou_governance import cli

TINY = ["calibrate", "--method", "abc", "--particles", "4", "--generations", "2",
        "--scale", "0.02", "--days", "60", "--workers", "1", "--seed", "7"]


def tree(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def history(out) -> pyabc.History:
    return pyabc.History(f"sqlite:///{out / ac.DB_NAME}")


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    out = tmp_path_factory.mktemp("abc") / "run"
    assert cli.main([*TINY, "--out", str(out)]) == 0
    return out


def test_prior_draws_lie_inside_the_schema_ranges():
    names = [*ac.DEFAULT_PARAMS, "hotline_after_failure", "silence_propensity"]
    prior = ac.prior_distribution(names)
    np.random.seed(3)
    draws = pd.DataFrame([dict(prior.rvs()) for _ in range(300)])
    for n in names:
        lo, hi = FIELDS[n].metadata["lo"], FIELDS[n].metadata["hi"]
        assert draws[n].between(lo, hi).all(), n
        rv = ac.TruncatedRV(n)
        assert rv.pdf(hi + 1.0) == 0.0 and rv.pdf(lo - 1.0) == 0.0
        assert rv.pdf(float(draws[n].median())) > 0.0
    # truncation matters: case_time_share's beta lives on [0, 1], its range starts at 0.001
    rv = ac.TruncatedRV("case_time_share")
    assert rv.pdf(0.0005) == 0.0 and rv.cdf(rv.lo) == 0.0 and rv.cdf(rv.hi) == pytest.approx(1.0)


def test_statistics_of_a_summary():
    from model.vocabulary import KINDS

    shares = dict.fromkeys(KINDS, 0.05) | {"property": 0.133, "public_service": 0.15}
    s = ac.statistics({"hotline_tickets_per_10k_per_year": 600.0, "category_shares": shares})
    assert s["tickets_per_10k"] == 600.0 and s["property_share"] == 0.133
    assert s["property_margin"] == pytest.approx(-0.017)
    assert s["property_shortfall"] == pytest.approx(0.017)
    assert set(ac.observed()) == set(ac.STATS)


def test_a_tiny_run_writes_every_output(first):
    for name in (*ac.OUTPUTS, ac.DB_NAME):
        assert (first / name).is_file(), name
    post = pd.read_parquet(first / "posterior.parquet")
    assert list(post.columns) == [*ac.DEFAULT_PARAMS, "weight"]
    assert len(post) == 4
    assert post["weight"].sum() == pytest.approx(1.0)
    conv = pd.read_csv(first / "convergence.csv")
    assert list(conv.columns) == ["generation", "epsilon", "acceptance_rate",
                                  "effective_sample_size", "simulations", "particles"]
    assert list(conv["generation"]) == [1, 2]
    assert (conv["acceptance_rate"] > 0).all() and (conv["acceptance_rate"] <= 1).all()
    info = json.loads((first / "abc_summary.json").read_text())
    assert set(info["parameters"]) == set(ac.DEFAULT_PARAMS)
    for p in info["parameters"].values():
        lo, hi = p["ci90"]
        assert lo <= hi
    assert info["total_simulations"] >= conv["simulations"].sum()
    assert info["wall_time_seconds"] > 0


def test_the_same_seed_gives_the_same_posterior(first, tmp_path):
    out = tmp_path / "again"
    assert cli.main([*TINY, "--out", str(out)]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "posterior.parquet"),
                                  pd.read_parquet(first / "posterior.parquet"))


def test_the_posterior_is_stamped_with_the_model_version(first):
    from model.metrics import MODEL_VERSION
    from model.posterior import load_posterior

    post = pd.read_parquet(first / "posterior.parquet")
    assert post.attrs["model_version"] == MODEL_VERSION
    assert len(load_posterior(first / "posterior.parquet")) == len(post)  # validate reads it


def test_dask_gives_the_same_posterior(first, tmp_path):
    # the particles of a Dask LocalCluster of two workers are those of one local process
    out = tmp_path / "dask"
    argv = [a if a != "1" else "2" for a in TINY]   # --workers 2
    assert cli.main([*argv, "--dask", "local", "--out", str(out)]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "posterior.parquet"),
                                  pd.read_parquet(first / "posterior.parquet"))


def test_running_again_resumes(first, tmp_path):
    out = tmp_path / "resumed"
    shutil.copytree(first, out)
    before = [history(out).get_distribution(m=0, t=t) for t in (0, 1)]
    eps_before = history(out).get_all_populations()["epsilon"].tolist()
    argv = [a if a != "2" else "3" for a in TINY]   # --generations 3
    assert cli.main([*argv, "--out", str(out)]) == 0
    h = history(out)
    assert h.n_populations == 3
    assert h.get_all_populations()["epsilon"].tolist()[:len(eps_before)] == eps_before
    for t, (df, w) in zip((0, 1), before, strict=True):
        df2, w2 = h.get_distribution(m=0, t=t)
        pd.testing.assert_frame_equal(df2, df)
        assert np.array_equal(w2, w)
    assert list(pd.read_csv(out / "convergence.csv")["generation"]) == [1, 2, 3]
    # asking for no more generations than done: nothing simulated, outputs rewritten
    assert cli.main([*argv, "--out", str(out)]) == 0
    assert history(out).n_populations == 3


@pytest.mark.parametrize("change, words", [
    (["--particles", "1"], ["--particles", "1", "2 or more"]),
    (["--generations", "0"], ["--generations", "0", "1 or more"]),
    (["--params", "case_rate_scale,rate_propety"], ["--params", "rate_propety", "rate_property"]),
    (["--params", "warmup_days"], ["--params", "warmup_days", "no prior"]),
    (["--params", "case_rate_scale,days"], ["--params", "'days'", "no prior"]),
    (["--seeds", "3"], ["--seeds", "fixed-point"]),
    (["--out", "FILE"], ["--out", "existing file"]),
])
def test_bad_input_is_refused_in_one_line_and_writes_nothing(tmp_path, capsys, change, words):
    (tmp_path / "file").write_text("x")
    change = [str(tmp_path / "file") if c == "FILE" else c for c in change]
    argv = [*TINY, "--out", str(tmp_path / "out")]
    if change[0] == "--out":
        argv = argv[:-2]
    before = tree(tmp_path)
    assert cli.main([*argv, *change]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error:")
    for w in words:
        assert w in err, (w, err)
    assert tree(tmp_path) == before


def test_resuming_with_other_settings_is_refused(first, tmp_path, capsys):
    out = tmp_path / "other"
    shutil.copytree(first, out)
    before = tree(out)
    argv = [a if a != "7" else "8" for a in TINY]   # --seed 8
    assert cli.main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "seed = 7, not 8" in err and len(err.splitlines()) == 1
    assert tree(out) == before


def test_resuming_against_other_data_is_refused(first, tmp_path):
    out = tmp_path / "other_data"
    shutil.copytree(first, out)
    before = tree(out)
    other = {**ac.observed(), "tickets_per_10k": 400.0}
    with pytest.raises(ac.ParameterError, match="observed = .*588.*, not .*400"):
        ac.run(out, ac.DEFAULT_PARAMS, 4, 3, 0.02, 60, 7, targets=other)
    assert tree(out) == before


@pytest.mark.parametrize("targets, words", [
    ({"tickets_per_10k": 588.0, "property_share": 0.133}, ["lacks", "property_shortfall"]),
    ({**ac.observed(), "margin": 0.0}, ["unknown statistic", "'margin'"]),
    ({**ac.observed(), "property_share": float("nan")}, ["property_share = nan", "finite"]),
])
def test_bad_targets_are_refused(targets, words):
    with pytest.raises(ac.ParameterError) as e:
        ac.check_targets(targets)
    for w in words:
        assert w in str(e.value)


def test_the_shipped_posterior_is_this_models_and_its_documented_table():
    """model/scenario_files/baseline_posterior.parquet (`--posterior baseline`): the production
    run's particles, stamped with this model version, and the table in docs/calibration.md is
    computed from them."""
    from pathlib import Path

    from experiments.worlds import draw_worlds
    from model.metrics import MODEL_VERSION
    from model.posterior import load_posterior

    post = load_posterior("baseline")
    assert post.attrs["model_version"] == MODEL_VERSION
    assert list(post.columns) == [*ac.DEFAULT_PARAMS, "weight"]
    assert len(post) == 500 and post["weight"].sum() == pytest.approx(1.0)
    docs = (Path(__file__).parent.parent / "docs" / "calibration.md").read_text(encoding="utf-8")
    w = post["weight"].to_numpy(float)
    for name in ac.DEFAULT_PARAMS:
        x = post[name].to_numpy(float)
        lo, hi = ac.credible_interval(x, w)
        row = next(line for line in docs.splitlines() if line.startswith(f"| `{name}` | ["))
        assert f"| {np.sum(w * x):.4g} | [{lo:.4g}, {hi:.4g}] |" in row, name
    worlds = draw_worlds("baseline", 3, 2021)
    assert len(worlds) == 3 and all(set(world) == set(ac.DEFAULT_PARAMS) for world in worlds)
