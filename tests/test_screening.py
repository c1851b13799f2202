"""Screening every behavioural parameter: ``priors = "all"`` (or a list of groups) in a problem
file expands to the real-valued parameters with a prior, each uniform on the central 90 % of
its prior truncated to the schema's range; explicit tables and [fixed] take precedence; bad
selections are refused in one line (exit 2). No model runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import run
from analysis import problem as problems
from analysis.plots import SHOWN, plot_convergence, plot_morris
from analysis.reports.sensitivity import NAMED, _drivers
from model import priors
from model.params import FIELDS, GROUP_OF, PRIORS, SHARE_PAIRS, TYPES, ParameterError

HEAD = """name = "screen"
outputs = ["mean_satisfaction"]
scale = 0.02
days = 10
n = 4
"""


def load(tmp_path, text: str) -> problems.Problem:
    path = tmp_path / "screen.toml"
    path.write_text(HEAD + text)
    return problems.load(path)


def truncated_cdf(name: str, x: float) -> float:
    """The CDF of ``name``'s prior truncated to its range, from scipy's CDF alone."""
    dist = priors.scipy_prior(name)
    lo, hi = FIELDS[name].metadata["lo"], FIELDS[name].metadata["hi"]
    return (dist.cdf(x) - dist.cdf(lo)) / (dist.cdf(hi) - dist.cdf(lo))


@pytest.fixture(scope="module")
def screen_all(tmp_path_factory) -> problems.Problem:
    return load(tmp_path_factory.mktemp("screen"), 'priors = "all"\n')


def test_all_is_every_real_valued_parameter_with_a_prior_but_composition_shares(screen_all):
    names = [f.name for f in screen_all.factors]
    with_prior = [n for n in FIELDS if n in PRIORS]
    assert names == [n for n in with_prior
                     if TYPES[n] is float and n not in problems.COMPOSITION_SHARES]
    left_out = set(with_prior) - set(names)
    assert left_out == {n for n in with_prior if TYPES[n] is int or n in problems.COMPOSITION_SHARES}
    assert all(f.dist == "unif" and f.source for f in screen_all.factors)


def test_bounds_are_the_central_quantiles_of_the_truncated_prior(screen_all):
    low, high = problems.PRIOR_QUANTILES
    cut = {n for pair in SHARE_PAIRS for n in pair}
    for f in screen_all.factors:
        meta = FIELDS[f.name].metadata
        assert meta["lo"] <= f.lower < f.upper <= meta["hi"], f.name
        assert truncated_cdf(f.name, f.lower) == pytest.approx(low, abs=1e-6), f.name
        if f.name not in cut:
            assert truncated_cdf(f.name, f.upper) == pytest.approx(high, abs=1e-6), f.name


def test_shares_of_one_whole_keep_their_sum_at_most_one(screen_all):
    factor = {f.name: f for f in screen_all.factors}
    for a, b in SHARE_PAIRS:
        assert factor[a].upper + factor[b].upper <= 1.0 + 1e-9
        for name in (a, b):  # cut only when the quantiles would sum above 1
            full = priors.quantiles(name, problems.PRIOR_QUANTILES)[1]
            assert factor[name].upper <= full + 1e-12
            assert (factor[name].upper < full) == ("cut" in factor[name].source)


def test_an_explicit_table_or_a_fixed_value_takes_precedence(tmp_path):
    p = load(tmp_path, 'priors = "all"\n[fixed]\ncase_weight = 0.5\n'
             '[parameters.mixing_effect]\nbounds = [0.5, 3.0]\nsource = "by hand"\n')
    names = [f.name for f in p.factors]
    assert names.count("mixing_effect") == 1 and "case_weight" not in names
    mixing = p.factors[names.index("mixing_effect")]
    assert (mixing.lower, mixing.upper, mixing.source) == (0.5, 3.0, "by hand")
    assert set(names) == set(problems.screened("all")) - {"case_weight"}


def test_a_list_selects_groups_and_named_parameters(tmp_path):
    group = GROUP_OF["mixing_effect"]
    p = load(tmp_path, f'priors = ["{group}", "hotline_propensity"]\n')
    assert [f.name for f in p.factors] == [n for n in problems.screened("all")
                                           if GROUP_OF[n] == group or n == "hotline_propensity"]


@pytest.mark.parametrize("value, message", [
    ('"some"', 'priors = \'some\'; allowed: "all", or a list of groups'),
    ("[]", "priors = []; allowed:"),
    ('["neighbor network"]', "'neighbor network' is neither a parameter group nor a parameter "
                             "(did you mean 'neighbour network'?)"),
    ('["run"]', "'run' is a group without real-valued parameters with a prior"),
    ('["max_tickets"]', "'max_tickets' takes whole numbers"),
    ('["type_mix_gulou_old"]', "is a share of a composition"),
    ('["staffing_per_10k"]', "'staffing_per_10k' has no prior"),
])
def test_bad_selections_fail_in_one_line_with_exit_2(value, message, tmp_path, capsys):
    path, out = tmp_path / "bad.toml", tmp_path / "out"
    path.write_text(HEAD + f"priors = {value}\n")
    with pytest.raises(ParameterError) as err:
        problems.load(path)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert run.main(["sensitivity", "--problem", str(path), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_a_misspelt_key_is_refused(tmp_path):
    with pytest.raises(ParameterError, match="unknown key 'prior' \\(did you mean 'priors'"):
        load(tmp_path, 'prior = "all"\n')


def test_figures_of_a_screening_show_the_largest(tmp_path):
    params = [f"p{i}" for i in range(3 * SHOWN)]
    indices = pd.DataFrame({"output": "mean_satisfaction", "parameter": params,
                            "mu_star": np.arange(len(params), dtype=float), "mu_star_conf": 0.1,
                            "sigma": 0.5, "mu": 0.0})
    fig = plot_morris(indices, tmp_path / "morris.png")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == params[::-1][:SHOWN]
    assert f"the {SHOWN} of {len(params)} parameters" in fig.get_suptitle()
    convergence = pd.DataFrame([{"output": "mean_satisfaction", "parameter": p, "index": "mu_star",
                                 "n": n, "value": float(i), "conf": 0.1}
                                for i, p in enumerate(params) for n in (4, 8)])
    fig = plot_convergence(convergence, tmp_path / "convergence.png")
    drawn = fig.axes[0].get_legend_handles_labels()[1]
    assert sorted(drawn) == sorted(params[-8:])


def test_the_reading_counts_rather_than_names_hundreds_of_parameters():
    middle, little = NAMED + 2, NAMED + 4
    g = pd.DataFrame({"parameter": [f"p{i}" for i in range(1 + middle + little)],
                      "mu_star": [1.0] + [0.3] * middle + [0.0] * little, "mu_star_conf": 0.01})
    text = _drivers("mean_satisfaction", g, "morris")
    assert f"p{NAMED} (mu_star 0.3) and 2 more also matter" in text
    assert text.endswith(f"the other {little} matter little")
