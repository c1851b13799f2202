"""Which assumptions decide the ranking (issue 14 part 4): PRIM on the plausible worlds
(analysis/scenario_discovery.py, `run.py discover`, its report). Most tests read constructed
experiment directories where the truth is known; one runs a tiny comparison in 10 worlds."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.scenario_discovery import (
    FEW_LOSING,
    MAX_LIMITS,
    MIN_WORLDS,
    QP_LIMIT,
    discover,
    read,
    sentences,
)
from yanzhou_governance import cli

MEASURE = "mean_days_to_close"   # lower is better (model/kpis.py)
CUT = 1.2


def _compare_dir(d: Path, loses, n: int = 60, seed: int = 5, seeds=(11, 12),
                 noise: int = 0) -> Path:
    """A compare directory as `compare --posterior --worlds` writes it (the files discover
    reads), with n worlds of three parameters (and ``noise`` more, named p0, p1, ...); A's
    days to close are 1 day above B's where ``loses(world)`` and 0.5 below elsewhere, plus
    seed noise far smaller than that."""
    rng = np.random.default_rng(seed)
    worlds = [{"case_rate_scale": float(x), "case_time_share": float(y), "patience_days": float(z)}
              for x, y, z in zip(rng.uniform(0.6, 1.6, n), rng.uniform(0.25, 0.5, n),
                                 rng.uniform(5, 30, n), strict=True)]
    for world in worlds:
        world.update({f"p{i}": float(v) for i, v in enumerate(rng.random(noise))})
    rows = []
    for w, world in enumerate(worlds):
        shift = 1.0 if loses(world) else -0.5
        for s in seeds:
            rows += [{"set_id": 0, "scenario": "A", "world": w, "seed": s,
                      MEASURE: 3.0 + shift + rng.normal(0, 0.05), "population": 5000.0},
                     {"set_id": 1, "scenario": "B", "world": w, "seed": s,
                      MEASURE: 3.0 + rng.normal(0, 0.05), "population": 5000.0}]
    d.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(d / "compare_runs.csv", index=False)
    pd.DataFrame({"set_id": [0, 1], "scenario": ["A", "B"], "runs": [len(rows) // 2] * 2}
                 ).to_csv(d / "compare.csv", index=False)
    (d / "worlds.json").write_text(json.dumps({"posterior": "post.parquet", "worlds": worlds}))
    return d


def _above_cut(world):
    return world["case_rate_scale"] > CUT


def check_sentences_against_table(out: Path) -> list[str]:
    """Every sentence of a discovery directory, checked against discovery.csv and the boxes
    in discovery.json: counts, shares, limits; the report shows the same sentences."""
    disc = read(out)
    t, s = disc.table, disc.setup
    said = sentences(disc)
    assert said == json.loads((out / "discovery.json").read_text())["sentences"]
    n, losing = len(t), int((~t["a_beats_b"]).sum())
    # the outcome is the sign of the mean paired difference, by the measure's direction
    assert (t["a_beats_b"] == (s["better"] * t["difference"] > 0)).all()
    a, b = s["policy"], s["against"]
    if losing == 0:
        assert said[0].startswith(f"{a} beats {b} on ") and f"in all the {n} plausible" in said[0]
        assert "nothing to discover" in said[0] and not disc.boxes
    elif losing == n:
        assert said[0].startswith(f"{a} loses to {b} on ") and f"in all the {n} plausible" in said[0]
    else:
        overall = next(x for x in said if x.startswith("Across"))
        assert f"the {n} plausible worlds" in overall
        assert f"loses to {b} on" in overall and f"in {losing} ({losing / n:.0%})" in overall
        if not disc.boxes:
            assert any(x.startswith(f"PRIM finds no box of at most {MAX_LIMITS} parameters with "
                                    f"density of at least {s['threshold']:.0%}") for x in said)
            assert (t["box"] == 0).all()
        else:
            assert said[0].startswith(f"{a} beats {b} on ") and " unless " in said[0]
        for bx in disc.boxes:
            inside = t[t["box"] == bx["box"]]
            lost = int((~inside["a_beats_b"]).sum())
            assert bx["density"] == pytest.approx(lost / len(inside))
            assert bx["coverage"] == pytest.approx(lost / losing)
            assert (f"holds {len(inside)} worlds" in " ".join(said)
                    and f"loses in {lost} of them (density {bx['density']:.0%}), which are {lost} "
                    f"of the {losing} worlds where it loses (coverage {bx['coverage']:.0%})"
                    in " ".join(said))
            # the stated limits hold exactly the box's worlds (among those outside earlier boxes)
            within = np.ones(len(t), bool)
            for name, (low, high) in bx["limits"].items():
                assert (f"{name} > {low:.3g}" if high is None else f"{name} < {high:.3g}"
                        if low is None else f"{low:.3g} < {name} < {high:.3g}") in said[0]
                within &= (t[name] >= (low if low is not None else -np.inf)).to_numpy()
                within &= (t[name] <= (high if high is not None else np.inf)).to_numpy()
            free = (t["box"] == 0) | (t["box"] >= bx["box"])
            assert ((t["box"] == bx["box"]) == (within & free)).all()
            few = f"Box {bx['box']} rests on {lost} losing world(s)"
            assert any(x.startswith(few) for x in said) == (lost < FEW_LOSING)
            weak = [n for n, sides in bx["qp"].items()
                    if max(v for v in sides if v is not None) > QP_LIMIT]
            assert any(x.startswith(f"Box {bx['box']}'s limit on {' and on '.join(weak)} is not "
                                    "significant") for x in said) == bool(weak)
    return said


def _discover(args: list[str], capsys) -> tuple[int, str, str]:
    rc = cli.main(["discover", *args])
    out, err = capsys.readouterr()
    return rc, out, err


# --- the truth is known ----------------------------------------------------------------------

def test_prim_finds_the_parameter_limit_where_the_ranking_flips(tmp_path, capsys):
    exp = _compare_dir(tmp_path / "exp", _above_cut)
    rc, printed, _ = _discover([str(exp), "--policy", "A", "--against", "B",
                                "--out", str(tmp_path / "d")], capsys)
    assert rc == 0
    disc = read(tmp_path / "d")
    (box,) = disc.boxes
    assert list(box["limits"]) == ["case_rate_scale"]          # the other two do not matter
    low, high = box["limits"]["case_rate_scale"]
    assert high is None and abs(low - CUT) < 0.06              # near the truth
    t = disc.table
    # between the last winning world below the cut and the first losing one above it, at most
    # one winning world further down
    assert low <= t.loc[t["case_rate_scale"] > CUT, "case_rate_scale"].min()
    assert box["coverage"] == 1.0 and box["density"] >= 0.9
    said = check_sentences_against_table(tmp_path / "d")
    assert said[0] == f"A beats B on mean days to close unless case_rate_scale > {low:.3g}."
    assert printed.splitlines()[: len(said)] == said


def test_two_assumptions_together_make_one_box_with_both_limits(tmp_path):
    exp = _compare_dir(tmp_path / "exp", lambda w: w["case_rate_scale"] > CUT
                       and w["patience_days"] < 15, n=80, seed=0)
    disc = discover(exp, "A", "B")
    (box,) = disc.boxes
    assert set(box["limits"]) == {"case_rate_scale", "patience_days"}
    assert abs(box["limits"]["case_rate_scale"][0] - CUT) < 0.06
    assert abs(box["limits"]["patience_days"][1] - 15) < 1.5
    assert box["coverage"] == 1.0 and box["density"] == 1.0


def test_two_separate_regions_make_two_boxes_read_as_or(tmp_path):
    exp = _compare_dir(tmp_path / "exp", lambda w: w["case_rate_scale"] > 1.4
                       or w["patience_days"] < 10, n=80, seed=1)
    assert cli.main(["discover", str(exp), "--policy", "A", "--against", "B", "--out",
                     str(tmp_path / "d")]) == 0
    disc = read(tmp_path / "d")
    first, second = disc.boxes
    assert list(first["limits"]) == ["case_rate_scale"] and list(second["limits"]) == ["patience_days"]
    assert abs(first["limits"]["case_rate_scale"][0] - 1.4) < 0.06
    assert abs(second["limits"]["patience_days"][1] - 10) < 1.5
    said = check_sentences_against_table(tmp_path / "d")
    assert ", or patience_days < " in said[0]
    assert "(outside the boxes before it)" in said[3]


def test_a_box_around_few_losing_worlds_says_so(tmp_path):
    exp = _compare_dir(tmp_path / "exp", lambda w: w["case_rate_scale"] > 1.5, n=30, seed=2)
    assert cli.main(["discover", str(exp), "--policy", "A", "--against", "B", "--out",
                     str(tmp_path / "d")]) == 0
    (box,) = read(tmp_path / "d").boxes
    assert box["losing"] < FEW_LOSING
    said = check_sentences_against_table(tmp_path / "d")
    assert f"Box 1 rests on {box['losing']} losing world(s): it describes them" in " ".join(said)


@pytest.mark.parametrize("loses, outcome, first", [
    (lambda w: False, "no_loss", "A beats B on mean days to close in all the 60 plausible worlds "
     "(each a mean over 2 seeds): the ranking never flips, so there is nothing to discover."),
    (lambda w: True, "all_loss", "A loses to B on mean days to close in all the 60 plausible "
     "worlds (each a mean over 2 seeds): no range of the parameters makes A the better policy, "
     "so there is nothing to discover.")])
def test_nothing_to_discover_is_said_plainly(tmp_path, capsys, loses, outcome, first):
    exp = _compare_dir(tmp_path / "exp", loses)
    rc, printed, _ = _discover([str(exp), "--policy", "A", "--against", "B",
                                "--out", str(tmp_path / "d")], capsys)
    assert rc == 0 and printed.splitlines()[0] == first
    assert json.loads((tmp_path / "d" / "discovery.json").read_text())["outcome"] == outcome
    check_sentences_against_table(tmp_path / "d")
    assert cli.main(["report", str(tmp_path / "d")]) == 0


def test_no_box_meeting_the_thresholds_is_said_plainly(tmp_path, capsys):
    coin = np.random.default_rng(9).random(40) < 0.5    # losing worlds unrelated to parameters
    exp = _coin_dir(tmp_path / "exp", coin)
    rc, printed, _ = _discover([str(exp), "--policy", "A", "--against", "B", "--threshold", "1",
                                "--min-coverage", "1", "--out", str(tmp_path / "d")], capsys)
    assert rc == 0
    said = check_sentences_against_table(tmp_path / "d")
    assert said[1].startswith("PRIM finds no box of at most 3 parameters with density of at "
                              "least 100% and coverage of at least 100%: no ranges of "
                              "case_rate_scale, case_time_share, patience_days set apart the "
                              "worlds where A loses: they are scattered")
    assert said[-1].startswith("Only 40 worlds")


def _coin_dir(d: Path, coin: np.ndarray, noise: int = 0) -> Path:
    """Losing worlds drawn by a coin, whatever their parameters."""
    order = iter(coin)
    return _compare_dir(d, lambda w: bool(next(order)), n=len(coin), noise=noise)


def test_many_parameters_and_few_worlds_give_no_box_of_many_limits(tmp_path):
    """With 12 parameters and 30 worlds PRIM can wrap any handful of worlds in a box of five
    or six limits; such a box is not taken."""
    coin = np.random.default_rng(3).random(30) < 0.2
    exp = _coin_dir(tmp_path / "exp", coin, noise=9)
    assert cli.main(["discover", str(exp), "--policy", "A", "--against", "B", "--out",
                     str(tmp_path / "d")]) == 0
    disc = read(tmp_path / "d")
    assert all(len(bx["limits"]) <= MAX_LIMITS for bx in disc.boxes)
    assert (disc.trajectory["res_dim"] > MAX_LIMITS).any()   # PRIM went further than that
    check_sentences_against_table(tmp_path / "d")


def test_the_report_says_what_the_command_said(tmp_path):
    exp = _compare_dir(tmp_path / "exp", _above_cut)
    assert cli.main(["discover", str(exp), "--policy", "A", "--against", "B", "--out",
                     str(tmp_path / "d")]) == 0
    assert cli.main(["report", str(tmp_path / "d")]) == 0
    page = (tmp_path / "d" / "report.html").read_text()
    for sentence in json.loads((tmp_path / "d" / "discovery.json").read_text())["sentences"]:
        assert html.escape(sentence) in page
    assert "data:image/png;base64," in page
    disc = read(tmp_path / "d")
    box = disc.boxes[0]
    assert re.search(rf"<td>case_rate_scale &gt; {box['limits']['case_rate_scale'][0]:.3g}</td>",
                     page)
    won = int(disc.table["a_beats_b"].sum())
    assert f"For each of the {len(disc.table)} plausible worlds of exp, whether A beats B" in page
    assert re.search(rf"<td>the policy wins</td><td[^>]*>{won}</td>", page)
    assert re.search(rf"<td>the policy does not win</td><td[^>]*>{len(disc.table) - won}</td>", page)
    # a rerun replaces the outputs and removes the report of the earlier discovery
    assert cli.main(["discover", str(exp), "--policy", "B", "--against", "A", "--out",
                     str(tmp_path / "d")]) == 0
    assert not (tmp_path / "d" / "report.html").exists()
    assert read(tmp_path / "d").setup["policy"] == "B"


# --- bad input -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    return _compare_dir(tmp_path_factory.mktemp("exp") / "exp", _above_cut)


@pytest.mark.parametrize("args, match", [
    (["--policy", "C", "--against", "B"], "--policy 'C' is not a policy of"),
    (["--policy", "A", "--against", "a"], "--against 'a' is not a policy"),
    (["--policy", "A", "--against", "A"], "are the same policy"),
    (["--policy", "A", "--against", "B", "--measure", "speed"], "--measure 'speed' is not a measure"),
    (["--policy", "A", "--against", "B", "--measure", "population"], "has no better direction"),
    (["--policy", "A", "--against", "B", "--threshold", "0"], "--threshold 0.0"),
    (["--policy", "A", "--against", "B", "--min-coverage", "1.5"], "--min-coverage 1.5"),
    (["--policy", "A"], "the following arguments are required: --against")])
def test_bad_input_exits_2_in_one_line_writing_nothing(experiment, tmp_path, capsys, args, match):
    rc, _, err = _discover([str(experiment), *args, "--out", str(tmp_path / "d")], capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1 and match in err
    assert not (tmp_path / "d").exists()


def test_a_directory_without_enough_worlds_is_refused(tmp_path, capsys):
    few = _compare_dir(tmp_path / "few", _above_cut, n=MIN_WORLDS - 1)
    none = _compare_dir(tmp_path / "none", _above_cut, n=MIN_WORLDS)
    (none / "worlds.json").unlink()
    for d, match in ((few, f"has {MIN_WORLDS - 1} world(s) in which A and B both have a value of "
                      f"{MEASURE}; PRIM needs at least {MIN_WORLDS}"),
                     (none, "has no plausible worlds"),
                     (tmp_path / "missing", "is not a directory"),
                     (tmp_path, "is not an output directory")):
        rc, _, err = _discover([str(d), "--policy", "A", "--against", "B",
                                "--out", str(tmp_path / "d")], capsys)
        assert rc == 2 and len(err.strip().splitlines()) == 1 and match in err, err
        assert not (tmp_path / "d").exists()
    # nor into the experiment's own directory, which holds another command's outputs
    rc, _, err = _discover([str(none), "--policy", "A", "--against", "B", "--out", str(few)],
                           capsys)
    assert rc == 2 and "holds the outputs of `compare`" in err


def test_sweep_policies_are_named_key_value(tmp_path):
    """A sweep's sets are its policies, named KEY=VALUE in any spelling the schema takes."""
    exp = _compare_dir(tmp_path / "exp", _above_cut, n=MIN_WORLDS)
    runs = pd.read_csv(exp / "compare_runs.csv")
    runs = runs.assign(staffing_per_10k=runs["scenario"].map({"A": 18.0, "B": 24.5}),
                       status="done").drop(columns="scenario")
    d = tmp_path / "sweep"
    d.mkdir()
    runs.to_parquet(d / "summary.parquet")
    pd.DataFrame({"set_id": [0, 1], "runs": [1, 1]}).to_csv(d / "aggregate.csv", index=False)
    (d / "manifest.json").write_text(json.dumps({
        "varied": ["staffing_per_10k"], "posterior": "post.parquet",
        "worlds": json.loads((exp / "worlds.json").read_text())["worlds"]}))
    disc = discover(d, "staffing_per_10k=18", "staffing_per_10k=24.50")
    assert (disc.setup["policy"], disc.setup["against"]) == ("staffing_per_10k=18",
                                                            "staffing_per_10k=24.5")
    assert disc.table["a_beats_b"].tolist() == discover(exp, "A", "B").table["a_beats_b"].tolist()


