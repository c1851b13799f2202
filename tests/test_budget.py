"""Seasonal staff for Longqiao's winter (model/seasonal_staff.py) and the budget design
(experiments/budget.py, `run.py budget`, analysis/reports/budget.py): what a yuan buys, every
mix on the same seeds, the best mix per objective, bad input, and the report's sentences
against its tables. Model runs are small (scale 0.02-0.1, short runs)."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from helpers import URBAN_POPULATION, WINTER_INFLUX, beyond_noise

from analysis import reports
from analysis.reports import budget as report
from analysis.reports.bottom import amount
from experiments import budget
from experiments.worlds import draw_worlds
from model import GovernanceModel, kpis, scenarios
from model.vocabulary import LONGQIAO
from yanzhou_governance import cli

# --- seasonal staff -------------------------------------------------------------------------------

def test_seasonal_workers_serve_longqiao_in_the_heating_season_only():
    off = GovernanceModel(scale=0.1, days=1, warmup_days=0)
    assert not off.grid.seasonal.any()                      # none by default
    m = GovernanceModel(scale=0.1, days=1, warmup_days=0, seasonal_staff_per_10k_influx=100)
    d, g = m.district, m.grid
    winter = np.bincount(d.community[d.seasonal], minlength=d.n_communities)
    assert g.seasonal.sum() == round(100 * winter.sum() / 10_000) > 0
    assert np.all(d.community_street[g.community[g.seasonal]] == LONGQIAO)
    placed = np.bincount(g.community[g.seasonal], minlength=d.n_communities)
    assert np.abs(placed - g.seasonal.sum() * winter / winter.sum()).max() < 1  # by winter residents
    assert m.staff.sum() == off.staff.sum()                 # the permanent staff are unchanged
    # 1 January is in the heating season: they work, and count as serving in Longqiao
    assert np.all(g.case_hours[g.seasonal] > 0)
    assert g.headcount_by_street[LONGQIAO] == off.grid.headcount_by_street[LONGQIAO] + g.seasonal.sum()
    office = m.units.of("community", np.arange(d.n_communities))
    longqiao = d.community_street == LONGQIAO
    winter_hours = m.units.base_hours[office][longqiao].sum()
    m.day = 120                                             # May: the season is over
    g.follow_season()
    assert np.all(g.case_hours[g.seasonal] == 0) and np.all(g.patrol_hours[g.seasonal] == 0)
    assert m.units.base_hours[office][longqiao].sum() < winter_hours
    np.testing.assert_array_equal(g.headcount_by_street, off.grid.headcount_by_street)


def test_seasonal_staff_shorten_longqiaos_winter_waits():
    diffs = []
    for seed in range(1, 7):
        days_to_close = []
        for dose in (0.0, 100.0):
            m = GovernanceModel(seed=seed, scale=0.1, days=74, seasonal_staff_per_10k_influx=dose)
            m.run()
            days_to_close.append(kpis.value(m.summary, "longqiao_winter_days_to_close"))
        diffs.append(days_to_close[1] - days_to_close[0])
    assert beyond_noise(diffs, -1)


# --- what a yuan buys -----------------------------------------------------------------------------

def test_the_lattice_splits_the_budget_in_steps():
    mixes = budget.lattice(0.25)
    assert len(mixes) == 15 == len(set(mixes))
    assert all(min(m) >= 0 and math.isclose(sum(m), 1) for m in mixes)
    assert {round(x * 4, 9) % 1 for m in mixes for x in m} == {0}
    assert len(budget.lattice(0.5)) == 6 and budget.lattice(1) == [(1, 0, 0), (0, 1, 0), (0, 0, 1)]


def test_purchases_follow_the_stated_costs():
    p = scenarios.load("baseline").params
    yuan = 7_000_000.0
    staff = budget.purchases((1.0, 0.0, 0.0), yuan, p)
    assert staff["extra_staff"] == pytest.approx(yuan / p.worker_yuan_per_year)
    assert staff["staffing_per_10k"] == pytest.approx(
        p.staffing_per_10k + staff["extra_staff"] * 10_000 / URBAN_POPULATION)
    funding = budget.purchases((0.0, 1.0, 0.0), yuan, p)
    mean_size = (16_000 - 4_000) / math.log(16_000 / 4_000)   # log-uniform over F8's range
    assert funding["funding_per_community_yuan"] == pytest.approx(
        p.funding_per_community_yuan + yuan / (URBAN_POPULATION / mean_size))
    seasonal = budget.purchases((0.0, 0.0, 1.0), yuan, p)
    season_days = (365 - 318) + 74                           # 15 November to 15 March (F18)
    workers = yuan / (p.seasonal_worker_yuan_per_month * season_days / (365 / 12))
    assert seasonal["seasonal_workers"] == pytest.approx(workers)
    assert seasonal["seasonal_staff_per_10k_influx"] == pytest.approx(workers * 10_000 / WINTER_INFLUX)
    half = budget.purchases((0.5, 0.0, 0.5), yuan, p)        # a mix buys its shares of each
    assert half["extra_staff"] == pytest.approx(staff["extra_staff"] / 2)
    assert half["seasonal_workers"] == pytest.approx(workers / 2)


# --- the command ----------------------------------------------------------------------------------

TINY = ["--scale", "0.02", "--days", "20", "--workers", "1", "--quiet"]
YUAN = 5_000_000


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """Six mixes (step 0.5) and no extra spending on two seeds, through the command line."""
    out = tmp_path_factory.mktemp("budget") / "out"
    assert cli.main(["budget", "--budget", str(YUAN), "--step", "0.5", "--replicates", "2",
                     "--out", str(out), *TINY]) == 0
    return out


def _done(d) -> pd.DataFrame:
    runs = pd.read_parquet(d / "summary.parquet")
    return runs[runs["status"] == "done"]


def test_every_mix_runs_on_the_same_seeds_with_what_it_buys(run_dir):
    table = pd.read_csv(run_dir / "budget.csv")
    assert list(table["mix"]) == ["none", *map(budget.label, budget.lattice(0.5))]
    p = scenarios.load("baseline").params
    for mix in budget.lattice(0.5):
        row = table[table["mix"] == budget.label(mix)].iloc[0]
        for key, value in budget.purchases(mix, YUAN, p).items():
            assert row[key] == pytest.approx(value), key
    runs = _done(run_dir)
    assert runs.groupby("mix")["seed"].apply(sorted).map(tuple).nunique() == 1
    for key in budget.BOUGHT:  # the stored runs ran with the bought parameters
        ran = runs.groupby("mix")[key].first()
        np.testing.assert_allclose(ran[table["mix"]].to_numpy(), table[key].to_numpy())
    assert reports.detect(run_dir) == "budget"


def test_best_mix_and_its_differences_are_those_of_the_runs(run_dir):
    runs, best = _done(run_dir), pd.read_csv(run_dir / "best.csv")
    assert list(best["objective"]) == budget.check_objectives(budget.DEFAULT_OBJECTIVES)
    for b in best.itertuples():
        m = b.objective
        wide = runs.pivot(index="seed", columns="mix", values=m)
        means = wide.drop(columns="none").mean() * kpis.better(m)
        order = list(means.sort_values(ascending=False).index)
        assert b.best_mix == order[0] and b.runner_up == order[1]
        assert b.difference == pytest.approx((wide[order[0]] - wide["none"]).mean())
        assert b.gap == pytest.approx((wide[order[1]] - wide[order[0]]).mean())
        assert b.better == int(((wide[order[0]] - wide["none"]) * kpis.better(m) > 0).sum())
    paired = pd.read_csv(run_dir / "paired.csv")
    row = paired[(paired["mix"] == "1:0:0") & (paired["measure"] == "mean_days_to_close")].iloc[0]
    wide = runs.pivot(index="seed", columns="mix", values="mean_days_to_close")
    assert row["difference"] == pytest.approx((wide["1:0:0"] - wide["none"]).mean())


def test_report_sentences_agree_with_the_tables(run_dir):
    page = report.build(run_dir)
    table, best = pd.read_csv(run_dir / "budget.csv"), pd.read_csv(run_dir / "best.csv")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    text = " ".join(page.bottom_line)
    for b in best.itertuples():
        m = b.objective
        words = report.short(m)
        assert f"For {words}, the best of the 6 mixes is {budget.name(b.best_mix)}." in text
        lead = re.search(rf"{re.escape(budget.name(b.best_mix))} instead of no extra spending "
                         rf"[^.]*? {re.escape(words)} [(]?(?:by )?([+−-]?\d+(?:[.,]\d+)*)", text)
        shown = amount(m, abs(b.difference)) if "by" in lead.group(0).split(words)[-1] else \
            amount(m, b.difference, True)
        assert lead.group(1) == shown
        gap = re.search(rf"The runner-up, {re.escape(budget.name(b.runner_up))}, differs from it "
                        rf"by ([^ ]+) .*?95 % CI ([^ ]+) to ([^ ]+?)(?: percentage points)?\): "
                        r"(the best mix is clearly ahead|the replicates do not separate the two)",
                        text)
        assert gap.group(1) == amount(m, b.gap, True)
        assert (gap.group(2), gap.group(3)) == (amount(m, b.gap_ci_low, True),
                                                amount(m, b.gap_ci_high, True))
        apart = b.gap_ci_low > 0 or b.gap_ci_high < 0
        assert (gap.group(4) == "the best mix is clearly ahead") == apart
    assert "only 2 replicate seeds" in text
    # the reading: what the budget buys, from the costs, and each objective's range
    p = scenarios.load("baseline").params
    assert page.reading.startswith(
        f"5,000,000 yuan a year on top of today's spending buys "
        f"{YUAN / p.worker_yuan_per_year:.1f} more community workers, or "
        f"{YUAN / budget.expected_communities(p):,.0f} yuan more per community, or "
        f"{YUAN / (p.seasonal_worker_yuan_per_month * budget.season_months(p)):,.0f} seasonal "
        f"workers for Longqiao's heating season (at {p.worker_yuan_per_year:,.0f} yuan a year "
        f"per community worker, {p.seasonal_worker_yuan_per_month:,.0f} yuan a month per "
        f"seasonal worker over a heating season of {budget.season_months(p):.3g} months, and "
        f"funding spread over the {budget.expected_communities(p):.3g} communities expected at "
        "scale 1.0). Each of the 6 mixes and no extra spending ran on the same 2 seed(s) at "
        "scale 0.02 for 20 days; each mix is compared with no extra spending by paired "
        "differences.")
    assert "Mean over the replicate seeds [95 % CI]" in " ".join(page.sections)
    assert "Best by the mean over the replicate seeds; differences paired on the seed" in \
        " ".join(page.sections)
    assert manifest["budget"]["communities"] == pytest.approx(budget.expected_communities(p))
    spend = table[table["mix"] != "none"].set_index("mix")
    for m in best["objective"]:
        means = spend[f"{m}_mean"] * kpis.better(m)
        top, bottom = means.idxmax(), means.idxmin()
        assert (f"On {report.short(m)} the mixes range from "
                f"{report.measure(m, spend.loc[top, f'{m}_mean'])} ({budget.name(top)}) to "
                f"{report.measure(m, spend.loc[bottom, f'{m}_mean'])} ({budget.name(bottom)}); "
                f"no extra spending gives {report.measure(m, table[f'{m}_mean'].iloc[0])}."
                in page.reading)
    # a best mix that is the reference itself is said to be so, and not compared with itself
    own = best.assign(reference=best["best_mix"])
    said = report.bottom_line(own, [], manifest)
    assert said.count("It is the reference the other mixes are paired against.") == len(best)
    assert not any("instead of" in x for x in said)
    assert cli.main(["report", str(run_dir)]) == 0 and (run_dir / "report.html").is_file()


def test_plausible_worlds_pair_every_mix_on_world_and_seed(tmp_path):
    post = tmp_path / "post.parquet"
    pd.DataFrame({"case_rate_scale": [0.9, 1.1], "weight": [0.5, 0.5]}).to_parquet(post)
    out = tmp_path / "out"
    assert cli.main(["budget", "--budget", str(YUAN), "--mixes", "1:0:0,0:0:1", "--replicates",
                     "2", "--posterior", str(post), "--worlds", "2", "--objective",
                     "resolution_rate", "--out", str(out), *TINY]) == 0
    runs = _done(out)
    cells = runs.groupby("mix")[["world", "seed"]].apply(lambda g: sorted(map(tuple, g.to_numpy().tolist())))
    assert cells.map(tuple).nunique() == 1 and len(cells.iloc[0]) == 4
    assert sorted(runs["case_rate_scale"].round(9).unique()) == sorted(
        round(w["case_rate_scale"], 9) for w in draw_worlds(post, 2, 2021))
    paired = pd.read_csv(out / "paired.csv")
    objective = paired[paired["measure"] == "resolution_rate"]
    assert set(paired["reference"]) == {"none"} and objective["world_probability"].notna().all()
    assert set(objective["pairs"]) == {4} and set(objective["worlds"]) == {2}
    page = report.build(out)
    assert "Across 2 plausible worlds drawn from post.parquet" in " ".join(page.bottom_line)
    # the report says what the runs were: seeds in each world, paired on (world, seed)
    worlds, reps = pd.read_csv(out / "budget.csv")["worlds"], json.loads(
        (out / "manifest.json").read_text())["replicates"]
    assert set(worlds) == {2} and reps == 2
    assert ("Each of the 2 mixes and no extra spending ran on the same 2 seed(s) in each of 2 "
            "plausible worlds at scale 0.02 for 20 days; each mix is compared with no extra "
            "spending by paired differences on the same world and seed.") in page.reading
    tables = " ".join(page.sections)
    assert "Mean over the means of the 2 plausible worlds (2 seed(s) in each) [95 % CI]" in tables
    assert ("Best by the mean over the means of the 2 plausible worlds (2 seed(s) in each); "
            "differences paired on the (world, seed) pair") in tables
    assert "replicate seed(s)" not in page.reading


def test_the_reference_is_no_extra_spending_or_a_mix_compared():
    labels = ["none", "1:0:0", "0.5:0.5:0"]
    assert budget._reference(None, labels) == "none" == budget._reference("none", labels)
    assert budget._reference("0.50:0.5:0", labels) == "0.5:0.5:0"   # read as shares


@pytest.mark.parametrize("args, named", [
    (["--budget", "-5"], "--budget -5.0"),
    (["--budget", "0"], "--budget 0.0"),
    (["--budget", "1e6", "--mixes", "0.5:0.5:0.5"], "--mixes '0.5:0.5:0.5': the shares sum to 1.5"),
    (["--budget", "1e6", "--mixes", "1:0"], "--mixes '1:0'"),
    (["--budget", "1e6", "--objective", "happiness"], "--objective 'happiness': unknown objective"),
    (["--budget", "1e9", "--mixes", "0:0:1"], "seasonal_staff_per_10k_influx"),
    (["--budget", "1e6", "--mixes", "1:0:0", "--step", "0.5"], "--mixes and --step"),
    (["--budget", "1e6", "--step", "0.3"], "--step 0.3"),
    (["--budget", "1e6", "--step", "0"], "--step 0"),
    (["--budget", "1e6", "--mixes", "1:0:0", "--reference", "0:1:0"], "--reference '0:1:0'"),
])
def test_bad_input_exits_2_in_one_line_and_writes_nothing(tmp_path, capsys, args, named):
    out = tmp_path / "out"
    assert cli.main(["budget", *args, "--out", str(out), *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and named in err, err
    assert "allowed" in err or "--mixes and --step" in err
    assert not out.exists()


def test_a_tiny_step_is_refused_by_counting_the_mixes_before_building_them(tmp_path, capsys,
                                                                           monkeypatch):
    assert [budget.lattice_size(s) for s in (1, 0.5, 0.25, 0.1)] == [
        len(budget.lattice(s)) for s in (1, 0.5, 0.25, 0.1)]
    def never(step):
        raise AssertionError(f"the lattice of {step} was built")
    monkeypatch.setattr(budget, "lattice", never)
    # 1e-4: 10,001 × 10,002 / 2 mixes and no extra spending, 5 replicates each; 1e-300: 5e599
    for step, sets in (("1e-4", "50,015,002"), ("1e-300", "5.00e+599")):
        out = tmp_path / step
        assert cli.main(["budget", "--budget", "1e6", "--step", step, "--out", str(out),
                         *TINY]) == 2
        err = capsys.readouterr().err.strip()
        runs = "250,075,010" if step == "1e-4" else "2.50e+600"
        assert err == (f"error: plan of {runs} runs exceeds the limit of 1,000,000 runs (budget: "
                       f"{sets} mixes × 5 replicates); lower --replicates, raise --step or list "
                       "fewer --mixes"), err
        assert not out.exists()


@pytest.mark.parametrize("column", budget.PRICED_BY)
def test_a_world_may_not_change_what_the_budget_buys(tmp_path, capsys, column):
    p = scenarios.load("baseline").params
    post = tmp_path / "post.parquet"
    value = getattr(p, column)
    pd.DataFrame({column: [value, value], "weight": [0.5, 0.5]}).to_parquet(post)
    out = tmp_path / "out"
    assert cli.main(["budget", "--budget", "1e6", "--mixes", "1:0:0", "--posterior", str(post),
                     "--worlds", "2", "--out", str(out), *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: --posterior: column '{column}' sets what the budget buys"), err
    assert "\n" not in err and "allowed" in err and not out.exists()


def test_priced_by_holds_every_parameter_that_changes_what_a_mix_buys():
    """Each parameter in turn moved within its range: what a mix buys changes exactly when the
    parameter is one of PRICED_BY (or the bought parameter itself, whose base it raises)."""
    from dataclasses import replace

    from model.params import FIELDS, ParameterError

    p = scenarios.load("baseline").params
    mix, yuan = (0.4, 0.3, 0.3), 1e6

    def bought(q):
        got = budget.purchases(mix, yuan, q)
        return [got[k] - getattr(q, k) if k in budget.BOUGHT else got[k] for k in got]

    before, moves = bought(p), set()
    for key, f in FIELDS.items():
        value = getattr(p, key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
        other = value * 1.1 + 1 if hi is None or value * 1.1 + 1 <= hi else (value + (lo or 0)) / 2
        try:
            q = replace(p, **{key: type(value)(other)})
        except ParameterError:
            continue
        if bought(q) != before:
            moves.add(key)
    assert moves == set(budget.PRICED_BY)


def test_no_mix_with_a_value_is_said_in_one_line(run_dir, tmp_path, capsys, monkeypatch):
    """All runs failed (or none gave a value): best.csv has no best mix; the command says so."""
    result = pd.read_csv(run_dir / "budget.csv")
    blank = result.assign(**{c: np.nan for c in result if c.startswith("resolution_rate_")})
    out = tmp_path / "out"

    def compare(*args, **kwargs):
        out.mkdir()
        for name in ("paired.csv", "manifest.json"):  # what a real run leaves besides best.csv
            (out / name).write_text((run_dir / name).read_text())
        best = budget.best_mixes(_done(run_dir), blank, ["resolution_rate"], "none")
        best.to_csv(out / "best.csv", index=False)
        return blank

    monkeypatch.setattr(budget, "compare_budget", compare)
    assert cli.main(["budget", "--budget", "1e6", "--objective", "resolution_rate", "--out",
                     str(out), *TINY]) == 0
    said = capsys.readouterr().out
    assert f"no mix has a value for {kpis.label('resolution_rate')}" in said
    assert "best on resolution_rate" not in said

