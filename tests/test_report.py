"""HTML reports (analysis/reports): every kind of output directory becomes one self-contained
page whose reading, tables and settings match the files; bad directories exit 2."""

from __future__ import annotations

import base64
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import experiments
import run
from analysis import reports, write_report
from analysis.reports.common import short
from analysis.reports.html import PNG_MAGIC, num
from analysis.reports.sweep import MEASURES_PER_TABLE
from experiments.executors import ExperimentError
from experiments.staffing_allocation import compare_staffing
from model import kpis
from model.metrics import MODEL_VERSION
from model.params import ParameterError

TINY = {"scale": 0.02, "days": 20}
DATA_URI = "data:image/png;base64,"


# --- helpers ------------------------------------------------------------------------------------

class Balance(HTMLParser):
    """Checks that the main elements open and close in order."""

    CHECKED = {"html", "head", "body", "section", "table", "thead", "tbody", "tr", "td", "th",
               "details", "summary", "figure", "figcaption", "div", "p", "h1", "h2", "caption",
               "b", "span", "style", "title"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.CHECKED:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.CHECKED:
            if not self.stack or self.stack[-1] != tag:
                self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            else:
                self.stack.pop()


def check_page(page: str, directory: Path) -> str:
    """Common checks; returns the page without its embedded images (for text searches)."""
    parser = Balance()
    parser.feed(page)
    assert not parser.errors and not parser.stack, (parser.errors, parser.stack)
    pngs = sorted(directory.glob("*.png"))
    assert pngs and page.count(DATA_URI) == len(pngs)
    first = re.search(re.escape(DATA_URI) + r"([A-Za-z0-9+/=]+)", page).group(1)
    assert base64.b64decode(first).startswith(PNG_MAGIC)
    assert not re.search(r"""(src|href)\s*=\s*["']?https?://""", page)
    assert "<script" not in page and "@import" not in page
    text = re.sub(re.escape(DATA_URI) + r"[A-Za-z0-9+/=]+", "", page)
    assert not re.search(r"\d\.\d{10,}", text), "unformatted float"
    return text


def reading(text: str) -> str:
    block = re.search(r'<div class="reading">(.*?)</div>', text, re.S).group(1)
    return re.sub(r"\s*<[^>]+>\s*", " ", block).strip()


def make_png(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(["a", "b", "c"], [0.6, 0.3, 0.1])
    ax.set_title(path.stem)
    fig.savefig(path, dpi=80)
    plt.close(fig)


PARAMETERS = [
    {"name": "staffing_per_10k", "lower": 18.0, "upper": 43.9, "dist": "unif", "source": "F5, F6"},
    {"name": "patience_days", "lower": 5.0, "upper": 20.0, "dist": "unif", "source": "assumed"},
    {"name": "winter_influx", "lower": 0.0, "upper": 30000.0, "dist": "unif", "source": "F11"},
    {"name": "funding_per_community_yuan", "lower": 100000.0, "upper": 600000.0, "dist": "unif",
     "source": "F13, F14"},
]
OUTPUTS = ["mean_days_to_close", "mean_satisfaction", "hotline_tickets_per_10k_per_year"]
# per output: (S1, ST) per parameter, in PARAMETERS order
SOBOL = {"mean_days_to_close": [(0.55, 0.63), (0.12, 0.19), (0.08, 0.11), (0.01, 0.02)],
         "mean_satisfaction": [(0.21, 0.30), (0.34, 0.45), (0.02, 0.04), (0.10, 0.16)],
         "hotline_tickets_per_10k_per_year": [(0.05, 0.09), (0.03, 0.06), (0.40, 0.52),
                                              (0.00, 0.01)]}
NOISE = {"mean_days_to_close": 0.04, "mean_satisfaction": 0.41,
         "hotline_tickets_per_10k_per_year": np.nan}


def make_sensitivity_dir(out: Path, method: str) -> Path:
    """A sensitivity output directory by the contract of `run.py sensitivity`, by hand."""
    out.mkdir(parents=True)
    names = [p["name"] for p in PARAMETERS]
    n, reps = 64, 2
    samples = n * (2 * len(names) + 2) if method == "sobol" else n // 8 * (len(names) + 1)
    manifest = {
        "kind": "sensitivity", "model_version": "0.2.0", "method": method, "n": n, "scale": 0.1,
        "days": 120, "replicates": reps, "seed": 2021, "seeds": [557503428, 1388424212],
        "samples": samples, "runs": samples * reps, "failed": 0, "wall_seconds": 812.4,
        "created": "2026-11-20T10:15:00",
        "problem": {"name": "staffing_and_patience", "description": "Staffing, patience, winter "
                    "and funding against closing time, satisfaction and hotline load",
                    "scenario": "baseline", "outputs": OUTPUTS,
                    "fixed": {"closed_loop": True, "staff_allocation": "uniform"},
                    "parameters": PARAMETERS}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    rows, conv = [], []
    for o in OUTPUTS:
        for i, name in enumerate(names):
            s1, st = SOBOL[o][i]
            if method == "morris":
                rows.append({"output": o, "parameter": name, "mu_star": st * 3, "mu_star_conf": 0.2,
                             "sigma": s1 * 2, "mu": -st * 3 if i == 0 else st})
            else:
                rows.append({"output": o, "parameter": name, "S1": s1, "S1_conf": 0.04,
                             "ST": st, "ST_conf": 0.05})
            index = "mu_star" if method == "morris" else "ST"
            value = rows[-1][index]
            conv += [{"output": o, "parameter": name, "index": index, "n": n // 2,
                      "value": value + 0.03, "conf": 0.08},
                     {"output": o, "parameter": name, "index": index, "n": n, "value": value,
                      "conf": 0.05}]
    pd.DataFrame(rows).to_csv(out / "indices.csv", index=False)
    pd.DataFrame(conv).to_csv(out / "convergence.csv", index=False)
    if method == "sobol":
        pd.DataFrame([{"output": "mean_satisfaction", "parameter_1": "staffing_per_10k",
                       "parameter_2": "patience_days", "S2": 0.06, "S2_conf": 0.03},
                      {"output": "mean_days_to_close", "parameter_1": "staffing_per_10k",
                       "parameter_2": "winter_influx", "S2": 0.02, "S2_conf": 0.03}]
                     ).to_csv(out / "second_order.csv", index=False)
    pd.DataFrame([{"output": o, "replicates": reps, "output_variance": 0.5,
                   "noise_variance": 0.5 * NOISE[o], "seed_noise_share": NOISE[o]}
                  for o in OUTPUTS]).to_csv(out / "noise.csv", index=False)
    rng = np.random.default_rng(0)
    pd.DataFrame({"sample": range(8), **{p: rng.uniform(0, 1, 8) for p in names},
                  **{o: rng.uniform(0, 1, 8) for o in OUTPUTS}}).to_csv(out / "samples.csv",
                                                                         index=False)
    for fig in ("morris.png" if method == "morris" else "indices.png", "convergence.png"):
        make_png(out / fig)
    return out


# --- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "run"
    assert run.main(["run", "--scale", "0.02", "--days", "30", "--seed", "4", "--out", str(out),
                     "--set", "patience_days=9", "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "sweep"
    experiments.sweep("baseline", vary=["staffing_per_10k=18,43.9", "closed_loop=true,false"],
                      replicates=2, workers=1, progress=False, out=out, **TINY)
    return out


@pytest.fixture(scope="module")
def staffing_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "staffing"
    compare_staffing(total=598, replicates=2, scale=0.1, days=10, step=0.5, out=out,
                     progress=False, workers=2)
    return out


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "compare"
    assert run.main(["compare", "--scenarios", "baseline,staffing_18", "--seeds", "2", "--scale",
                     "0.02", "--days", "20", "--workers", "1", "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module", params=["sobol", "morris"])
def sensitivity_dir(request, tmp_path_factory):
    return make_sensitivity_dir(tmp_path_factory.mktemp("report") / request.param, request.param)


# --- detection and the command line -------------------------------------------------------------

def test_each_kind_is_recognised(run_dir, sweep_dir, staffing_dir, compare_dir, sensitivity_dir):
    assert reports.detect(run_dir) == "run"
    assert reports.detect(sweep_dir) == "sweep"
    assert reports.detect(staffing_dir) == "staffing"   # it holds sweep files too
    assert reports.detect(compare_dir) == "compare"
    assert reports.detect(sensitivity_dir) == "sensitivity"


def test_cli_writes_report_html(run_dir, capsys):
    (run_dir / "report.html").unlink(missing_ok=True)
    assert run.main(["report", str(run_dir)]) == 0
    assert (run_dir / "report.html").is_file()
    assert "report written to" in capsys.readouterr().out
    assert not list(run_dir.glob(".*.tmp"))


def test_cli_out_writes_elsewhere(sweep_dir, tmp_path):
    target = tmp_path / "sub" / "sweep.html"
    assert run.main(["report", str(sweep_dir), "--out", str(target)]) == 0
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert not (sweep_dir / "report.html").exists()


@pytest.mark.parametrize("make, words", [
    (lambda p: p / "missing", ["does not exist"]),
    (lambda p: (p / "x.txt").write_text("hello") and p,
     ["not a recognised output directory", "summary.json", "indices.csv", "staffing.csv",
      "compare.csv", "manifest.json + aggregate.csv"]),
])
def test_cli_bad_directory_exits_2(tmp_path, capsys, make, words):
    target = make(tmp_path)
    assert run.main(["report", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert all(w in err for w in words), err
    assert not (tmp_path / "report.html").exists()


def test_a_failed_write_leaves_the_old_report(run_dir, tmp_path, monkeypatch):
    target = tmp_path / "r.html"
    target.write_text("old")

    def broken(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("experiments.store.os.fsync", broken)
    with pytest.raises(ExperimentError, match="No space left"):
        write_report(run_dir, target)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_unreadable_files_are_a_parameter_error(run_dir, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(run_dir, bad)
    (bad / "summary.json").write_text("{not json")
    with pytest.raises(ParameterError, match=r"summary\.json is not as .* writes it \(unreadable"):
        reports.build_report(bad)


# --- run ----------------------------------------------------------------------------------------

def test_run_report(run_dir):
    page = check_page(reports.build_report(run_dir), run_dir)
    s = json.loads((run_dir / "summary.json").read_text())
    assert "<h1>Simulation run: baseline</h1>" in page
    text = reading(page)
    for value in (f"{s['resolution_rate']:.1%}", f"{s['disputes_per_1000_per_month']:.2f}",
                  f"{s['mean_days_to_close']:.2f}", f"{s['mean_satisfaction']:.3f}",
                  f"{s['hotline_tickets_per_10k_per_year']:,.0f}",
                  f"{s['category_shares']['property']:.1%}"):
        assert value in text, value
    assert "588 (F3)" in text and "13.3 % in the study (F4" in text
    assert "extrapolated from 30 days" in text and "scale 0.02" in text
    assert f">model version</td><td>{MODEL_VERSION}<" in page and ">seed</td><td>4<" in page
    assert ">patience_days</td><td class=\"n\">9<" in page          # the override, first table
    own = page.index("The scenario&#x27;s own values")
    assert own < page.index("<details>") < page.index(">warmup_days<")   # full list collapsed
    assert "tickets / 10,000 / year" in page                          # units


def test_run_report_escapes_text(run_dir, tmp_path):
    odd = tmp_path / "odd"
    shutil.copytree(run_dir, odd)
    s = json.loads((odd / "summary.json").read_text())
    s["scenario"] = "<b>x</b> & co"
    (odd / "summary.json").write_text(json.dumps(s))
    page = reports.build_report(odd)
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt; &amp; co" in page


# --- sweep and compare --------------------------------------------------------------------------

def test_sweep_report(sweep_dir):
    page = check_page(reports.build_report(sweep_dir), sweep_dir)
    manifest = json.loads((sweep_dir / "manifest.json").read_text())
    agg = pd.read_csv(sweep_dir / "aggregate.csv")
    assert "<h1>Parameter sweep: baseline, varying staffing_per_10k × closed_loop</h1>" in page
    text = reading(page)
    assert "Raising staffing_per_10k from 18 to 43.9 (pooled over closed_loop)" in text
    assert "Switching closed_loop from false to true" in text
    assert "CIs" in text and "With only 2 replicate(s)" in text
    runs = pd.read_parquet(sweep_dir / "summary.parquet")
    low = runs.loc[runs["staffing_per_10k"] == 18, "mean_days_to_close"].mean()
    assert f"mean days to close {low:.2f} →" in text
    for seed in {r["seed"] for r in manifest["runs"].values()}:
        assert str(seed) in page
    assert ">base seed</td><td>2021<" in page and MODEL_VERSION in page
    first = agg.iloc[0]
    assert f"{first['mean_satisfaction_mean']:.3f}<br>" in page          # mean [CI] cells
    assert f"[{first['mean_satisfaction_ci_low']:.3f}, " in page


def test_design_table_sweep_report(tmp_path):
    """A design table (not a factorial) is read by rank correlations, in tables that fit."""
    design = pd.DataFrame({"patience_days": [5, 8, 11, 14, 17, 20, 6],
                           "staffing_per_10k": [18, 20, 25, 30, 35, 40, 43]})
    experiments.sweep("baseline", design=design, replicates=2, workers=2, progress=False,
                      out=tmp_path, **TINY)
    page = check_page(reports.build_report(tmp_path), tmp_path)
    text = reading(page)
    assert "design table, not a full factorial" in text and "Raising" not in text
    assert "as patience_days rises from 5 to 20" in text
    # the headline measures, MEASURES_PER_TABLE to a table
    tables = -(-len(kpis.headline()) // MEASURES_PER_TABLE)
    assert tables > 1 and all(f"({i} of {tables})" in page for i in range(1, tables + 1))


def test_compare_report(compare_dir):
    page = check_page_no_figures(reports.build_report(compare_dir))
    runs = pd.read_csv(compare_dir / "compare_runs.csv")
    assert "<h1>Scenario comparison: baseline, staffing_18</h1>" in page
    base = runs[runs["scenario"] == "baseline"]["mean_satisfaction"].mean()
    assert f"mean satisfaction is {base:.3f}" in reading(page)
    assert "Against baseline, staffing_18" in reading(page)
    for seed in runs["seed"].unique():
        assert str(seed) in page
    assert ">scale</td><td>0.02<" in page and ">days</td><td>20<" in page


def check_page_no_figures(page: str) -> str:
    parser = Balance()
    parser.feed(page)
    assert not parser.errors and not parser.stack
    assert DATA_URI not in page and "No figures in this directory" in page
    return page


# --- staffing -----------------------------------------------------------------------------------

def test_staffing_report(staffing_dir):
    page = check_page(reports.build_report(staffing_dir), staffing_dir)
    result = pd.read_csv(staffing_dir / "staffing.csv")
    assert "<h1>Staffing allocation: 598 community staff, 4 rules compared</h1>" in page
    text = reading(page)
    best = result.loc[result["mean_days_to_close_mean"].idxmin()]
    assert f"On mean days to close, {best['rule']} is best at " \
           f"{best['mean_days_to_close_mean']:.2f}" in text
    assert "On mean satisfaction," in text
    if best["rule"] != "uniform":
        uniform = result[result["rule"] == "uniform"].iloc[0]
        assert f"against {uniform['mean_days_to_close_mean']:.2f} for uniform" in text
    assert "optimized rule keeps the 7 committee members" in text
    assert "Search for the optimized rule" in page and "Staff by street" in page
    assert ">objective</td><td>mean_days_to_close<" in page


# --- sensitivity --------------------------------------------------------------------------------

def test_sensitivity_report(sensitivity_dir):
    page = check_page(reports.build_report(sensitivity_dir), sensitivity_dir)
    manifest = json.loads((sensitivity_dir / "manifest.json").read_text())
    method = manifest["method"]
    indices = pd.read_csv(sensitivity_dir / "indices.csv")
    assert f"<h1>Sensitivity analysis ({method.capitalize()}): staffing_and_patience</h1>" in page
    text = reading(page)
    main = "mu_star" if method == "morris" else "ST"
    for output, g in indices.groupby("output"):
        top = g.loc[g[main].idxmax(), "parameter"]
        assert f"For {short(output)}, the most influential parameter is {top} " \
               f"({main} {num(g[main].max())} ± " in text
    if method == "sobol":
        g = indices[indices["output"] == "mean_satisfaction"]
        assert f"interactions (sum ST − sum S1) = {num(g['ST'].sum() - g['S1'].sum())}" in text
        assert "Second-order interactions" in page
    else:
        assert "interactions (sum ST" not in text and "mu* (mean absolute" in page
    assert "Warning: seed noise" in text and "mean satisfaction (41%)" in text
    assert "(but seed noise is 41% of its variance)" in text          # on its own point too
    assert page.count("<li>") >= indices["output"].nunique()          # one point per output
    assert "mean days to close (" not in text.split("Warning")[1]      # 4 % is not flagged
    if method == "morris":  # relative to each output's largest mu*
        worst = max(0.03 / (3 * max(st for _, st in pairs)) for pairs in SOBOL.values())
        assert f"moved by at most {worst:.0%} of their output" in text
    else:
        assert "moved by at most 0.03" in text
    for key in ("2021", "557503428", "1388424212", "0.2.0", "2026-11-20T10:15:00",
                f">method</td><td>{method}<", ">N (base samples; trajectories for Morris)</td><td>64<"):
        assert key in page, key
    assert "F5, F6" in page and "43.9" in page                      # the parameter ranges


def test_sensitivity_reading_states_a_low_seed_noise(sensitivity_dir, tmp_path):
    quiet = tmp_path / "quiet"
    shutil.copytree(sensitivity_dir, quiet)
    noise = pd.read_csv(quiet / "noise.csv").assign(seed_noise_share=lambda t: t.seed_noise_share / 5)
    noise.to_csv(quiet / "noise.csv", index=False)
    text = reading(reports.build_report(quiet))
    assert "Warning" not in text and "but seed noise" not in text
    assert f"Seed noise is at most {noise.seed_noise_share.max():.0%} of any output" in text


def test_report_of_a_real_sensitivity_run(tmp_path):
    """The files `run.py sensitivity` writes (a tiny Morris screening) make a report too."""
    out = tmp_path / "sa"
    assert run.main(["sensitivity", "--problem", "behaviour", "--method", "morris", "--n", "4",
                     "--scale", "0.02", "--days", "20", "--replicates", "1", "--workers", "2",
                     "--quiet", "--out", str(out)]) == 0
    assert run.main(["report", str(out)]) == 0
    page = check_page((out / "report.html").read_text(), out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert f"<h1>Sensitivity analysis (Morris): {manifest['problem']['name']}</h1>" in page
    assert all(p["name"] in page for p in manifest["problem"]["parameters"])


# --- damaged or foreign directories: one line, exit 2, no report ----------------------------------

DAMAGE = {
    "sweep manifest is an empty object": ("sweep_dir", "manifest.json", "{}",
                                          r"manifest\.json is not as .* writes it \(missing scenario"),
    "sweep manifest is a list": ("sweep_dir", "manifest.json", "[1, 2, 3]",
                                 r"manifest\.json is not as .* \(a JSON list, not an object\)"),
    "aggregate cut to its header": ("sweep_dir", "aggregate.csv", None,
                                    r"aggregate\.csv is not as `python run\.py sweep` writes it \(no rows\)"),
    "run summary is a list": ("run_dir", "summary.json", "[]",
                              r"summary\.json is not as .* \(a JSON list, not an object\)"),
    "run summary lacks its measures": ("run_dir", "summary.json", '{"scenario": "x"}',
                                       r"summary\.json is not as .* \(missing seed, days"),
    "compare table is text": ("compare_dir", "compare.csv", "scenario,runs\n",
                              r"compare\.csv is not as .* \(no rows\)"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_directory_is_refused_in_one_line(case, request, tmp_path, capsys):
    fixture, name, content, message = DAMAGE[case]
    d = tmp_path / "copy"
    shutil.copytree(request.getfixturevalue(fixture), d)
    (d / "report.html").unlink(missing_ok=True)  # an earlier test's
    if content is None:  # keep the header line only
        content = (d / name).read_text().splitlines()[0] + "\n"
    (d / name).write_text(content)
    capsys.readouterr()  # what the fixture's run printed
    assert run.main(["report", str(d)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.search(message, err[0]), err
    assert not (d / "report.html").exists()


def test_a_compare_directory_without_its_runs_still_reports(compare_dir, tmp_path):
    d = tmp_path / "copy"
    shutil.copytree(compare_dir, d)
    (d / "compare_runs.csv").unlink()
    assert run.main(["report", str(d)]) == 0 and (d / "report.html").is_file()
