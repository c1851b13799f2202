"""The figures say what they show: month names on day axes, units from the measure registry
(model/kpis.py), choices in the schema's order, no whisker silently dropped."""

from __future__ import annotations

import calendar

import numpy as np
import pandas as pd
import pytest

from analysis.plots import fit_whiskers, plot_convergence, plot_indices, plot_morris
from experiments.plots import ordered_levels, plot_sweep, sweep_figure
from model import kpis
from model.figstyle import date_name, factor, month_ticks, plt
from model.outputs import plot_categories, plot_communities, plot_winter_load, plot_year
from model.params import ALLOCATION_RULES

PNG = b"\x89PNG\r\n\x1a\n"
MONTHS = set(calendar.month_abbr[1:])


def tick_texts(axis) -> list[str]:
    return [t.get_text() for t in axis.get_ticklabels()]


def assert_png(path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG and len(data) > 10_000, path.name


def test_dates_and_month_ticks_are_names():
    assert (date_name(0), date_name(73), date_name(318), date_name(365 + 31)) == (
        "1 Jan", "15 Mar", "15 Nov", "1 Feb")
    fig, ax = plt.subplots()
    month_ticks(ax, 400)
    assert tick_texts(ax.xaxis)[:13] == [*calendar.month_abbr[1:], "Jan"]
    plt.close(fig)


def test_run_figures_have_month_names_and_units(small_run, tmp_path):
    model, summary = small_run
    ts = model.datacollector.get_model_vars_dataframe()
    year = plot_year(ts, summary, tmp_path / "year.png", model.p)
    load = plot_winter_load(summary, tmp_path / "winter_load.png", model.p)
    plot_communities(summary, tmp_path / "communities.png")
    plot_categories(summary, tmp_path / "hotline_categories.png")
    for path in tmp_path.iterdir():
        assert_png(path)
    satisfaction, disputes = year.axes[:2]
    assert satisfaction.get_ylim() == (0, 1)  # the whole scale: no exaggerated steps
    assert satisfaction.get_ylabel() == kpis.unit("mean_satisfaction")
    assert disputes.get_ylabel() == kpis.unit("disputes_per_1000_per_month")
    assert {"Jan", "Feb"} <= set(tick_texts(year.axes[-1].xaxis)) <= MONTHS
    (ax,) = load.axes
    assert set(tick_texts(ax.xaxis)) <= MONTHS and ax.get_ylabel() == kpis.unit("workload_per_worker")
    assert kpis.label("workload_per_worker") in ax.get_title(loc="left").lower()


@pytest.mark.parametrize("param, values, expected", [
    ("staff_allocation", ["uniform", "demand", "proportional"], ["uniform", "proportional", "demand"]),
    ("staff_allocation", ["mix", "uniform", "other"], ["uniform", "mix", "other"]),
    ("closed_loop", [True, False, True], [False, True]),
    ("closed_loop", np.array([True, False]), [False, True]),
    ("staffing_per_10k", [43.9, 18.0, 24.5], [18.0, 24.5, 43.9]),
    ("rule", ["uniform", "demand", "optimized"], ["uniform", "demand", "optimized"]),
])
def test_levels_follow_the_schema(param, values, expected):
    assert ordered_levels(param, values) == expected


def sweep_summary(param: str, levels: list) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [{"set_id": i, "replicate": r, "status": "done", param: v,
             "property_share": 0.1 + 0.01 * rng.random(), "mean_days_to_close": 3 + rng.random()}
            for i, v in enumerate(levels) for r in range(3)]
    return pd.DataFrame(rows)


def test_sweep_draws_choices_in_the_schema_order_with_units(tmp_path):
    # alphabetical order would be demand, proportional, uniform
    ok = sweep_summary("staff_allocation", ["demand", "uniform", "proportional"])
    fig = sweep_figure(ok, "staff_allocation", [], ("property_share", "mean_days_to_close"),
                       tmp_path / "s.png")
    share, days = fig.axes[:2]
    assert tick_texts(share.xaxis) == list(ALLOCATION_RULES[:3])
    assert share.get_ylabel() == kpis.unit("property_share") and days.get_ylabel() == "days"
    assert factor("property_share") == 100 and share.get_ylim()[1] > 5  # drawn in per cent
    assert all(line.get_linestyle() == "None" for line in share.get_lines())  # no joining line
    assert_png(tmp_path / "s.png")


def test_sweep_draws_switches_off_then_on(tmp_path):
    ok = sweep_summary("closed_loop", [True, False])
    (path,) = plot_sweep(ok, ["closed_loop"], tmp_path, ("mean_days_to_close",))
    assert_png(path)
    fig = sweep_figure(ok, "closed_loop", [], ("mean_days_to_close",), tmp_path / "b.png")
    assert tick_texts(fig.axes[0].xaxis) == ["off", "on"]


def test_whiskers_beyond_the_panel_are_marked_not_dropped():
    fig, ax = plt.subplots()
    assert fit_whiskers(ax, [0, 1], [0.5, 1.2], [0.1, 9.0], (0.0, 1.0))
    low, high = ax.get_ylim()
    assert low <= 0 and 1.2 < high < 9  # every bar shows; the long whisker is cut ...
    assert any(line.get_marker() == "^" for line in ax.get_lines())  # ... and marked
    assert not fit_whiskers(ax, [0], [0.5], [0.1], (0.0, 1.0))
    plt.close(fig)


def test_sensitivity_figures_keep_legends_off_the_bars(tmp_path):
    params = ["staffing_per_10k", "winter_influx"]
    indices = pd.DataFrame([{"output": o, "parameter": p, "S1": 0.3, "S1_conf": 2.0, "ST": 0.6,
                             "ST_conf": 0.1, "mu_star": 1.0, "mu_star_conf": 0.2, "sigma": 0.5}
                            for o in ("mean_satisfaction", "resolution_rate") for p in params])
    noise = pd.DataFrame({"output": ["mean_satisfaction"], "seed_noise_share": [0.4]})
    convergence = pd.DataFrame([{"output": "mean_satisfaction", "parameter": p, "index": "S1",
                                 "n": n, "value": 0.3, "conf": 0.2} for p in params for n in (4, 8)])
    figures = [plot_indices(indices, noise, "sobol", tmp_path / "indices.png"),
               plot_morris(indices, tmp_path / "morris.png"),
               plot_convergence(convergence, tmp_path / "convergence.png")]
    for fig in figures:
        assert all(ax.get_legend() is None for ax in fig.axes) and fig.legends
    assert figures[1].axes[2].get_ylabel().startswith("mu* (% of cases)")  # resolution rate
    for name in ("indices.png", "morris.png", "convergence.png"):
        assert_png(tmp_path / name)
