"""The readings of the reports agree with the tables they summarise: every branch (clear
difference, no difference, mixed, no intervals) of every kind, on small synthetic output
directories written as the tools write them (the real aggregate writers on made-up runs), and
the bounded intervals of experiments.aggregate.mean_ci."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import run
from analysis import reports
from analysis.reports.common import short
from analysis.reports.html import measure
from experiments.aggregate import (
    FEW_REPLICATES,
    aggregate,
    group_table,
    mean_ci,
    paired_differences,
    table,
)
from model import kpis

HEADLINE = kpis.headline()

TWO_LEVELS = (18.0, 43.9)


def reading(directory: Path) -> str:
    page = reports.build_report(directory)
    block = re.search(r'<div class="reading">(.*?)</div>', page, re.S).group(1)
    return html.unescape(re.sub(r"\s*<[^>]+>\s*", " ", block).strip())


def apart(a: pd.Series, b: pd.Series, m: str) -> bool | None:
    """From the table's own numbers: whether two sets' intervals of ``m`` are apart."""
    lows, highs = (a[f"{m}_ci_low"], b[f"{m}_ci_low"]), (a[f"{m}_ci_high"], b[f"{m}_ci_high"])
    if not np.isfinite([*lows, *highs]).all():
        return None
    return bool(lows[0] > highs[1] or lows[1] > highs[0])


def value_of(m: str, row: pd.Series) -> str:
    """A mean as a reading writes it, with the count note the table implies."""
    n, runs = int(row[f"{m}_n"]), int(row["runs"])
    if n == 0:
        return "n/a (undefined in every run)"
    return measure(m, row[f"{m}_mean"]) + (f" (mean over {n} of {runs} runs)" if n < runs else "")


def items(clause: str, labels: list[str]) -> dict[str, str]:
    """'label a → b; label c → d' -> {label: 'a → b'} (labels hold digits: matched whole)."""
    out = {}
    for item in clause.split("; "):
        label = max((x for x in labels if item.startswith(x + " ")), key=len)
        out[label] = item[len(label) + 1:]
    return out


# --- mean_ci: intervals inside the measure's bounds ---------------------------------------------

UNIT = [m.key for m in kpis.MEASURES if m.bounds == kpis.UNIT_INTERVAL]
POSITIVE = [m.key for m in kpis.MEASURES if m.bounds == kpis.NON_NEGATIVE]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=2, max_size=12), st.sampled_from(UNIT))
def test_shares_keep_their_intervals_in_0_1(values, m):
    mean, lo, hi = mean_ci(np.array(values), m)
    assert mean == pytest.approx(np.mean(values))          # the plain mean
    assert 0 <= lo <= mean <= hi <= 1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0, 1e6), min_size=2, max_size=12), st.sampled_from(POSITIVE))
def test_counts_and_days_keep_their_intervals_non_negative(values, m):
    mean, lo, hi = mean_ci(np.array(values), m)
    assert 0 <= lo <= mean * (1 + 1e-12) and hi >= mean * (1 - 1e-12)


@pytest.mark.parametrize("m, draw", [
    ("property_share", lambda rng, n: rng.beta(2, 14, n)),
    ("utilisation", lambda rng, n: rng.beta(30, 10, n)),
    ("mean_days_to_close", lambda rng, n: rng.gamma(9, 0.4, n)),
])
def test_many_replicates_agree_with_the_plain_t_interval(m, draw):
    x = draw(np.random.default_rng(3), 400)
    mean, lo, hi = mean_ci(x, m)
    _, plo, phi = mean_ci(x)                                 # unbounded: plain Student t
    half = (phi - plo) / 2
    assert abs(lo - plo) < 0.05 * half and abs(hi - phi) < 0.05 * half


def test_few_replicates_near_a_bound_stay_possible():
    """The issue's example: a property share of [−22 %, 47 %] with few replicates."""
    x = np.array([0.02, 0.40, 0.05])
    assert mean_ci(x)[1] < 0 < mean_ci(x, "property_share")[1]
    assert mean_ci(np.zeros(4), "property_share") == (0.0, 0.0, 0.0)      # every run on the bound
    assert mean_ci(np.array([0.0, 0.0, 0.3]), "escalated_share")[1] > 0


def test_interval_covers_a_share_at_the_stated_rate():
    rng = np.random.default_rng(5)
    hits = sum(lo <= 0.2 <= hi for lo, hi in
               (mean_ci(rng.beta(2, 8, 8), "property_share")[1:] for _ in range(2000)))
    assert 0.92 < hits / 2000 < 0.975


# --- sweep --------------------------------------------------------------------------------------

