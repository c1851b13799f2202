"""Reports on an ABC calibration (`calibrate --method abc`) and a validation (`validate`): the
pages are built from synthetic directories whose numbers are chosen to reach every sentence
of the readings, and each sentence is checked against the table it summarises; a tiny real
run of each command makes a page too; damaged directories exit 2 in one line."""

from __future__ import annotations

import base64
import json
import re
import shutil
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_report import DATA_URI, Balance, make_png

import run
from analysis import reports
from analysis.reports import calibration
from analysis.reports.html import PNG_MAGIC, num
from model import validation
from model.abc_calibration import TruncatedRV, observed
from model.params import FIELDS, PRIORS

# --- helpers ------------------------------------------------------------------------------------


def page_of(d: Path) -> str:
    """The report on ``d``, checked for balanced markup and no links elsewhere."""
    page = reports.build_report(d)
    parser = Balance()
    parser.feed(page)
    assert not parser.errors and not parser.stack, (parser.errors, parser.stack)
    assert not re.search(r"""(src|href)\s*=\s*["']?https?://""", page)
    return page


def points(page: str) -> list[str]:
    """The reading's lead and points, one string each, as plain text."""
    block = re.search(r'<div class="reading">(.*?)</div>', page, re.S).group(1)
    return [unescape(re.sub(r"<[^>]+>", "", p)).strip()
            for p in re.findall(r"<(?:p|li)>(.*?)</(?:p|li)>", block, re.S)]


def bottom(page: str) -> str:
    block = re.search(r'<div class="bottom">(.*?)</div>', page, re.S).group(1)
    return unescape(re.sub(r"<[^>]+>", "", block)).strip().removeprefix("Bottom line. ")


