"""Robust staffing (issue 14 part 3a): regret across plausible worlds, the rules best on
average and with the least regret, the sentences saying so, the optimized rule searched over
worlds of its own, and more worlds than particles (experiments/regret.py,
experiments/staffing_allocation.py, experiments/worlds.py). Model runs are tiny (scale 0.02)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.reports.bottom import robust_sentences
from experiments.regret import regret_table, robust_summary
from experiments.worlds import draw_worlds
from model.params import ParameterError

MEASURE = "mean_days_to_close"   # lower is better (model/kpis.py)


def _runs(values: dict[str, list[float]]) -> pd.DataFrame:
    """Per rule, its value in worlds 0, 1, 2, ..., as the mean of two seeds (value ± 0.1)."""
    return pd.DataFrame([{"rule": rule, "world": w, "seed": s, "status": "done",
                          MEASURE: v + (0.1 if s else -0.1)}
                         for rule, vs in values.items() for w, v in enumerate(vs) for s in (0, 1)])


# b is best on average (1.5 days) but loses 1.0 day in world 2; c's regret never exceeds 0.7
DIFFER = _runs({"a": [2.0, 2.0, 1.5], "b": [1.0, 1.0, 2.5], "c": [1.7, 1.7, 1.7]})
# b is best on average and never more than 0.2 days behind
AGREE = _runs({"a": [1.0, 1.0, 3.0], "b": [1.2, 1.2, 1.3], "c": [1.5, 1.1, 1.4]})


def test_regret_is_how_much_worse_than_the_best_rule_in_the_same_world():
    table = regret_table(DIFFER, "rule", MEASURE)
    assert list(table.columns) == ["rule", "world", "seeds", "value", "regret"]
    assert table["seeds"].eq(2).all()
    wide = table.pivot(index="world", columns="rule", values="regret")
    assert wide.to_numpy() == pytest.approx(np.array(
        [[1.0, 0.0, 0.7], [1.0, 0.0, 0.7], [0.0, 1.0, 0.2]]))
    assert (table.groupby("world")["regret"].min() == 0).all()   # the world's best


def test_a_higher_is_better_measure_counts_regret_downwards():
    runs = DIFFER.rename(columns={MEASURE: "resolution_rate"})
    runs["resolution_rate"] /= 10   # shares
    wide = regret_table(runs, "rule", "resolution_rate").pivot(
        index="world", columns="rule", values="regret")
    assert wide.to_numpy() == pytest.approx(np.array(
        [[0.0, 0.1, 0.03], [0.0, 0.1, 0.03], [0.1, 0.0, 0.08]]))


def test_summary_names_best_on_average_and_least_regret():
    table = regret_table(DIFFER, "rule", MEASURE)
    s = robust_summary(table, "rule", MEASURE, "max")
    assert (s["best_on_average"], s["min_max_regret"], s["min_p90_regret"]) == ("b", "c", "c")
    for rule, g in table.groupby("rule"):
        row = s["policies"][rule]
        assert row["mean"] == pytest.approx(g["value"].mean())
        assert row["max_regret"] == pytest.approx(g["regret"].max())
        assert row["p90_regret"] == pytest.approx(np.percentile(g["regret"], 90))
        assert row["worlds_best"] == int((g["regret"] == 0).sum())
    assert (s["worlds"], s["worlds_drawn"], s["better"]) == (3, 3, "lower")


def _days(x: float) -> str:
    return f"{x:.2f} days"


def test_the_sentence_when_they_differ_is_the_table_in_words():
    s = robust_summary(regret_table(DIFFER, "rule", MEASURE), "rule", MEASURE, "max")
    rows = s["policies"]
    first, second, few = robust_sentences(s)
    assert first == (
        f"Across 3 plausible worlds, b is best on average (mean days to close "
        f"{rows['b']['mean']:.2f}), but c has the smallest worst-case regret: "
        f"{_days(rows['c']['max_regret'])} against {_days(rows['b']['max_regret'])} for b "
        "(regret: how much worse a rule's mean days to close is than the best rule's in the "
        "same world).")
    assert second == f"The smallest 90th-percentile regret is c's, {_days(rows['c']['p90_regret'])}."
    assert few.startswith("With fewer than 5 worlds the worst case is over few worlds")


def test_the_sentence_when_they_agree_and_led_by_the_percentile():
    table = regret_table(AGREE, "rule", MEASURE)
    s = robust_summary(table, "rule", MEASURE, "p90")
    assert s["best_on_average"] == s["min_p90_regret"] == s["min_max_regret"] == "b"
    b = s["policies"]["b"]
    first, second = robust_sentences(s)[:2]
    assert first.startswith(
        f"Across 3 plausible worlds, b is best on average (mean days to close {b['mean']:.2f}) "
        f"and has the smallest 90th-percentile regret, {_days(b['p90_regret'])} (regret:")
    assert second == f"The smallest worst-case regret is b's, {_days(b['max_regret'])}."


def test_a_world_without_every_rule_is_left_out_and_said_so():
    runs = DIFFER.copy()
    runs.loc[(runs["rule"] == "c") & (runs["world"] == 2), "status"] = "failed"
    table = regret_table(runs, "rule", MEASURE)
    assert table.loc[table["world"] == 2, "regret"].isna().all()
    assert table.loc[(table["rule"] == "c") & (table["world"] == 2), "seeds"].item() == 0
    s = robust_summary(table, "rule", MEASURE, "max")
    assert (s["worlds"], s["worlds_drawn"]) == (2, 3)
    assert s["min_max_regret"] == "b"   # world 2, where b lost, no longer counts
    assert ("Only 2 of the 3 worlds have a value for every rule; the others are left out of "
            "the regret.") in robust_sentences(s)


# --- more worlds than particles ------------------------------------------------------------------

def _posterior(path, weights=(0.1, 0.2, 0.3, 0.4)):
    pd.DataFrame({"case_rate_scale": [0.9, 1.0, 1.1, 1.2],
                  "case_time_share": [0.3, 0.35, 0.4, 0.45],
                  "weight": list(weights)}).to_parquet(path)
    return path


def test_worlds_are_distinct_particles_unless_replace(tmp_path):
    post = _posterior(tmp_path / "post.parquet")
    four = draw_worlds(post, 4, 7)
    assert len({tuple(w.values()) for w in four}) == 4   # every particle once
    with pytest.raises(ParameterError) as e:
        draw_worlds(post, 5, 7)
    assert str(e.value) == (f"--worlds 5: '{post}' has only 4 particles of positive weight; "
                            "allowed: at most 4 worlds, or --replace to draw particles more "
                            "than once")
    many = draw_worlds(post, 12, 7, replace=True)
    assert len(many) == 12 and len({tuple(w.values()) for w in many}) < 12
    zero = _posterior(tmp_path / "zero.parquet", weights=(0.0, 0.5, 0.5, 0.0))
    assert {w["case_rate_scale"] for w in draw_worlds(zero, 2, 1)} == {1.0, 1.1}
    with pytest.raises(ParameterError, match="only 2 particles of positive weight"):
        draw_worlds(zero, 3, 1)
    with pytest.raises(ParameterError, match="--replace needs --posterior FILE --worlds K"):
        draw_worlds(None, None, 1, replace=True)


TINY = ["--scale", "0.02", "--days", "15", "--workers", "1", "--quiet"]


@pytest.mark.parametrize("args, match", [
    (["--worlds", "5"], "error: --worlds 5: "),
    (["--worlds", "2", "--robust", "minimax"], "error: argument --robust: invalid choice: "
                                               "'minimax'")])
def test_bad_robust_input_exits_2_in_one_line_writing_nothing(tmp_path, capsys, args, match):
    from yanzhou_governance import cli

    post = _posterior(tmp_path / "post.parquet")
    rc = cli.main(["staffing", "--rules", "uniform,demand", "--replicates", "1",
                   "--posterior", str(post), *args, "--out", str(tmp_path / "out"), *TINY])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and err.startswith(match)
    assert not (tmp_path / "out").exists()


def test_unknown_robust_objective_from_python_writes_nothing(tmp_path):
    import experiments

    with pytest.raises(ParameterError, match="--robust 'minimax': unknown robust objective; "
                                             "allowed: max, p90"):
        experiments.compare_staffing(rules=["uniform", "demand"], robust="minimax",
                                     out=tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


# --- the command ---------------------------------------------------------------------------------

K, R = 2, 1   # worlds, seeds: the search runs max(K, R) = 2 (world, seed) pairs a point


@pytest.fixture(scope="module")
def robust_dir(tmp_path_factory):
    """Three rules, the optimized one searched, in two worlds on one seed, by the CLI."""
    import contextlib
    import io

    from yanzhou_governance import cli

    d = tmp_path_factory.mktemp("robust")
    post = _posterior(d / "post.parquet")
    short = d / "short_warmup.toml"   # staffing has no --set: a scenario file instead
    short.write_text('name = "short_warmup"\nextends = "baseline"\n\n[params]\n'
                     "warmup_days = 5\n")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        rc = cli.main(["staffing", "--scenario", str(short), "--total", "1500",
                       "--rules", "uniform,demand,optimized",
                       "--replicates", str(R), "--step", "0.5", "--posterior", str(post),
                       "--worlds", str(K), "--robust", "p90", "--out", str(d / "out"), *TINY])
    assert rc == 0
    return d / "out", post, printed.getvalue()


def test_regret_files_are_the_runs_in_worlds(robust_dir):
    out, _, printed = robust_dir
    runs = pd.read_parquet(out / "summary.parquet")
    regret = pd.read_csv(out / "regret.csv")
    pd.testing.assert_frame_equal(regret, regret_table(runs, "rule", MEASURE), check_dtype=False)
    assert len(regret) == 3 * K
    robust = json.loads((out / "robust.json").read_text())
    assert robust == json.loads(json.dumps(robust_summary(
        regret, "rule", MEASURE, "p90",
        json.loads((out / "manifest.json").read_text())["worlds"])))
    assert robust["lead"] == "p90"
    assert " ".join(robust_sentences(robust)) in printed


def test_the_manifest_lists_each_run_with_its_world(robust_dir):
    out, _, _ = robust_dir
    runs = pd.read_parquet(out / "summary.parquet")
    listed = json.loads((out / "manifest.json").read_text())["runs"]
    places = {k: [(p["set_id"], p["world"], p["seed"]) for p in v.get("places", [v])]
              for k, v in listed.items()}
    assert sorted((k, w) for k, v in places.items() for _, w, _ in v) == sorted(
        zip(runs["key"], runs["world"], strict=True))


def test_a_run_in_two_places_keeps_every_world_and_seed():
    from experiments.sweep import _run_list

    # one particle drawn twice (--replace): the same key in worlds 0 and 2
    summary = pd.DataFrame({"key": ["k0", "k1", "k0"], "status": "done", "set_id": [0, 0, 0],
                            "replicate": 0, "seed": 5, "world": [0, 1, 2]})
    listed = _run_list(summary)
    assert [p["world"] for p in listed["k0"]["places"]] == [0, 2]
    assert "places" not in listed["k1"] and listed["k1"]["world"] == 1


def test_worlds_drawn_with_replacement_are_counted_as_draws_and_particles():
    worlds = [{"x": 1.0}, {"x": 2.0}, {"x": 1.0}]
    s = robust_summary(regret_table(DIFFER, "rule", MEASURE), "rule", MEASURE, "max", worlds)
    assert s["particles"] == 2
    assert robust_sentences(s)[0].startswith("Across 3 plausible worlds (3 draws, 2 distinct "
                                             "particles), b is best")
    distinct = robust_summary(regret_table(DIFFER, "rule", MEASURE), "rule", MEASURE, "max",
                              [{"x": 1.0}, {"x": 2.0}, {"x": 3.0}])
    assert robust_sentences(distinct)[0].startswith("Across 3 plausible worlds, b is best")


@pytest.mark.parametrize("k, replace, how", [(2, False, "distinct"), (3, False, "repeated"),
                                             (4, False, "same"), (2, True, None)])
def test_search_worlds_share_no_particle_with_the_evaluation_worlds_unless_said(
        tmp_path, k, replace, how):
    from experiments.worlds import draw_search_worlds, search_draw_text

    post = _posterior(tmp_path / "post.parquet")
    for seed in range(5):
        evaluated = draw_worlds(post, k, seed, replace)
        searched, drawn = draw_search_worlds(post, k, seed, replace)
        assert len(searched) == k and evaluated == draw_worlds(post, k, seed, replace)
        ev, se = ({tuple(w.values()) for w in ws} for ws in (evaluated, searched))
        assert drawn["particles"] == 4 - len(ev)
        assert drawn["how"] == (how or ("same" if len(ev) == 4 else "repeated"))
        if drawn["how"] == "same":
            assert se == ev and "the same worlds" in search_draw_text(drawn)
        else:
            assert not se & ev
            assert len(se) == k if drawn["how"] == "distinct" else len(se) <= drawn["particles"]


def test_the_search_runs_in_worlds_of_its_own(robust_dir):
    out, post, _ = robust_dir
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["search_draw"] == {"how": "distinct", "particles": 4 - K}
    assert not ({tuple(w.values()) for w in manifest["search_worlds"]}
                & {tuple(w.values()) for w in manifest["worlds"]})
    stored = pd.concat([pd.read_parquet(p) for p in (out / "search" / "runs").rglob("*.parquet")
                        if not p.name.endswith(".series.parquet")])
    points = len(pd.read_csv(out / "search.csv"))
    assert len(stored) == points * max(K, R)   # each point on every (world, seed) pair
    assert set(stored["case_rate_scale"].round(9)) == {
        round(w["case_rate_scale"], 9) for w in manifest["search_worlds"]}


def test_the_report_states_the_regret_and_counts_world_seed_pairs(robust_dir):
    from analysis.reports import staffing

    out, _, _ = robust_dir
    page = staffing.build(out)
    robust = json.loads((out / "robust.json").read_text())
    assert robust_sentences(robust)[0] in page.bottom_line
    assert any("Regret across plausible worlds" in s for s in page.sections)
    assert f"its mean over {K} plausible worlds of its own" in page.reading
    assert "No regret across worlds" not in page.reading
    effect = next(s for s in page.bottom_line if s.startswith("With "))
    assert effect.startswith(f"With {R} replicate seed in each of {K} plausible worlds")
    assert "seeds)" not in effect
    assert f"its mean over {K} plausible worlds of its own (distinct particles, none of them " \
        "among the worlds the rules are evaluated in)" in page.reading


def test_an_unclear_difference_counts_world_seed_pairs():
    from analysis.reports.bottom import clause

    # a CI across zero: the clause is 'unclear' and says in how many pairs it is higher
    row = pd.Series({"pairs": 4, "difference": 0.1, "ci_low": -0.5, "ci_high": 0.7,
                     "higher": 3, "worlds": 2})
    kind, text = clause(MEASURE, row)
    assert kind == "unclear" and "higher in 3 of 4 (world, seed) pairs" in text
    assert "higher in 3 of 4 seeds" in clause(MEASURE, row.drop("worlds"))[1]


def test_the_report_says_when_the_search_ran_in_the_evaluation_worlds(robust_dir):
    from analysis.reports import staffing

    out, _, _ = robust_dir
    manifest = json.loads((out / "manifest.json").read_text())
    same = {**manifest, "search_draw": {"how": "same", "particles": 0}}
    text = staffing._reading(pd.read_csv(out / "staffing.csv"), same, MEASURE,
                             pd.read_csv(out / "search.csv"), "uniform")
    assert (f"its mean over {K} plausible worlds (the same worlds as those the rules are "
            "evaluated in: the posterior has no particle left") in text