def make_sweep(out: Path, ends: dict[str, tuple[np.ndarray, np.ndarray]], reps: int,
               fixed: dict | None = None) -> pd.DataFrame:
    """A one-parameter sweep directory (staffing_per_10k at two levels) from per-measure runs."""
    out.mkdir()
    rows = []
    for set_id, level in enumerate(TWO_LEVELS):
        for r in range(reps):
            rows.append({"set_id": set_id, "replicate": r, "seed": 100 + r, "key": f"k{set_id}{r}",
                         "status": "done", "error": None, "staffing_per_10k": level,
                         **{m: v[set_id][r] for m, v in ends.items()}})
    summary = pd.DataFrame(rows)
    summary.to_parquet(out / "summary.parquet", index=False)
    agg = aggregate(summary, ["staffing_per_10k"])           # the real writer of aggregate.csv
    agg.to_csv(out / "aggregate.csv", index=False)
    (out / "manifest.json").write_text(json.dumps({
        "model_version": "test", "scenario": "baseline", "base_seed": 2021, "replicates": reps,
        "fixed": fixed or {"scale": 0.05, "days": 60}, "varied": ["staffing_per_10k"],
        "runs": {r["key"]: {"file": f"runs/{r['key']}.parquet", "status": "done",
                            "set_id": r["set_id"], "replicate": r["replicate"], "seed": r["seed"]}
                 for r in rows}}))
    return pd.read_csv(out / "aggregate.csv")


def sweep_ends(effect: dict[str, float], reps: int, undefined: dict[str, int] | None = None):
    """Runs per measure: the lower end around 1, the upper end shifted by ``effect`` (a share
    of the value), small noise; ``undefined``: runs of the upper end where it is NaN."""
    rng = np.random.default_rng(11)
    ends = {}
    for m in HEADLINE:
        base = 0.4 if kpis.bounds(m)[1] == 1 else 4.0
        lo = base * (1 + rng.normal(0, 0.02, reps))
        hi = base * (1 + effect.get(m, 0.0) + rng.normal(0, 0.02, reps))
        hi[: (undefined or {}).get(m, 0)] = np.nan
        ends[m] = (lo, hi)
    return ends


def check_sweep(text: str, agg: pd.DataFrame) -> dict[bool | None, set[str]]:
    """Every measure is in the clause its table intervals call for, with the table's means."""
    lo, hi = agg.iloc[0], agg.iloc[1]
    expected = {k: {m for m in HEADLINE if apart(lo, hi, m) is k} for k in (True, False, None)}
    body = text.split("Raising staffing_per_10k from 18 to 43.9: ", 1)[1].split(". With only")[0]
    clauses = {True: r"clear changes \(95 % CIs do not overlap\) in (.*?)(?=; no |\.$|$)",
               False: r"no (?:clear change \(CIs overlap\) in|measure changes clearly \(all 95 % "
                      r"CIs overlap\) —) (.*?)(?=; no CIs|\.$|$)",
               None: r"no (?:CIs to compare|95 % CIs to compare) \(fewer than two runs with a "
                     r"value at an end\)(?: in| —) (.*?)\.?$"}
    labels = {short(m): m for m in HEADLINE}
    for key, pattern in clauses.items():
        found = re.search(pattern, body.rstrip("."))
        listed = items(found.group(1), list(labels)) if found else {}
        assert {labels[x] for x in listed} == expected[key], (key, body)
        for label, values in listed.items():
            m = labels[label]
            assert values == f"{value_of(m, lo)} → {value_of(m, hi)}", values
    return expected


def test_sweep_clear_difference(tmp_path):
    """The issue: 4.05 [3.74, 4.35] vs 2.02 [1.96, 2.07] days must read as a clear change."""
    agg = make_sweep(tmp_path / "s", sweep_ends(dict.fromkeys(HEADLINE, -0.5), 5), 5)
    text = reading(tmp_path / "s")
    assert check_sweep(text, agg)[True] == set(HEADLINE)
    assert "no measure changes clearly" not in text and "With only" not in text


def test_sweep_no_difference(tmp_path):
    agg = make_sweep(tmp_path / "s", sweep_ends({}, 5), 5)
    text = reading(tmp_path / "s")
    assert check_sweep(text, agg)[False] == set(HEADLINE)
    assert "no measure changes clearly (all 95 % CIs overlap)" in text


def test_sweep_mixed_with_undefined_runs(tmp_path):
    effect = {"mean_days_to_close": -0.5, "workload_per_worker": -0.6}
    undefined = {"resolution_rate": 4, "escalated_share": 5, "utilisation": 2}
    agg = make_sweep(tmp_path / "s", sweep_ends(effect, 5, undefined), 5)
    expected = check_sweep(reading(tmp_path / "s"), agg)
    assert expected[True] == set(effect) and expected[None] == {"resolution_rate", "escalated_share"}
    assert "n/a (undefined in every run)" in reading(tmp_path / "s")
    assert "(mean over 3 of 5 runs)" in reading(tmp_path / "s")        # utilisation
    assert list(agg["escalated_share_n"]) == [5, 0] and list(agg["resolution_rate_n"]) == [5, 1]