# --- end to end: a tiny comparison in plausible worlds ---------------------------------------

def test_compare_in_plausible_worlds_end_to_end(tmp_path, capsys):
    k = MIN_WORLDS
    rng = np.random.default_rng(4)
    post = tmp_path / "post.parquet"
    pd.DataFrame({"case_rate_scale": rng.uniform(0.6, 1.6, 30),
                  "case_time_share": rng.uniform(0.25, 0.5, 30),
                  "weight": np.ones(30)}).to_parquet(post)
    assert cli.main(["compare", "--scenarios", "baseline,staffing_18", "--seeds", "1",
                     "--set", "warmup_days=5", "--scale", "0.02", "--days", "20", "--workers",
                     "1", "--quiet", "--posterior", str(post), "--worlds", str(k), "--out",
                     str(tmp_path / "cmp")]) == 0
    capsys.readouterr()
    rc, printed, _ = _discover([str(tmp_path / "cmp"), "--policy", "baseline", "--against",
                                "staffing_18", "--measure", "resolution_rate", "--out",
                                str(tmp_path / "d")], capsys)
    assert rc == 0
    said = check_sentences_against_table(tmp_path / "d")
    assert printed.splitlines()[: len(said)] == said
    # each world's difference is the paired one from the runs, mean over its seeds
    runs = pd.read_csv(tmp_path / "cmp" / "compare_runs.csv")
    wide = runs.pivot_table(index=["world", "seed"], columns="scenario", values="resolution_rate")
    expected = (wide["baseline"] - wide["staffing_18"]).groupby(level="world").mean().dropna()
    table = read(tmp_path / "d").table.set_index("world")
    assert len(table) == len(expected) == k
    assert np.allclose(table["difference"], expected.loc[table.index])
    worlds = json.loads((tmp_path / "cmp" / "worlds.json").read_text())["worlds"]
    assert np.allclose(table["case_rate_scale"], [worlds[w]["case_rate_scale"] for w in table.index])
    assert cli.main(["report", str(tmp_path / "d")]) == 0


