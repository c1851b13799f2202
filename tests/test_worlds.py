"""Plausible worlds (issue 14): parameter sets drawn from a posterior, every policy run in
every world on the same seeds, and the statistics over worlds and seeds
(experiments/worlds.py, experiments/aggregate.py). Model runs are tiny (scale 0.02)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.aggregate import aggregate, interval, paired_differences
from experiments.worlds import draw_worlds, in_worlds, split_worlds
from model import scenarios
from model.params import ParameterError

MEASURE = "resolution_rate"   # a share, higher is better (model/kpis.py)


def _runs(values: dict[tuple[str, int], list[float]]) -> pd.DataFrame:
    """A hand-made runs table: per (policy, world), the measure on seeds 10, 11, ..."""
    return pd.DataFrame([{"set_id": policy, "world": w, "seed": 10 + i, "status": "done",
                          MEASURE: v}
                         for (policy, w), vs in values.items() for i, v in enumerate(vs)])


HAND = _runs({("a", 0): [0.50, 0.52], ("b", 0): [0.60, 0.58],    # b better in world 0
              ("a", 1): [0.70, 0.72], ("b", 1): [0.65, 0.69],    # b worse in world 1
              ("a", 2): [0.40, 0.42], ("b", 2): [0.45, 0.41]})   # b better on average


def test_probability_across_worlds_is_the_share_of_worlds_whose_mean_difference_is_better():
    row = paired_differences(HAND, "set_id", "a", [MEASURE]).iloc[0]
    world_means = [0.08, -0.04, 0.02]   # (0.10 + 0.06) / 2, (-0.05 - 0.03) / 2, (0.05 - 0.01) / 2
    assert row["worlds"] == 3 and row["worlds_better"] == 2
    assert row["world_probability"] == pytest.approx(2 / 3)
    assert row["pairs"] == 6 and row["better"] == 3 and row["better_share"] == 0.5
    assert row["difference"] == pytest.approx(np.mean(world_means))
    # the interval is over the three world means (two-stage), not the six pairs
    sd = np.std(world_means, ddof=1)
    low, high = interval(np.array([np.mean(world_means)]), np.array([sd]), np.array([3]),
                         (-np.inf, np.inf))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low[0], high[0]))


def test_pairs_match_on_world_and_seed():
    shuffled = HAND.sample(frac=1, random_state=1)
    pd.testing.assert_frame_equal(paired_differences(shuffled, "set_id", "a", [MEASURE]),
                                  paired_differences(HAND, "set_id", "a", [MEASURE]))
    with pytest.raises(ValueError, match="not paired"):
        paired_differences(pd.concat([HAND, HAND.iloc[:1]]), "set_id", "a", [MEASURE])


def test_aggregate_over_worlds_uses_world_means_and_stays_in_bounds():
    agg = aggregate(HAND.assign(set_id=HAND["set_id"].map({"a": 0, "b": 1})))
    a = agg.iloc[0]
    means = [0.51, 0.71, 0.41]
    assert a["runs"] == 6 and a[f"{MEASURE}_n"] == 6
    assert a[f"{MEASURE}_mean"] == pytest.approx(np.mean(means))
    low, high = interval(np.array([np.mean(means)]), np.array([np.std(means, ddof=1)]),
                         np.array([3]), (0.0, 1.0))
    assert (a[f"{MEASURE}_ci_low"], a[f"{MEASURE}_ci_high"]) == pytest.approx((low[0], high[0]))
    assert a[f"{MEASURE}_ci_low"] >= 0 and a[f"{MEASURE}_ci_high"] <= 1


def test_without_worlds_nothing_changes():
    one = HAND[HAND["world"] == 0].drop(columns="world")
    row = paired_differences(one, "set_id", "a", [MEASURE]).iloc[0]
    assert "world_probability" not in row and row["difference"] == pytest.approx(0.08)


def test_difference_interval_of_a_share_stays_within_its_range():
    wild = _runs({("a", 0): [0.0, 1.0, 0.0], ("b", 0): [1.0, 0.0, 1.0]}).drop(columns="world")
    row = paired_differences(wild, "set_id", "a", [MEASURE]).iloc[0]
    assert row["ci_low"] >= -1 and row["ci_high"] <= 1


def _posterior(path, **columns):
    data = {"case_rate_scale": [0.9, 1.0, 1.1, 1.2], "case_time_share": [0.3, 0.35, 0.4, 0.45],
            "weight": [0.1, 0.2, 0.3, 0.4], **columns}
    pd.DataFrame(data).to_parquet(path)
    return path


def test_worlds_are_seeded_and_applied_on_top_of_every_policy(tmp_path):
    post = _posterior(tmp_path / "post.parquet")
    worlds = draw_worlds(post, 3, 2021)
    assert worlds == draw_worlds(post, 3, 2021) and len(worlds) == 3
    assert worlds != draw_worlds(post, 3, 2022)
    sets = [scenarios.load("baseline", {"staffing_per_10k": v}).params for v in (18.0, 30.0)]
    flat = in_worlds(sets, worlds)
    assert [(p.staffing_per_10k, p.case_rate_scale) for p in flat] == [
        (s, w["case_rate_scale"]) for s in (18.0, 30.0) for w in worlds]
    split = split_worlds(pd.DataFrame({"set_id": range(6)}), 3)
    assert split["set_id"].tolist() == [0, 0, 0, 1, 1, 1]
    assert split["world"].tolist() == [0, 1, 2, 0, 1, 2]


def test_a_varied_parameter_in_the_posterior_is_refused(tmp_path):
    post = _posterior(tmp_path / "post.parquet", staffing_per_10k=[20.0] * 4)
    sets = [scenarios.load("baseline", {"staffing_per_10k": v}).params for v in (18.0, 30.0)]
    with pytest.raises(ParameterError, match="'staffing_per_10k' is a parameter the experiment"):
        in_worlds(sets, draw_worlds(post, 2, 1))


@pytest.mark.parametrize("posterior, k, match", [
    (None, 3, "--worlds needs --posterior"), ("x.parquet", None, "--posterior needs --worlds"),
    ("x.parquet", 0, "--worlds 0"), ("missing.parquet", 2, "not a file")])
def test_bad_worlds_are_refused(tmp_path, posterior, k, match):
    with pytest.raises(ParameterError, match=match):
        draw_worlds(None if posterior is None else tmp_path / posterior, k, 1)


# --- the commands --------------------------------------------------------------------------------

TINY = ["--scale", "0.02", "--days", "20", "--workers", "1", "--quiet"]


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """Two scenarios in two worlds on two seeds, through the command line."""
    from yanzhou_governance import cli

    d = tmp_path_factory.mktemp("worlds")
    post = _posterior(d / "post.parquet")
    rc = cli.main(["compare", "--scenarios", "baseline,staffing_18", "--seeds", "2",
                   "--set", "warmup_days=5", "--posterior", str(post), "--worlds", "2",
                   "--reference", "staffing_18", "--out", str(d / "out"), *TINY])
    assert rc == 0
    return d / "out", post


def test_every_policy_runs_in_the_same_worlds_on_the_same_seeds(compared):
    import json

    out, post = compared
    runs = pd.read_csv(out / "compare_runs.csv")
    worlds = json.loads((out / "worlds.json").read_text())
    assert worlds["worlds"] == draw_worlds(post, 2, 2021)   # drawn from --seed, once
    cells = runs.groupby("scenario")[["world", "seed"]].apply(
        lambda g: sorted(map(tuple, g.to_numpy().tolist())))
    assert cells.iloc[0] == cells.iloc[1] and len(cells.iloc[0]) == 4   # 2 worlds × 2 seeds
    assert runs.groupby("world")["seed"].apply(sorted).map(tuple).nunique() == 1
    assert list(dict.fromkeys(runs["scenario"])) == ["staffing_18", "baseline"]  # reference first


def test_a_world_parameters_reach_the_stored_runs(compared):
    import json

    out, _ = compared
    worlds = json.loads((out / "worlds.json").read_text())["worlds"]
    stored = pd.concat([pd.read_parquet(p) for p in (out / "runs").rglob("*.parquet")])
    assert {round(v, 9) for v in stored["case_rate_scale"]} == {
        round(w["case_rate_scale"], 9) for w in worlds}


def test_paired_csv_holds_the_probability_across_worlds(compared):
    out, _ = compared
    runs = pd.read_csv(out / "compare_runs.csv")
    paired = pd.read_csv(out / "paired.csv")
    again = paired_differences(runs, "scenario", "staffing_18", list(paired["measure"]))
    pd.testing.assert_frame_equal(paired, again, check_dtype=False)
    assert set(paired["reference"]) == {"staffing_18"}
    # both worlds count wherever the measure is defined; a measure undefined in every run at
    # this tiny scale (e.g. the street tier's wait: no case reaches it) has no world
    defined = paired["pairs"] > 0
    assert paired.loc[defined, "worlds"].eq(2).all() and paired.loc[~defined, "worlds"].eq(0).all()
    assert defined.any()


def test_paired_text_says_what_the_table_holds():
    from experiments.aggregate import paired_text

    paired = paired_differences(HAND, "set_id", "a", [MEASURE])
    text = paired_text(paired, "set_id", [MEASURE])
    r = paired.iloc[0]
    assert text.splitlines()[0].startswith("set_id b against a")
    assert (f"{MEASURE}: {r['difference']:+.4g} [{r['ci_low']:+.4g}, {r['ci_high']:+.4g}]; "
            f"better in 3 of 6 (world, seed) pairs; better in 2 of 3 worlds (probability 67%)"
            ) in text
    assert "(world, seed) pairs in which it is better" in text.splitlines()[0]
    alone = paired_differences(HAND[HAND["world"] == 0].drop(columns="world"), "set_id", "a",
                               [MEASURE])
    assert "better in 2 of 2 pairs" in paired_text(alone, "set_id", [MEASURE])
    assert "use at least 5 replicates" not in text   # six pairs
    few = paired_text(paired.assign(pairs=2), "set_id", [MEASURE])
    assert "note: only 2 pair(s)" in few


@pytest.mark.parametrize("command", [
    ["compare", "--scenarios", "baseline,staffing_18", "--seeds", "2"],
    ["sweep", "--vary", "staffing_per_10k=18,30", "--replicates", "2"],
    ["staffing", "--rules", "uniform,demand", "--replicates", "2"]])
@pytest.mark.parametrize("worlds, match", [
    (["--worlds", "2"], "--worlds needs --posterior"),
    (["--posterior", "{post}"], "--posterior needs --worlds"),
    (["--posterior", "{post}", "--worlds", "0"], "0 is too small"),
    (["--posterior", "{tmp}/none.parquet", "--worlds", "2"], "not a file"),
    (["--posterior", "{bad}", "--worlds", "2"], "is a parameter the experiment varies")])
def test_bad_worlds_exit_2_with_one_line_writing_nothing(tmp_path, capsys, command, worlds,
                                                         match):
    from yanzhou_governance import cli

    post = _posterior(tmp_path / "post.parquet")
    # every command here varies staffing_per_10k (staffing: the allocation rule)
    bad = _posterior(tmp_path / "bad.parquet", staffing_per_10k=[20.0] * 4,
                     staff_allocation=["demand"] * 4)
    args = [a.format(post=post, tmp=tmp_path, bad=bad) for a in worlds]
    rc = cli.main([*command, *args, "--out", str(tmp_path / "out"), *TINY])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and match in err
    assert not (tmp_path / "out").exists()


def test_worlds_sentence_is_the_table_in_words():
    from analysis.reports.bottom import contrasts, worlds_sentence

    paired = paired_differences(HAND.assign(population=1000.0), "set_id", "a",
                                [MEASURE, "population"])  # population: no better side
    (c,) = contrasts(paired, "set_id", lambda v: f"{v} instead of a")
    assert worlds_sentence(c, [MEASURE, "population"], "post.parquet") == (
        "Across 3 plausible worlds drawn from post.parquet, b instead of a is better on "
        "resolution rate in 2 of 3 (67%): the probability, over the posterior, that it beats "
        "the reference. With fewer than 5 worlds these shares and the intervals over worlds "
        "are coarse.")
    without = paired_differences(HAND[HAND["world"] == 0].drop(columns="world"), "set_id", "a",
                                 [MEASURE])
    assert worlds_sentence(contrasts(without, "set_id", str)[0], [MEASURE], "x") == ""


def test_the_compare_report_states_the_worlds_from_its_tables(compared):
    from analysis.reports import compare
    from analysis.reports.common import short
    from model import kpis

    out, _ = compared
    page = compare.build(out)
    paired = pd.read_csv(out / "paired.csv").set_index("measure")
    assert ("plausible worlds", "2 drawn from post.parquet") in page.settings
    sentence = next(s for s in page.bottom_line if s.startswith("Across 2 plausible worlds"))
    assert "drawn from post.parquet, baseline instead of staffing_18 is better on" in sentence
    for m in kpis.leads():
        if m in paired.index and kpis.better(m):
            r = paired.loc[m]
            assert (f"{short(m)} in {int(r['worlds_better'])} of 2 "
                    f"({r['world_probability']:.0%})") in sentence
    assert any("only 2 replicate seeds" in s for s in page.bottom_line)  # seeds, not runs


def test_sweep_and_staffing_in_worlds_from_python(tmp_path):
    import experiments

    post = _posterior(tmp_path / "post.parquet")
    tiny = {"scale": 0.02, "days": 20, "warmup_days": 5}
    runs = experiments.sweep("baseline", vary={"staffing_per_10k": [18.0, 30.0]}, replicates=2,
                             fixed=tiny, out=tmp_path / "sweep", progress=False,
                             posterior=post, worlds=2)
    assert list(runs.columns[:3]) == ["set_id", "world", "replicate"]
    assert len(runs) == 2 * 2 * 2 and runs.groupby(["world", "seed"]).size().eq(2).all()
    paired = pd.read_csv(tmp_path / "sweep" / "paired.csv")
    defined = paired["pairs"] > 0  # a measure no run defines at this scale has no world
    assert paired.loc[defined, "worlds"].eq(2).all() and paired["pairs"].max() == 4
    result = experiments.compare_staffing(
        rules=["uniform", "demand"], replicates=1, scale=0.02, days=20, workers=1,
        out=tmp_path / "staffing", progress=False, reference="demand", posterior=post, worlds=2)
    assert result["runs"].tolist() == [2, 2]   # one seed in each of two worlds
    staffed = pd.read_csv(tmp_path / "staffing" / "paired.csv")
    assert set(staffed["rule"]) == {"uniform"} and set(staffed["reference"]) == {"demand"}


def test_a_reference_not_compared_is_refused(tmp_path):
    import experiments

    with pytest.raises(ParameterError, match="--reference 'optimized' is not among the rules"):
        experiments.compare_staffing(rules=["uniform", "demand"], reference="optimized",
                                     out=tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_compare_reference_not_among_the_scenarios_exits_2(tmp_path, capsys):
    from yanzhou_governance import cli

    rc = cli.main(["compare", "--scenarios", "baseline,staffing_18", "--reference", "nope",
                   "--out", str(tmp_path / "out"), *TINY])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err == ("error: --reference 'nope' is not among --scenarios; allowed: "
                               "baseline, staffing_18")
    assert not (tmp_path / "out").exists()


def test_sweep_reference_chooses_what_the_values_are_paired_against(tmp_path, capsys):
    from yanzhou_governance import cli

    out = tmp_path / "out"
    rc = cli.main(["sweep", "--vary", "staffing_per_10k=18,30", "--replicates", "2",
                   "--set", "warmup_days=5", "--reference", "staffing_per_10k=30",
                   "--out", str(out), *TINY])
    assert rc == 0
    paired = pd.read_csv(out / "paired.csv")
    assert set(paired["value"]) == {18.0} and set(paired["reference"]) == {30.0}
    assert capsys.readouterr().out.startswith(
        "set staffing_per_10k = 18.0 against staffing_per_10k = 30.0")
    rc = cli.main(["sweep", "--vary", "staffing_per_10k=18,30", "--reference",
                   "staffing_per_10k=24", "--out", str(tmp_path / "bad"), *TINY])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err == ("error: --reference staffing_per_10k=24.0: not a value of the "
                               "sweep; allowed: 18.0, 30.0")
    assert not (tmp_path / "bad").exists()


def test_the_sweep_report_pairs_against_the_chosen_reference(tmp_path):
    from analysis.reports import sweep as sweep_report
    from yanzhou_governance import cli

    out = tmp_path / "out"
    assert cli.main(["sweep", "--vary", "staffing_per_10k=18,30", "--replicates", "2",
                     "--set", "warmup_days=5", "--reference", "staffing_per_10k=30",
                     "--out", str(out), *TINY]) == 0
    page = sweep_report.build(out)
    assert "lowering staffing_per_10k from 30 to 18" in page.bottom_line[0]
    assert any("Paired differences against staffing_per_10k = 30" in s for s in page.sections)


def test_few_worlds_are_flagged_in_the_printed_table():
    from experiments.aggregate import table

    agg = aggregate(HAND.assign(set_id=HAND["set_id"].map({"a": 0, "b": 1})))
    assert agg["worlds"].tolist() == [3, 3]
    text = table(agg, [], [MEASURE])
    assert ("note: only 3 plausible world(s) in some set: the 95 % intervals, over the worlds' "
            "means, are wide; use at least 5 worlds") in text
    assert "run(s) in some parameter set" not in text


def test_worlds_drawn_with_replacement_are_said_as_draws_and_particles():
    from analysis.reports.common import worlds_source
    from experiments.aggregate import paired_text

    paired = paired_differences(HAND, "set_id", "a", [MEASURE])
    twice = [{"x": 1.0}, {"x": 2.0}, {"x": 1.0}]   # world 2 repeats world 0's particle
    first = paired_text(paired, "set_id", [MEASURE], drawn=twice).splitlines()[0]
    assert first.endswith("worlds in which it is better — the worlds are 3 draws, 2 distinct "
                          "particles):")
    distinct = [{"x": 1.0}, {"x": 2.0}, {"x": 3.0}]
    assert "draws" not in paired_text(paired, "set_id", [MEASURE], drawn=distinct)
    assert worlds_source({"posterior": "a/post.parquet", "worlds": twice}) == (
        "post.parquet (3 draws, 2 distinct particles)")
    assert worlds_source({"posterior": "a/post.parquet", "worlds": distinct}) == "post.parquet"