def test_sweep_no_intervals(tmp_path):
    agg = make_sweep(tmp_path / "s", sweep_ends({"mean_days_to_close": -0.5}, 1), 1)
    text = reading(tmp_path / "s")
    assert check_sweep(text, agg)[None] == set(HEADLINE)
    assert "no 95 % CIs to compare" in text and "With only 1 replicate(s) per set" in text


def test_sweep_reading_without_summary_uses_the_table(tmp_path):
    agg = make_sweep(tmp_path / "s", sweep_ends({"mean_days_to_close": -0.5}, 5), 5)
    (tmp_path / "s" / "summary.parquet").unlink()
    check_sweep(reading(tmp_path / "s"), agg)


def test_printed_table_shows_counts_and_few_replicates(tmp_path):
    agg = make_sweep(tmp_path / "s", sweep_ends({}, 3, {"escalated_share": 3, "utilisation": 1}), 3)
    text = table(agg, ["staffing_per_10k"])
    assert "n/a (undefined in every run)" in text and "(2 of 3 runs)" in text
    assert "note: only 3 run(s) in some parameter set" in text and str(FEW_REPLICATES) in text
    many = make_sweep(tmp_path / "m", sweep_ends({}, 5), 5)
    assert "note:" not in table(many, ["staffing_per_10k"]) and "runs)" not in table(many, [])


# --- compare ------------------------------------------------------------------------------------

FOCUS = ("mean_days_to_close", "resolution_rate", "mean_satisfaction",
         "disputes_per_1000_per_month", "hotline_tickets_per_10k_per_year")


def make_compare(out: Path, sets: list[tuple[str, dict[str, np.ndarray]]]) -> pd.DataFrame:
    """compare_runs.csv and compare.csv as `run.py compare` writes them (group_table)."""
    out.mkdir()
    rows = [{"set_id": i, "scenario": label, "source": "baseline", "seed": 100 + r,
             **{m: v[r] for m, v in values.items()}}
            for i, (label, values) in enumerate(sets) for r in range(len(next(iter(values.values()))))]
    runs = pd.DataFrame(rows)
    runs.to_csv(out / "compare_runs.csv", index=False)
    per_set = group_table(runs, "set_id", list(FOCUS))
    per_set.insert(1, "scenario", [sets[i][0] for i in per_set["set_id"]])
    per_set.to_csv(out / "compare.csv", index=False)
    return pd.read_csv(out / "compare.csv")


def compare_values(reps: int, shift: float = 0.0, undefined: int = 0, seed: int = 0):
    rng = np.random.default_rng(seed)
    out = {}
    for m in FOCUS:
        base = 0.5 if kpis.bounds(m)[1] == 1 else 10.0
        x = base * (1 + shift + rng.normal(0, 0.02, reps))
        x[:undefined if m == "resolution_rate" else 0] = np.nan
        out[m] = x
    return out


def check_compare(text: str, agg: pd.DataFrame) -> None:
    ref, names = agg.iloc[0], list(agg["scenario"])
    for m in FOCUS:  # the first scenario's values as in the table
        assert f"{short(m)} is {value_of(m, ref).split(' (')[0]}" in text
    for i in range(1, len(agg)):
        row = agg.iloc[i]
        part = text.split(f"Against {names[0]}, {names[i]} differs clearly (95 % CIs apart) in ")[1]
        part = part.split(" Against ")[0].split(". With only")[0].rstrip(".")
        head, *rest = part.split("; no ")
        clear = set() if head == "none of these measures" else {
            m for m in FOCUS if any(x.startswith(short(m) + " ") for x in head.split("; "))}
        assert clear == {m for m in FOCUS if apart(ref, row, m) is True}, part
        for key, prefix in ((False, "clear difference in "), (None, "CIs to compare")):
            listed = next((r for r in rest if r.startswith(prefix)), "")
            assert {m for m in FOCUS if short(m) in listed} == \
                {m for m in FOCUS if apart(ref, row, m) is key}, (key, part)


@pytest.mark.parametrize("shift, reps, undefined", [
    (0.5, 5, 0),     # clear difference in every measure
    (0.0, 5, 0),     # no difference
    (0.5, 5, 4),     # mixed: resolution rate defined in one run only
    (0.5, 1, 0),     # no intervals
])
def test_compare_readings(tmp_path, shift, reps, undefined):
    agg = make_compare(tmp_path / "c", [("baseline", compare_values(reps, seed=1)),
                                        ("staffing_18", compare_values(reps, shift, undefined, 2))])
    text = reading(tmp_path / "c")
    check_compare(text, agg)
    assert ("With only" in text) == (reps < FEW_REPLICATES)


def test_compare_keeps_sets_with_one_name_apart(tmp_path):
    agg = make_compare(tmp_path / "c", [("baseline (baseline)", compare_values(5, seed=1)),
                                        ("baseline (hi.toml)", compare_values(5, 0.5, seed=2))])
    text = reading(tmp_path / "c")
    check_compare(text, agg)
    assert "Against baseline (baseline), baseline (hi.toml) differs clearly" in text