def test_settings_record_the_method_constants_and_non_numeric_columns(tmp_path):
    from analysis.scenario_discovery import FEW_WORLDS, condition, write

    exp = _compare_dir(tmp_path / "exp", _above_cut, n=10)
    meta = json.loads((exp / "worlds.json").read_text())
    for w, world in enumerate(meta["worlds"]):   # a text column that varies, one that does not
        world.update({"staff_allocation": ["demand", "population"][w % 2], "label": "x"})
    # with --replace: every particle drawn twice (worlds 10..19 repeat worlds 0..9)
    meta["worlds"] += meta["worlds"]
    runs = pd.read_csv(exp / "compare_runs.csv")
    pd.concat([runs, runs.assign(world=runs["world"] + 10)]).to_csv(exp / "compare_runs.csv",
                                                                    index=False)
    (exp / "worlds.json").write_text(json.dumps({**meta, "replace": True}))
    disc = discover(exp, "A", "B")
    s = disc.setup
    assert s["not_numeric"] == ["staff_allocation"] and s["constant"] == ["label"]
    assert {k: s["prim"][k] for k in ("max_limits", "quasi_p_limit", "min_worlds", "few_worlds",
                                      "few_losing")} == {
        "max_limits": MAX_LIMITS, "quasi_p_limit": QP_LIMIT, "min_worlds": MIN_WORLDS,
        "few_worlds": FEW_WORLDS, "few_losing": FEW_LOSING}
    assert s["particles"] == 10
    assert "the 20 plausible worlds (each a mean over 2 seeds; 20 draws, 10 distinct particles)" \
        in " ".join(sentences(disc))
    # the report reads the quasi-p limit from the settings it was found with
    out = write(disc, tmp_path / "d")
    record = json.loads((out / "discovery.json").read_text())
    record["prim"]["quasi_p_limit"] = 0.2
    (out / "discovery.json").write_text(json.dumps(record))
    assert cli.main(["report", str(out)]) == 0
    page = html.unescape((out / "report.html").read_text())
    assert "(above 0.2 the limit may be noise)" in page
    assert re.search(r"not numeric, not used by PRIM</td><td[^>]*>staff_allocation<", page)
    assert [condition("", lim) for lim in ([1, None], [None, 2], [1, 2])] == ["> 1", "< 2",
                                                                             "1 to 2"]