def rows_of(page: str, header: str) -> list[list[str]]:
    """The body rows of the table whose first header cell is ``header``, as plain text."""
    for t in re.findall(r"<table>.*?</table>", page, re.S):
        heads = [unescape(re.sub(r"<[^>]+>", "", h)) for h in re.findall(r"<th>(.*?)</th>", t)]
        if heads and heads[0] == header:
            body = t.split("<tbody>")[1]
            return [[" ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split())
                     for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
                    for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    raise AssertionError(f"no table headed {header!r}")


def embedded_pngs(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in
            re.findall(re.escape(DATA_URI) + r"([A-Za-z0-9+/=]+)", page)]


def refused(d: Path, capsys) -> str:
    """`report d` exits 2 with one line and writes nothing; the line."""
    capsys.readouterr()
    assert run.main(["report", str(d)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0], err
    assert not (d / "report.html").exists()
    return err[0]


# --- ABC: a synthetic directory -----------------------------------------------------------------

# width of each parameter's 90 % posterior interval over its prior's: one of each reading
RATIOS = {"case_rate_scale": 0.3, "fee_collection_slope": 0.65, "patience_days": 0.95,
          "hotline_propensity": 1.2}
FALLING = [0.6, 0.3, 0.2]


def make_abc_dir(out: Path, ratios: dict[str, float] = RATIOS, epsilons: list[float] = FALLING,
                 ess: float = 36.6, particles: int = 100, days: int = 365,
                 extra: dict | None = None) -> Path:
    """An ABC output directory by the contract of `calibrate --method abc`, by hand: each
    parameter's posterior interval is ``ratios[name]`` times its truncated prior's width."""
    out.mkdir(parents=True)
    params = {}
    for name, ratio in ratios.items():
        rv = TruncatedRV(name)
        lo, hi, mid = rv.ppf(0.05), rv.ppf(0.95), rv.ppf(0.5)
        half = ratio * (hi - lo) / 2
        params[name] = {"mean": mid, "ci90": [mid - half, mid + half], "prior": list(PRIORS[name]),
                        "range": [FIELDS[name].metadata["lo"], FIELDS[name].metadata["hi"]]}
    config = {"params": list(ratios), "particles": particles, "scale": 0.1, "days": days,
              "seed": 77}
    (out / "abc_config.json").write_text(json.dumps(config))
    summary = {**config, "generations": len(epsilons), "observed": observed(),
               "parameters": params, "wall_time_seconds": 321.5, "total_simulations": 1234,
               **(extra or {})}
    (out / "abc_summary.json").write_text(json.dumps(summary))
    n = len(epsilons)
    pd.DataFrame({"generation": range(1, n + 1), "epsilon": epsilons,
                  "acceptance_rate": np.linspace(0.5, 0.2, n),
                  "effective_sample_size": [float(particles)] * (n - 1) + [ess],
                  "simulations": [400] * n, "particles": [particles] * n}
                 ).to_csv(out / "convergence.csv", index=False)
    rng = np.random.default_rng(1)
    post = pd.DataFrame({name: rng.normal(p["mean"], 0.1, particles) for name, p in params.items()})
    post.assign(weight=1 / particles).to_parquet(out / "posterior.parquet")
    (out / "abc.db").write_bytes(b"")
    for name in ("posterior_marginals.png", "posterior_pairs.png"):
        make_png(out / name)
    return out


@pytest.fixture(scope="module")
def abc_dir(tmp_path_factory) -> Path:
    return make_abc_dir(tmp_path_factory.mktemp("report") / "abc")


def test_an_abc_directory_is_recognised(abc_dir):
    assert reports.detect(abc_dir) == "calibrate"
    assert "calibrate (abc_config.json, from `python run.py calibrate --method abc`)" \
        in reports.recognised()


def test_abc_page_shows_settings_observed_statistics_and_figures(abc_dir):
    page = page_of(abc_dir)
    assert "<h1>ABC calibration: 4 parameters, 100 particles, 3 generations</h1>" in page
    assert points(page)[0] == ("ABC-SMC of 4 parameter(s) against tickets per 10,000 (F3), "
                               "property share (F4), property leading (F4): 100 particles per "
                               "generation, 3 generation(s), 1234 simulations at scale 0.1 for "
                               "365 days each.")
    for key, value in (("parameters calibrated", ", ".join(RATIOS)),
                       ("particles per generation", "100"), ("generations", "3"),
                       ("simulations", "1234"), ("seed", "77"), ("days per simulation", "365"),
                       ("wall time of the command that wrote it (s)", "321.5")):
        assert re.search(rf">{re.escape(key)}</td><td[^>]*>{value}<", page), key
    observed_rows = {r[0]: r for r in rows_of(page, "statistic")}
    assert observed_rows["tickets_per_10k"][2:] == ["588", "F3"]
    assert observed_rows["property_share"][2:] == ["0.133", "F4"]
    assert observed_rows["property_shortfall"][2] == "0"
    assert "<li>F3: 31,838 hotline tickets" in page      # the study's codes are explained
    pngs = embedded_pngs(page)
    assert len(pngs) == 2 and all(p.startswith(PNG_MAGIC) for p in pngs)
    conv = rows_of(page, "generation")
    assert [r[1] for r in conv] == [num(e) for e in FALLING] and conv[-1][3] == "36.6"


def test_abc_prior_intervals_are_the_truncated_priors():
    """The prior's 90 % interval is computed, not restated: lognormal(0, 0.5) on [0, 100]
    is scipy's lognormal to the precision shown, beta(3, 7) likewise."""
    record = {"ci90": [1.0, 1.2], "mean": 1.1, "prior": list(PRIORS["case_rate_scale"]),
              "range": [FIELDS["case_rate_scale"].metadata[k] for k in ("lo", "hi")]}
    p = calibration.parameter("case_rate_scale", record)
    assert p.prior_interval == pytest.approx(stats.lognorm(s=0.5).ppf([0.05, 0.95]), rel=1e-4)
    assert p.ratio == pytest.approx(0.2 / np.diff(p.prior_interval)[0])


def test_abc_parameter_table_and_reading_agree(abc_dir):
    """Each parameter's width ratio in the table is its interval's width over its prior's,
    its reading follows the thresholds, and the reading names it in that group only."""
    page = page_of(abc_dir)
    summary = json.loads((abc_dir / "abc_summary.json").read_text())
    sentences = points(page)
    groups = {"identified": "The data identify ", "partly narrowed": "Partly narrowed ",
              "close to the prior": "Close to the prior "}
    table = rows_of(page, "parameter")
    assert [r[0] for r in table] == list(RATIOS)
    for name, prior, _, prior_ci, mean, post_ci, ratio, verdict in table:
        record = summary["parameters"][name]
        assert post_ci == f"[{num(record['ci90'][0])}, {num(record['ci90'][1])}]"
        assert mean == num(record["mean"])
        kind, a, b = record["prior"]
        assert prior.startswith(f"{kind}(")
        low, high = (float(x) for x in prior_ci.strip("[]").split(","))
        width = record["ci90"][1] - record["ci90"][0]
        assert float(ratio) == pytest.approx(width / (high - low), rel=0.02)
        assert float(ratio) == pytest.approx(RATIOS[name], rel=1e-3)
        expected = ("identified" if float(ratio) < 0.5 else "close to the prior"
                    if float(ratio) >= 0.8 else "partly narrowed")
        assert verdict == expected
        named = [s for s in sentences if f"{name} ({ratio})" in s]
        assert len(named) == 1 and named[0].startswith(groups[verdict]), (name, named)
    close = next(s for s in sentences if s.startswith("Close to the prior"))
    assert "(hotline_propensity: wider than the prior's own interval)" in close
    assert "patience_days: wider" not in close
    line = bottom(page)
    assert line.startswith("The observed statistics identify case_rate_scale; "
                           "fee_collection_slope, patience_days, hotline_propensity keep half "
                           "or more of their prior's interval width")


def test_abc_reading_says_so_when_nothing_is_identified(tmp_path):
    d = make_abc_dir(tmp_path / "abc", ratios={"patience_days": 0.9, "case_time_share": 0.6})
    page = page_of(d)
    assert "The data identify none of the parameters: no 90% interval is narrowed" in \
        " ".join(points(page))
    assert bottom(page).startswith("The observed statistics identify none of the calibrated "
                                   "parameters; patience_days, case_time_share keep half")


@pytest.mark.parametrize("epsilons, words", [
    (FALLING, "ε still fell in the last generation, from 0.3 to 0.2 (-33%"),
    ([0.6, 0.3, 0.29], "ε levelled off in the last generation, from 0.3 to 0.29 (-3%"),
    ([0.6, 0.3, 0.33], "ε rose in the last generation, from 0.3 to 0.33 (+10%"),
    ([0.6, 0.3, 0.4], "ε rose in the last generation, from 0.3 to 0.4 (+33%"),
    ([0.6], "Only one generation was run (50.0% of simulations accepted)"),
])
def test_abc_epsilon_sentence_follows_the_convergence_table(epsilons, words, tmp_path):
    d = make_abc_dir(tmp_path / "abc", epsilons=epsilons)
    page = page_of(d)
    conv = pd.read_csv(d / "convergence.csv")
    said = [s for s in points(page) if "ε" in s or "one generation" in s]
    assert len(said) == 1 and said[0].startswith(words), said
    if len(conv) > 1:
        change = conv["epsilon"].iloc[-1] / conv["epsilon"].iloc[-2] - 1
        side = ("still fell" if change <= -calibration.FLAT else "rose" if change >= calibration.FLAT
                else "levelled off")
        assert f"ε {side} " in said[0]
        assert f"{conv['acceptance_rate'].iloc[-1]:.1%} of simulations accepted" in said[0]


@pytest.mark.parametrize("ess, particles, caveat", [(36.6, 100, True), (99.9, 100, True),
                                                    (100.0, 100, False), (150.0, 200, False)])
def test_abc_caveat_on_a_small_effective_sample(ess, particles, caveat, tmp_path):
    d = make_abc_dir(tmp_path / "abc", ess=ess, particles=particles)
    page = page_of(d)
    said = next(s for s in points(page) if s.startswith("The last generation's effective"))
    assert said.startswith(f"The last generation's effective sample size is {ess:.1f} of "
                           f"{particles} particles")
    assert f"about {ess * 0.05:.1f} beyond each end" in said
    assert (", below the 100 that put 5 beyond each end of a 90% interval" in said) == caveat
    assert ("the intervals' ends rest on a few heavy particles" in said) == caveat
    assert (f"effective sample size ({ess:.1f}) leaves the 90% intervals' ends uncertain"
            in bottom(page)) == caveat


def test_abc_short_runs_carry_the_days_caveat(tmp_path):
    page = page_of(make_abc_dir(tmp_path / "abc", days=60, ess=150, particles=200))
    assert bottom(page).endswith("Caveat: 60 days from 1 January (inside the heating season), "
                                 "not a year, so yearly and monthly rates are extrapolated.")


def test_abc_posterior_predictive_results_are_shown_when_recorded(abc_dir, tmp_path):
    assert "Posterior predictive" not in page_of(abc_dir)
    check = {"tickets_per_10k": {"observed": 588, "mean": 601.2, "ci90": [560.1, 640.3]},
             "property_share": {"observed": 0.133, "mean": 0.129, "ci90": [0.11, 0.15]}}
    page = page_of(make_abc_dir(tmp_path / "abc", extra={"posterior_predictive": check}))
    rows = {r[0]: r[1:] for r in rows_of(page, "")}
    assert rows["tickets_per_10k"] == ["588", "601.2", "[560.1, 640.3]"]
    assert rows["property_share"] == ["0.133", "0.129", "[0.11, 0.15]"]


def test_abc_synthetic_targets_are_not_cited_as_the_study(abc_dir, tmp_path):
    d = tmp_path / "abc"
    shutil.copytree(abc_dir, d)
    summary = json.loads((d / "abc_summary.json").read_text())
    summary["observed"]["tickets_per_10k"] = 640.0
    (d / "abc_summary.json").write_text(json.dumps(summary))
    page = page_of(d)
    assert {r[0]: r[3] for r in rows_of(page, "statistic")}["tickets_per_10k"] == \
        "not the study's 588 (F3)"
    assert "against tickets per 10,000, property share (F4)" in points(page)[0]


def test_abc_prior_changed_since_the_run_gives_no_ratio(abc_dir, tmp_path):
    d = tmp_path / "abc"
    shutil.copytree(abc_dir, d)
    summary = json.loads((d / "abc_summary.json").read_text())
    summary["parameters"]["patience_days"]["prior"] = ["lognormal", 1.0, 0.3]
    (d / "abc_summary.json").write_text(json.dumps(summary))
    page = page_of(d)
    row = next(r for r in rows_of(page, "parameter") if r[0] == "patience_days")
    assert row[3] == row[6] == "n/a" and row[7].startswith("n/a: the schema's prior or range has changed")
    assert "No width ratio for patience_days" in " ".join(points(page))
    assert "patience_days (" not in " ".join(points(page))


def test_report_of_a_real_abc_run(tmp_path):
    """The files `calibrate --method abc` writes (a tiny run) make a page too."""
    out = tmp_path / "abc"
    assert run.main(["calibrate", "--method", "abc", "--particles", "4", "--generations", "2",
                     "--scale", "0.02", "--days", "30", "--workers", "1", "--seed", "3",
                     "--params", "case_rate_scale,rate_property", "--out", str(out)]) == 0
    assert run.main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert len(embedded_pngs(page)) == 2
    table = rows_of(page, "parameter")
    assert [r[0] for r in table] == ["case_rate_scale", "rate_property"]
    text = " ".join(points(page))
    for name, *_, ratio, _ in table:
        assert text.count(f"{name} ({ratio})") == 1


# --- validation: a synthetic directory ----------------------------------------------------------

# per pattern, each seed's statistic: a fail whose interval spans the threshold, a fail wholly
# below it, a pass wholly above it, a pass (4 of 5) whose interval spans it
VALUES = {"longqiao_heaviest_in_winter": [1.2, 0.7, 0.8, 0.9, 1.3],
          "longqiao_winter_peak": [1.0, 1.02, 0.98, 1.05, 1.01],
          "larger_communities_slower": [0.8, 0.9, 0.7, 0.85, 0.6],
          "winter_ticket_peak": [1.3, 1.05, 1.4, 1.35, 1.2]}
SEEDS = [11, 22, 33, 44, 55]


def make_validation_dir(out: Path, values: dict[str, list[float]] = VALUES,
                        scale: float = 0.25) -> Path:
    """A validation directory by the contract of `validate`, written by model/validation.py
    from per-seed statistics chosen by hand."""
    out.mkdir(parents=True)
    seeds = SEEDS[:len(next(iter(values.values())))]
    per_run = pd.DataFrame([{"pattern": p, "seed": s, "statistic": x,
                             "holds": validation.BY_NAME[p].holds(x)}
                            for p, xs in values.items() for s, x in zip(seeds, xs, strict=True)])
    table = validation.pattern_table(per_run, scale)
    per_run.to_csv(out / "validation_runs.csv", index=False)
    table.to_csv(out / "validation.csv", index=False)
    (out / "validation.md").write_text(validation.markdown(
        table, f"Validation of 'baseline' ({len(seeds)} seeds, scale {scale:g})"))
    return out


@pytest.fixture(scope="module")
def validation_dir(tmp_path_factory) -> Path:
    return make_validation_dir(tmp_path_factory.mktemp("report") / "validate")


def test_a_validation_directory_is_recognised(validation_dir):
    assert reports.detect(validation_dir) == "validate"


def test_validation_page_shows_the_patterns_seeds_and_a_figure(validation_dir):
    page = page_of(validation_dir)
    table = pd.read_csv(validation_dir / "validation.csv")
    passed = int((table["result"] == "PASS").sum())
    assert passed == 2 and f"<h1>Validation: {passed} of 4 patterns pass</h1>" in page
    assert ">Validation of &#x27;baseline&#x27; (5 seeds, scale 0.25)<" in page
    assert ">replicate seeds</td><td>11, 22, 33, 44, 55<" in page
    rows = rows_of(page, "pattern")
    for row, (_, r) in zip(rows, table.iterrows(), strict=True):
        assert row[:4] == [r["pattern"], r["source"], r["statement"], r["tolerance"]]
        assert row[4] == f"{num(r['mean'])} [{num(r['ci_low'])}, {num(r['ci_high'])}]"
        assert row[5].startswith(f"{round(r['share_holding'] * 5)} of 5") and row[6] == r["result"]
    seeds = {r[0]: r[1:] for r in rows_of(page, "seed")}
    assert list(seeds) == [str(s) for s in SEEDS]
    assert seeds["22"][0] == "0.7 fails" and seeds["11"][0] == "1.2 holds"
    pngs = embedded_pngs(page)
    assert len(pngs) == 1 and pngs[0].startswith(PNG_MAGIC)


def test_validation_reading_follows_the_table(validation_dir):
    """Each point: passes or fails as the table says, the seeds holding and needed, the mean's
    distance from the pattern's threshold and where its interval lies."""
    page = page_of(validation_dir)
    table = pd.read_csv(validation_dir / "validation.csv")
    lead, *said = points(page)
    assert lead.startswith("2 of 4 patterns of the study that the calibration did not use pass: "
                           "a pattern passes when its rule holds in at least 80% of the 5 seeds "
                           "(4 of 5 here).")
    assert "With only" not in lead
    failed = table[table["result"] == "FAIL"]["pattern"].tolist()
    assert [s.split(" ")[0] for s in said[:len(failed)]] == failed      # the failures first
    sides = set()
    for _, r in table.iterrows():
        p = validation.BY_NAME[r["pattern"]]
        point = next(s for s in said if s.startswith(r["pattern"] + " "))
        verdict = "passes" if r["result"] == "PASS" else "fails"
        holding = int(round(r["share_holding"] * r["seeds"]))
        assert point.startswith(f"{r['pattern']} ({r['source']}) {verdict}: it holds in "
                                f"{holding} of 5 seeds (4 needed)")
        gap = r["mean"] - p.threshold
        assert (f"its statistic averages {num(r['mean'])}, {num(abs(gap))} "
                f"{'above' if gap > 0 else 'below'} the threshold of {num(p.threshold)}") in point
        side = ("above it" if r["ci_low"] > p.threshold else "below it"
                if r["ci_high"] < p.threshold else "spans the threshold")
        assert side in point
        sides.add((verdict, side))
    assert sides == {("fails", "spans the threshold"), ("fails", "below it"),
                     ("passes", "above it"), ("passes", "spans the threshold")}
    line = bottom(page)
    assert line.startswith("The model reproduces 2 of 4 patterns; it does not reproduce that "
                           + "; nor that ".join(f"{validation.BY_NAME[n].statement} "
                                               f"({validation.BY_NAME[n].source})" for n in failed))
    assert "Caveat" not in line


def test_validation_with_few_seeds_at_a_small_scale_says_so(tmp_path):
    d = make_validation_dir(tmp_path / "v", {k: v[:3] for k, v in VALUES.items()}, scale=0.05)
    page = page_of(d)
    lead, *said = points(page)
    assert "(3 of 3 here). With only 3 seeds the 95 % intervals are wide (use at least 5)." in lead
    for name in ("longqiao_heaviest_in_winter", "longqiao_winter_peak"):
        point = next(s for s in said if s.startswith(name))
        assert point.endswith("Note: it needs scale >= 0.25 (run at 0.05), so the result says "
                              "little.")
        assert f"{name} needs scale >= 0.25 (run at 0.05)" in bottom(page)
    assert "only 3 replicate seeds" in bottom(page)
    assert not next(s for s in said if s.startswith("winter_ticket_peak")).endswith("little.")


def test_validation_statistics_undefined_in_seeds(tmp_path):
    """A statistic undefined (NaN) in every seed has no mean; defined in one seed, a mean but
    no interval."""
    nan = float("nan")
    values = {**VALUES, "larger_communities_slower": [nan] * 5,
              "winter_ticket_peak": [1.3, nan, nan, nan, nan]}
    d = make_validation_dir(tmp_path / "v", values)
    said = points(page_of(d))
    slower = next(s for s in said if s.startswith("larger_communities_slower"))
    assert slower.startswith("larger_communities_slower (P9, F8, F9) fails: it holds in 0 of 5 "
                             "seeds (4 needed); its statistic is undefined in every seed.")
    peak = next(s for s in said if s.startswith("winter_ticket_peak"))
    assert peak.endswith("fails: it holds in 1 of 5 seeds (4 needed); its statistic averages "
                         "1.3, 0.2 above the threshold of 1.1 (no interval).")


def test_validation_rule_changed_since_the_run_gives_no_threshold(validation_dir, tmp_path):
    d = tmp_path / "v"
    shutil.copytree(validation_dir, d)
    table = pd.read_csv(d / "validation.csv")
    table.loc[0, "tolerance"] = "an older rule > 2"
    table.to_csv(d / "validation.csv", index=False)
    point = next(s for s in points(page_of(d)) if s.startswith(table.loc[0, "pattern"]))
    assert "threshold" not in point and point.endswith("(rule: an older rule > 2).")


def test_validation_figure_has_a_panel_per_pattern(validation_dir):
    """The per-seed figure draws every pattern's seeds (one panel each) and is a readable PNG
    of a report's width."""
    from io import BytesIO

    import matplotlib.image as mpimg

    png = embedded_pngs(page_of(validation_dir))[0]
    height, width = mpimg.imread(BytesIO(png)).shape[:2]
    assert 900 <= width <= 1200 and height > width * 0.6   # four stacked panels


def test_report_of_a_real_validation(tmp_path):
    """The files `validate` writes (two seeds at a small scale) make a page too."""
    out = tmp_path / "v"
    assert run.main(["validate", "--seeds", "2", "--scale", "0.02", "--quiet",
                     "--out", str(out)]) == 0
    assert run.main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert len(embedded_pngs(page)) == 1
    said = points(page)
    for p in validation.PATTERNS:
        assert sum(s.startswith(p.name + " ") for s in said) == 1
    # the calibration's targets: the table as targets.csv holds them, and a sentence that
    # counts them right and names each failure
    fit = pd.read_csv(out / "targets.csv")
    rows = rows_of(page, "target")
    assert [r[0] for r in rows] == list(fit["target"])
    assert [r[-1] for r in rows] == list(fit["result"])
    ok = int((fit["result"] == "PASS").sum())
    sentence = next(s for s in said if s.startswith("The calibration's targets"))
    assert f"{ok} of 3 means lie in the bands" in sentence
    for r in fit.itertuples():
        assert (f"{r.target} ({r.source}: " in sentence) == (r.result != "PASS")


# --- damaged directories: one line, exit 2, nothing written -------------------------------------

DAMAGE = {
    "ABC summary missing": ("abc", "abc_summary.json", None,
                            r"abc_summary\.json is missing; `python run\.py calibrate --method "
                            r"abc` writes it"),
    "ABC summary cut short": ("abc", "abc_summary.json", '{"params": ["a"], "partic',
                              r"abc_summary\.json is not as .* writes it \(unreadable"),
    "ABC summary without parameters": ("abc", "abc_summary.json",
                                       '{"params": [], "particles": 4, "generations": 1}',
                                       r"abc_summary\.json is not as .* \(missing parameters\)"),
    "convergence cut to its header": ("abc", "convergence.csv", "header",
                                      r"convergence\.csv is not as .* \(no rows\)"),
    "validation runs missing": ("validate", "validation_runs.csv", None,
                                r"validation_runs\.csv is missing; `python run\.py validate`"),
    "validation table cut to its header": ("validate", "validation.csv", "header",
                                           r"validation\.csv is not as .* \(no rows\)"),
    "validation table without results": ("validate", "validation.csv", "pattern,mean\nx,1\n",
                                         r"validation\.csv is not as .* \(missing source, "
                                         r"statement"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_directory_is_refused_in_one_line(case, abc_dir, validation_dir, tmp_path,
                                                     capsys):
    kind, name, content, message = DAMAGE[case]
    d = tmp_path / "copy"
    shutil.copytree(abc_dir if kind == "abc" else validation_dir, d)
    (d / "report.html").unlink(missing_ok=True)
    if content is None:
        (d / name).unlink()
    else:
        if content == "header":
            content = (d / name).read_text().splitlines()[0] + "\n"
        (d / name).write_text(content)
    assert re.search(message, refused(d, capsys))


def test_an_unfinished_abc_run_is_refused_in_one_line(tmp_path, capsys):
    """An ABC run interrupted before its first outputs: its settings and database only."""
    d = tmp_path / "abc"
    d.mkdir()
    (d / "abc_config.json").write_text('{"params": ["case_rate_scale"]}')
    (d / "abc.db").write_bytes(b"")
    line = refused(d, capsys)
    assert "abc_summary.json is missing" in line and "run the command again" in line