def test_compare_cli_keeps_same_named_scenarios_apart(tmp_path, capsys):
    hi = tmp_path / "baseline_hi.toml"
    hi.write_text('name = "baseline"\nextends = "baseline"\n[params]\nstaffing_per_10k = 43.9\n')
    out = tmp_path / "out"
    assert run.main(["compare", "--scenarios", f"baseline,{hi}", "--seeds", "2", "--scale", "0.02",
                     "--days", "10", "--workers", "1", "--out", str(out), "--quiet"]) == 0
    runs, per_set = pd.read_csv(out / "compare_runs.csv"), pd.read_csv(out / "compare.csv")
    assert list(per_set["scenario"]) == ["baseline (baseline)", f"baseline ({hi})"]
    assert list(per_set["runs"]) == [2, 2] and runs.groupby("set_id").size().tolist() == [2, 2]
    for set_id, g in runs.groupby("set_id"):
        assert per_set.loc[set_id, "workload_per_worker_mean"] == pytest.approx(
            g["workload_per_worker"].mean())
    assert per_set.loc[1, "workload_per_worker_mean"] < per_set.loc[0, "workload_per_worker_mean"]
    assert f"baseline ({hi})" in reading(out)


@pytest.mark.parametrize("scenarios, words", [
    ("baseline,baseline", ["'baseline' is listed twice"]),
    ("baseline,staffing_18,model/scenario_files/baseline.toml", ["entry 3", "same parameters", "entry 1"]),
    (",", ["empty name"]),
    ("", ["empty name"]),
    ("baseline,,staffing_18", ["empty name"]),
])
def test_compare_refuses_duplicates_and_empty_lists(tmp_path, capsys, scenarios, words):
    out = tmp_path / "out"
    assert run.main(["compare", "--scenarios", scenarios, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert all(w in err for w in words), err
    assert not out.exists()                                       # refused before any run


# --- staffing -----------------------------------------------------------------------------------

def make_staffing(out: Path, days: dict[str, list[float]], undefined: dict[str, int] | None = None):
    """staffing.csv, aggregate.csv and summary.parquet from made-up runs of
    mean_days_to_close per rule."""
    out.mkdir()
    rules = list(days)
    rows = [{"set_id": i, "replicate": r, "seed": r, "key": f"{rule}{r}", "status": "done",
             "error": None, "rule": rule, "mean_days_to_close": np.nan
             if r < (undefined or {}).get(rule, 0) else v}
            for i, rule in enumerate(rules) for r, v in enumerate(days[rule])]
    pd.DataFrame(rows).to_parquet(out / "summary.parquet", index=False)
    agg = aggregate(pd.DataFrame(rows), ["rule"])
    agg.to_csv(out / "aggregate.csv", index=False)
    cols = ["mean_days_to_close_mean", "mean_days_to_close_ci_low", "mean_days_to_close_ci_high"]
    result = agg[["rule", "runs", "failed", *cols]].assign(
        total_staff_at_scale_1=598, staff_weight_population=0.0, staff_weight_demand=0.0)
    result.to_csv(out / "staffing.csv", index=False)
    reps = len(next(iter(days.values())))
    (out / "manifest.json").write_text(json.dumps({"scenario": "baseline", "replicates": reps,
                                                   "fixed": {"scale": 0.1, "days": 60}}))
    return agg.set_index("rule")


@pytest.mark.parametrize("days, verdict", [
    ({"uniform": [4.0, 4.1, 3.9, 4.05, 3.95], "proportional": [2.0, 2.1, 1.9, 2.05, 1.95]},
     "the 95 % CIs do not overlap"),
    ({"uniform": [4.0, 3.0, 5.0, 4.5, 3.5], "proportional": [3.9, 2.9, 4.9, 4.4, 3.4]},
     "the 95 % CIs overlap"),
    ({"uniform": [4.0], "proportional": [2.0]}, "no intervals to compare"),
])
def test_staffing_reading_verdicts(tmp_path, days, verdict):
    agg = make_staffing(tmp_path / "st", days)
    text = reading(tmp_path / "st")
    best, ref = agg.loc["proportional"], agg.loc["uniform"]
    assert f"proportional is best at {measure('mean_days_to_close', best['mean_days_to_close_mean'])}" \
           in text
    assert f"against {measure('mean_days_to_close', ref['mean_days_to_close_mean'])} for uniform" \
           in text
    expected = {True: "the 95 % CIs do not overlap", False: "the 95 % CIs overlap",
                None: "no intervals to compare"}[apart(best, ref, "mean_days_to_close")]
    assert verdict == expected and verdict + (",", ")")[verdict != "the 95 % CIs overlap"] in text
    assert ("With only" in text) == (len(days["uniform"]) < FEW_REPLICATES)


def test_staffing_reading_counts_and_best_uniform(tmp_path):
    make_staffing(tmp_path / "st", {"uniform": [2.0, 2.1, 1.9, 2.0, 2.1, 2.0],
                                    "proportional": [3.0, 3.1, 2.9, 3.0, 3.1, 3.0]},
                  {"uniform": 2})
    text = reading(tmp_path / "st")
    assert "uniform is best at" in text and "(mean over 4 of 6 runs)" in text
    assert "(today's uniform rule)" in text and "With only" not in text


# --- run and sensitivity ------------------------------------------------------------------------

def make_run(out: Path, tickets: float, prop: float, days: int, scale: float) -> None:
    out.mkdir()
    summary = {"scenario": "baseline", "seed": 1, "days": days, "scale": scale,
               **dict.fromkeys(kpis.kpi_keys(), 0.5), "population": 12000.0,
               "hotline_tickets_per_10k_per_year": tickets, "category_shares": {"property": prop},
               "unsatisfied_share": 0.1}
    (out / "summary.json").write_text(json.dumps(summary))


@pytest.mark.parametrize("tickets, prop, days, scale", [
    (600.0, 0.10, 365, 1.0), (700.0, 0.20, 60, 0.05), (400.0, 0.133, 365, 0.25)])
def test_run_reading(tmp_path, tickets, prop, days, scale):
    make_run(tmp_path / "r", tickets, prop, days, scale)
    text = reading(tmp_path / "r")
    rel = tickets / 588 - 1
    assert f"{tickets:,.0f} tickets per 10,000 residents per year, {abs(rel):.0%} " \
           f"{'above' if rel > 0 else 'below'} the study's 588 (F3)" in text
    assert ("within the ±10 % calibration tolerance" in text) == (abs(rel) <= 0.10)
    pts = (prop - 0.133) * 100
    assert f"{prop:.1%} of tickets, against 13.3 % in the study (F4, {abs(pts):.1f} points " \
           f"{'more' if pts > 0 else 'fewer'})" in text
    assert ("extrapolated" in text) == (days < 365) and ("per-street" in text) == (scale < 0.25)
    assert "This is one run (one seed), so it has no 95 % intervals" in text


def make_sensitivity(out: Path, st_conf: dict[str, tuple[list[float], float]], reps: int,
                     noise: dict[str, float]) -> pd.DataFrame:
    out.mkdir()
    params = ["staffing_per_10k", "patience_days", "winter_influx"]
    rows = [{"output": o, "parameter": p, "S1": v * 0.8, "S1_conf": conf, "ST": v, "ST_conf": conf}
            for o, (values, conf) in st_conf.items() for p, v in zip(params, values, strict=True)]
    pd.DataFrame(rows).to_csv(out / "indices.csv", index=False)
    pd.DataFrame([{"output": o, "seed_noise_share": s} for o, s in noise.items()]).to_csv(
        out / "noise.csv", index=False)
    (out / "manifest.json").write_text(json.dumps({"method": "sobol", "n": 64, "replicates": reps,
                                                   "problem": {"name": "p", "parameters": []}}))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("reps", [2, 5])
def test_sensitivity_reading(tmp_path, reps):
    indices = make_sensitivity(tmp_path / "sa", {
        "mean_days_to_close": ([0.6, 0.1, 0.05], 0.05),      # clearly influential
        "mean_satisfaction": ([0.08, 0.06, 0.02], 0.10),     # within its conf: not clear
    }, reps, {"mean_days_to_close": 0.05, "mean_satisfaction": 0.5})
    text = reading(tmp_path / "sa")
    for output, g in indices.groupby("output"):
        top = g.loc[g["ST"].idxmax()]
        clear = top["ST"] > top["ST_conf"]
        phrase = (f"For {short(output)}, the most influential parameter is {top['parameter']}"
                  if clear else f"For {short(output)}, no parameter is clearly influential; the "
                  f"largest is {top['parameter']}")
        assert phrase in text, (phrase, text)
    assert "Warning: seed noise is a large share of the variance of mean satisfaction (50%)" in text
    assert ("replicate seed(s)" in text) == (reps < FEW_REPLICATES)


# --- paired differences (common random numbers) -------------------------------------------------

def test_paired_differences_by_hand():
    runs = pd.DataFrame({"set_id": [0, 0, 0, 1, 1, 1, 1], "seed": [1, 2, 3, 3, 1, 2, 9],
                         "status": ["done"] * 7,
                         "mean_days_to_close": [4.0, 5.0, 6.0, 3.0, 2.0, 3.5, 1.0],
                         "property_share": [0.1, 0.2, 0.3, np.nan, 0.1, 0.1, 0.5]})
    out = paired_differences(runs, "set_id", 0, ["mean_days_to_close", "property_share"])
    days, prop = out.iloc[0], out.iloc[1]
    # seeds 1, 2, 3 are in both (seed 9 only in set 1): differences -2, -1.5, -3
    half = 4.302653 * np.std([-2, -1.5, -3], ddof=1) / np.sqrt(3)     # t(0.975, 2)
    assert days["difference"] == pytest.approx(-13 / 6)
    assert (days["ci_low"], days["ci_high"]) == pytest.approx((-13 / 6 - half, -13 / 6 + half))
    assert (days["pairs"], days["lower"], days["higher"], days["better"]) == (3, 3, 0, 3)
    assert days["better_share"] == 1.0                               # lower days is better
    assert prop["pairs"] == 2 and prop["difference"] == pytest.approx(-0.05)
    assert np.isnan(prop["better"]) and np.isnan(prop["better_share"])   # no better side
    one = paired_differences(runs[runs["seed"] != 2].query("seed != 3"), "set_id", 0,
                             ["mean_days_to_close"]).iloc[0]
    assert one["pairs"] == 1 and one["difference"] == -2 and np.isnan(one["ci_low"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.5, 50), min_size=2, max_size=10), st.floats(-5, 5))
def test_a_constant_shift_is_that_difference_with_no_width(values, shift):
    base = np.array(values)
    runs = pd.DataFrame({"set": ["a"] * len(base) + ["b"] * len(base),
                         "seed": [*range(len(base))] * 2,
                         "mean_days_to_close": [*base, *(base + shift)]})
    r = paired_differences(runs, "set", "a", ["mean_days_to_close"]).iloc[0]
    assert r["difference"] == pytest.approx(shift, abs=1e-9)
    assert r["ci_high"] - r["ci_low"] == pytest.approx(0, abs=1e-6)
    assert r["better"] == (len(base) if shift < -1e-9 else 0 if shift > 1e-9 else r["better"])


@settings(max_examples=60, deadline=None)
@given(st.integers(3, 10), st.randoms(use_true_random=False), st.floats(-3, 3))
def test_pairing_removes_a_shared_seed_effect(n, rnd, delta):
    """Seed effects ten times the noise: the paired interval is narrower than the interval of
    the difference of two independent means."""
    seed_effect = 10.0 * np.array(rnd.sample(range(n), n))
    noise = np.array([[rnd.uniform(-1, 1) for _ in range(n)] for _ in range(2)])
    a, b = seed_effect + noise[0], seed_effect + delta + noise[1]
    runs = pd.DataFrame({"set": ["a"] * n + ["b"] * n, "seed": [*range(n)] * 2,
                         "x": [*a, *b]})
    r = paired_differences(runs, "set", "a", ["x"]).iloc[0]
    independent = 2 * np.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)
    assert r["ci_high"] - r["ci_low"] < independent * 4.31 / 1.96 / 2   # even with t(2) against z
    assert r["difference"] == pytest.approx(b.mean() - a.mean())


