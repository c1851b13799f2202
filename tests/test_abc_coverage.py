"""benchmarks/abc_coverage.py: the coverage check of the ABC posterior on synthetic data, end
to end at a tiny size (2 data sets, scale 0.02, 60 days, 4 particles, 1 generation, one
process): outputs, the truth inside or outside the credible interval, reproducibility,
resuming, and the refusal of bad input."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model import abc_calibration as ac
from model.params import FIELDS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import abc_coverage as cov  # noqa: E402

TINY = {"--datasets": "2", "--particles": "4", "--generations": "1", "--scale": "0.02",
        "--days": "60", "--seed": "5"}
PARAMS = cov.DEFAULTS["params"].split(",")
COST = ["wall_seconds"]   # the one column that differs between two identical runs


def argv(out: Path, **changes: str) -> list[str]:
    """The tiny settings into ``out``, with ``changes`` (``particles="5"``) instead."""
    options = TINY | {f"--{k}": v for k, v in changes.items()} | {"--out": str(out)}
    return [word for pair in options.items() for word in pair]


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def first(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("coverage") / "run"
    assert cov.main(argv(out)) == 0
    return out


def test_a_tiny_run_writes_every_output(first):
    for name in (cov.CSV_NAME, cov.SUMMARY_NAME, cov.FIGURE_NAME, cov.CONFIG_NAME):
        assert (first / name).is_file(), name
    table = pd.read_csv(first / cov.CSV_NAME)
    assert len(table) == 2 * len(PARAMS)
    assert list(table["dataset"]) == [1, 1, 2, 2] and list(table["parameter"]) == PARAMS * 2
    for k in (1, 2):
        d = cov.dataset_dir(first, k)
        for name in (*ac.OUTPUTS, ac.DB_NAME, cov.TRUTH_NAME):
            assert (d / name).is_file(), (k, name)
        truth = json.loads((d / cov.TRUTH_NAME).read_text())
        # fitted on its own synthetic data, from a seed no particle draws
        assert json.loads((d / ac.CONFIG_NAME).read_text())["observed"] == truth["observed"]
        assert truth["data_seed"] >= ac.MODEL_SEEDS
        for name, value in truth["theta"].items():
            assert FIELDS[name].metadata["lo"] <= value <= FIELDS[name].metadata["hi"]
    summary = json.loads((first / cov.SUMMARY_NAME).read_text())
    assert summary["overall"]["cases"] == 4
    assert summary["overall"]["covered"] == table["covered"].sum()
    for name in PARAMS:
        c = summary["parameters"][name]
        assert c["covered"] == table.loc[table["parameter"] == name, "covered"].sum()
        assert c["ci95"][0] <= c["coverage"] <= c["ci95"][1]
    assert summary["simulations"] == table.drop_duplicates("dataset")["simulations"].sum()


def test_covered_is_the_truth_inside_the_posterior_interval(first):
    table = pd.read_csv(first / cov.CSV_NAME)
    for _, r in table.iterrows():
        post = pd.read_parquet(cov.dataset_dir(first, r["dataset"]) / "posterior.parquet")
        lo, hi = (ac.weighted_quantile(post[r["parameter"]], post["weight"], q)
                  for q in (0.05, 0.95))
        assert (r["ci_low"], r["ci_high"]) == pytest.approx((lo, hi))
        assert r["covered"] == (lo <= r["true"] <= hi)


def test_coverage_of_a_hand_made_posterior():
    # 100 equally weighted particles 0.5, 1.5, ..., 99.5: the weighted 5 % and 95 %
    # quantiles are 5 and 95
    post = pd.DataFrame({"case_rate_scale": np.arange(100) + 0.5, "weight": 0.01})
    rows = [cov.coverage_rows({"case_rate_scale": t}, post)[0] for t in (50.0, 5.2, 4.8, 95.2)]
    assert [r["covered"] for r in rows] == [True, True, False, False]
    assert (rows[0]["ci_low"], rows[0]["ci_high"]) == pytest.approx((5.0, 95.0))
    assert rows[0]["posterior_mean"] == pytest.approx(50.0)
    assert [r["posterior_cdf_at_true"] for r in rows] == pytest.approx([0.5, 0.05, 0.05, 0.95])
    # the weight counts, not the number of particles: 91 % of it on the first ten
    post["weight"] = np.where(post.index < 10, 0.091, 0.0001)
    assert cov.coverage_rows({"case_rate_scale": 50.0}, post)[0]["covered"] is False
    lo, hi = cov.prior_interval("case_rate_scale")   # lognormal(0, 0.5): exp(±1.645 × 0.5)
    assert (lo, hi) == pytest.approx((np.exp(-0.5 * 1.6449), np.exp(0.5 * 1.6449)), rel=1e-3)


def test_the_same_seed_gives_the_same_table(first, tmp_path):
    out = tmp_path / "again"
    assert cov.main(argv(out, datasets="1")) == 0
    again = pd.read_csv(out / cov.CSV_NAME).drop(columns=COST)
    before = pd.read_csv(first / cov.CSV_NAME).drop(columns=COST)
    pd.testing.assert_frame_equal(again, before[before["dataset"] == 1])


def test_running_again_skips_finished_data_sets(first, tmp_path, monkeypatch, capsys):
    out = tmp_path / "more"
    shutil.copytree(first, out)
    before = {k: tree(cov.dataset_dir(out, k)) for k in (1, 2)}
    fitted = []
    real = ac.run
    monkeypatch.setattr(ac, "run", lambda d, *a, **kw: fitted.append(d.name) or real(d, *a, **kw))
    assert cov.main(argv(out, datasets="3")) == 0
    assert fitted == ["dataset_003"]
    assert {k: tree(cov.dataset_dir(out, k)) for k in (1, 2)} == before
    assert "data set 1/3: finished before, skipped" in capsys.readouterr().err
    table = pd.read_csv(out / cov.CSV_NAME).drop(columns=COST)
    pd.testing.assert_frame_equal(table[table["dataset"] < 3],
                                  pd.read_csv(first / cov.CSV_NAME).drop(columns=COST))
    assert json.loads((out / cov.SUMMARY_NAME).read_text())["overall"]["cases"] == 6


@pytest.mark.parametrize("change, words", [
    ({"datasets": "0"}, ["--datasets", "0", "1 or more"]),
    ({"particles": "1"}, ["--particles", "1", "2 or more"]),
    ({"params": "case_rate_scale,rate_propety"}, ["--params", "rate_propety", "rate_property"]),
    ({"params": "warmup_days"}, ["--params", "warmup_days", "no prior"]),
    ({"scale": "-1"}, ["--scale", "-1"]),
])
def test_bad_input_is_refused_in_one_line_and_writes_nothing(tmp_path, capsys, change, words):
    before = tree(tmp_path)
    assert cov.main(argv(tmp_path / "out", **change)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error:")
    for w in words:
        assert w in err, (w, err)
    assert tree(tmp_path) == before


def test_other_settings_in_the_same_out_are_refused(first, tmp_path, capsys):
    out = tmp_path / "other"
    shutil.copytree(first, out)
    before = tree(out)
    assert cov.main(argv(out, particles="5")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--particles = 4, not 5" in err
    assert tree(out) == before