# --- bottom lines: every number back against the runs -------------------------------------------

KEY = ("mean_days_to_close", "resolution_rate", "mean_satisfaction", "disputes_per_1000_per_month")
NUMBER = r"([-+]?[\d.,]+)"
POINTS = r"(?: percentage points)?"
SAME_SENTENCE = r"(?:(?:(?!\. ).)*?; )?"   # earlier items of a list, not past a sentence's end


def bottom(directory: Path) -> str:
    page = reports.build_report(directory)
    block = re.search(r'<div class="bottom">(.*?)</div>', page, re.S).group(1)
    return html.unescape(re.sub(r"\s*<[^>]+>\s*", " ", block).strip())


def parsed(text: str, m: str) -> dict:
    """One measure's clause of a bottom line, as numbers in the measure's units."""
    f = 100.0 if "%" in kpis.fmt(m) else 1.0

    def val(x: str) -> float:
        return float(x.replace(",", "")) / f

    label = re.escape(short(m))
    clear = re.search(rf"(raises|cuts) {label} by {NUMBER}{POINTS} \((better, |worse, )?95 % CI "
                      rf"{NUMBER} to {NUMBER}{POINTS}, (higher|lower) in (\d+) of (\d+) seeds\)", text)
    if clear:
        verb, amt, verdict, lo, hi, side, k, n = clear.groups()
        s = 1 if verb == "raises" else -1
        assert side == ("higher" if s > 0 else "lower")
        ci = sorted((s * val(lo), s * val(hi)))
        return {"kind": "clear", "d": s * val(amt), "lo": ci[0], "hi": ci[1], "k": int(k),
                "n": int(n), "verdict": (verdict or "").strip(", "), "text": clear.group(0)}
    unclear = re.search(rf"makes no clear difference to {SAME_SENTENCE}{label} \({NUMBER}{POINTS}, 95 % CI "
                        rf"{NUMBER} to {NUMBER}{POINTS}, higher in (\d+) of (\d+) seeds\)", text)
    if unclear:
        d, lo, hi, k, n = unclear.groups()
        return {"kind": "unclear", "d": val(d), "lo": val(lo), "hi": val(hi), "k": int(k),
                "n": int(n), "text": unclear.group(0)}
    single = re.search(rf"changes {SAME_SENTENCE}{label} by {NUMBER}{POINTS}(?:(?!\. ).)* on the one "
                       "seed", text)
    assert single, (m, text)
    return {"kind": "single", "d": val(single.group(1)), "n": 1}


def expected(m: str, d: np.ndarray) -> dict:
    """The paired difference from plain numpy and scipy's t: the test's own computation."""
    from scipy.stats import t

    out = {"d": d.mean(), "n": len(d)}
    if len(d) < 2:
        return {**out, "kind": "single"}
    half = t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    lo, hi = d.mean() - half, d.mean() + half
    kind = "clear" if lo > 0 or hi < 0 else "unclear"
    up = d.mean() > 0
    k = int((d > 0).sum()) if kind == "unclear" or up else int((d < 0).sum())
    verdict = "" if not kpis.better(m) else "better" if (kpis.better(m) > 0) == up else "worse"
    return {**out, "kind": kind, "lo": lo, "hi": hi, "k": k, "verdict": verdict}


def check_bottom(text: str, diffs: dict[str, np.ndarray]) -> dict[str, str]:
    """Each key measure's clause agrees with the paired differences within the rounding of
    the numbers shown; returns the kind of clause per measure."""
    kinds = {}
    for m, d in diffs.items():
        got, want = parsed(text, m), expected(m, d)
        step = 10.0 ** -int(re.search(r"\.(\d+)", kpis.fmt(m)).group(1)) / (100 if "%" in kpis.fmt(m)
                                                                              else 1)
        assert got["kind"] == want["kind"], (m, got, want)
        for key in ("d", "lo", "hi"):
            if key in got:
                assert abs(got[key] - want[key]) <= step / 2 + 1e-12, (m, key, got, want)
        for key in ("k", "n", "verdict"):
            if key in got:
                assert got[key] == want[key], (m, key, got, want)
        kinds[m] = got["kind"]
    return kinds


def paired_ends(shift: dict[str, float], reps: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Two levels on shared seeds: a large seed effect common to both, a shift (share of the
    value) at the upper level and a small noise of mean 0 across seeds (so no shift gives an
    interval around 0)."""
    wobble = np.array([1.0, -1.0, 0.5, -0.5, 0.0, 0.3, -0.3][:reps]) if reps > 1 else np.zeros(1)
    wobble -= wobble.mean()
    seeds = np.linspace(-0.2, 0.2, reps)[::-1]
    ends = {}
    for m in HEADLINE:
        base = 0.4 if kpis.bounds(m)[1] == 1 else 4.0
        lo = base * (1 + seeds)
        ends[m] = (lo, lo + base * (shift.get(m, 0.0) + 0.01 * wobble))
    return ends


BETTER = {"mean_days_to_close": -0.3, "resolution_rate": 0.2, "mean_satisfaction": 0.1,
          "disputes_per_1000_per_month": -0.2}


@pytest.mark.parametrize("shift, reps, kinds", [
    (BETTER, 5, {"clear"}),                                        # clear improvement
    ({m: -v for m, v in BETTER.items()}, 5, {"clear"}),            # clear worsening
    ({}, 5, {"unclear"}),                                          # intervals include 0
    (BETTER, 3, {"clear"}),                                        # few replicates
    (BETTER, 1, {"single"}),                                       # a single seed
])
def test_sweep_bottom_line_matches_the_runs(tmp_path, shift, reps, kinds):
    make_sweep(tmp_path / "s", paired_ends(shift, reps), reps)
    text = bottom(tmp_path / "s")
    runs = pd.read_parquet(tmp_path / "s" / "summary.parquet")
    by_seed = {lv: runs[runs["staffing_per_10k"] == lv].set_index("seed") for lv in TWO_LEVELS}
    diffs = {m: (by_seed[43.9][m] - by_seed[18.0][m]).to_numpy() for m in KEY}
    assert set(check_bottom(text, diffs).values()) == kinds, text
    assert text.startswith(f"Bottom line. With {reps} replicate seed")
    assert "raising staffing_per_10k from 18 to 43.9" in text
    verdicts = {parsed(text, m).get("verdict") for m in KEY}
    want = None if not shift or reps == 1 else "better" if shift == BETTER else "worse"
    assert verdicts == {want}
    assert ("single seed" in text) == (reps == 1)
    assert (f"only {reps} replicate seeds" in text) == (1 < reps < FEW_REPLICATES)
    assert "one or two communities" in text and "60 days from 1 January" in text   # scale 0.05
    assert "Paired differences against staffing_per_10k = 18" in reports.build_report(tmp_path / "s")


def test_sweep_bottom_line_without_caveats_at_full_scale(tmp_path):
    make_sweep(tmp_path / "s", paired_ends(BETTER, 5), 5, {"scale": 0.5, "days": 365})
    text = bottom(tmp_path / "s")
    assert "Caveat" not in text and "one or two communities" not in text


def test_compare_bottom_line_matches_the_runs(tmp_path):
    values = {m: v for m, v in compare_values(5, seed=1).items()}
    worse = {m: v * (1 + 0.3 * kpis.better(m) * -1) + 0.001 * np.array([1, -1, 0, 2, -2])
             for m, v in values.items()}
    make_compare(tmp_path / "c", [("baseline", values), ("staffing_18", worse)])
    runs = pd.read_csv(tmp_path / "c" / "compare_runs.csv")
    a, b = (runs[runs["set_id"] == i].set_index("seed") for i in (0, 1))
    text = bottom(tmp_path / "c")
    diffs = {m: (b[m] - a[m]).to_numpy() for m in KEY}
    assert set(check_bottom(text, diffs).values()) == {"clear"}
    assert {parsed(text, m)["verdict"] for m in KEY} == {"worse"}
    assert "staffing_18 instead of baseline" in text and "Caveat" not in text
    assert "Paired differences against baseline" in reports.build_report(tmp_path / "c")


def test_staffing_bottom_line_names_the_best_rule_against_uniform(tmp_path):
    days = {"uniform": [4.0, 3.0, 5.0, 4.5, 3.5], "proportional": [3.6, 2.7, 4.4, 4.2, 3.1],
            "demand": [4.1, 3.2, 5.0, 4.4, 3.6]}
    make_staffing(tmp_path / "st", days)
    text = bottom(tmp_path / "st")
    assert "Of the 3 rules, the proportional rule gives the best mean days to close." in text
    assert "the proportional rule instead of today's uniform rule" in text
    got = check_bottom(text, {"mean_days_to_close": np.subtract(days["proportional"],
                                                                days["uniform"])})
    assert got == {"mean_days_to_close": "clear"}       # the CIs side by side overlap, pairs do not
    assert "one or two communities" in text             # scale 0.1


def test_staffing_bottom_line_when_uniform_is_best(tmp_path):
    make_staffing(tmp_path / "st", {"uniform": [2.0, 2.1, 1.9], "proportional": [2.0, 2.2, 2.0]})
    text = bottom(tmp_path / "st")
    assert "today's uniform rule gives the best" in text and "the next best is the proportional" in text
    check_bottom(text, {"mean_days_to_close": np.array([0.0, 0.1, 0.1])})
    assert "only 3 replicate seeds" in text


@pytest.mark.parametrize("days, scale", [(365, 1.0), (60, 0.05)])
def test_run_bottom_line(tmp_path, days, scale):
    make_run(tmp_path / "r", 600.0, 0.1, days, scale)
    text = bottom(tmp_path / "r")
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    for m in KEY:
        assert f"{short(m)} {measure(m, summary[m])}" in text
    assert "single seed" in text
    assert ("one or two communities" in text) == (scale < 0.25)
    assert (f"{days} days from 1 January" in text) == (days < 365)


def test_sensitivity_bottom_line_in_words(tmp_path):
    make_sensitivity(tmp_path / "sa", {
        "mean_days_to_close": ([0.6, 0.1, 0.05], 0.05),      # one driver, one also, one little
        "mean_satisfaction": ([0.08, 0.06, 0.02], 0.10),     # all within conf: none drives
    }, 2, {"mean_days_to_close": 0.05, "mean_satisfaction": 0.5})
    text = bottom(tmp_path / "sa")
    assert ("What drives each output: staffing_per_10k (ST 0.6) drives mean days to close, "
            "patience_days (ST 0.1) also matters, winter_influx (ST 0.05) matters little") in text
    assert ("no parameter clearly drives mean satisfaction, staffing_per_10k (ST 0.08), "
            "patience_days (ST 0.06) and winter_influx (ST 0.02) matter little") in text
    assert "only 2 replicate seed(s)" in text and "mean satisfaction (50%)" in text


def test_sweep_bottom_line_compares_the_highest_value_whatever_the_vary_order(tmp_path, capsys):
    """--vary 30,18,24: the bottom line is 18 against 30 (not the last value given, 24)."""
    out = tmp_path / "sw"
    assert run.main(["sweep", "--vary", "staffing_per_10k=30,18,24", "--replicates", "2",
                     "--scale", "0.01", "--days", "5", "--workers", "1", "--quiet",
                     "--out", str(out)]) in (0, 1)
    text = bottom(out)
    assert "staffing_per_10k from 18 to 30" in text and "from 18 to 24" not in text, text


def test_a_zero_width_interval_from_two_seeds_is_not_a_clear_difference():
    from analysis.reports.bottom import clear

    two_equal = pd.Series({"ci_low": 2.35, "ci_high": 2.35, "pairs": 2})
    assert clear(two_equal) is False
    assert clear(pd.Series({"ci_low": 2.35, "ci_high": 2.35, "pairs": 5})) is True
    assert clear(pd.Series({"ci_low": 0.5, "ci_high": 4.0, "pairs": 2})) is True
