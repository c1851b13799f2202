"""The measure registry (model/kpis.py): complete against what a run writes, the one list
every consumer reads, and a new measure is one declaration plus its computation."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import REPO, run_model

from analysis import reports
from analysis.reports.common import ci_table, measures_in
from experiments import runner, staffing_allocation
from experiments.aggregate import aggregate, table
from model import Params, kpis
from yanzhou_governance import cli

TINY = Params(scale=0.02, days=10)
NEW = kpis.Measure(
    "resolved_per_worker_per_month", "resolved cases per community worker per month",
    "cases / worker / month", "{:.2f}", kpis.NON_NEGATIVE, better=1, headline=True, kpi_row=True,
    objective=True,
    compute=lambda model, s: s["workload_per_worker"] * s["resolution_rate"],
    doc="a measure added by a test")


@pytest.fixture(scope="module")
def tiny() -> dict:
    return run_model(TINY, seed=5, name="tiny")[1]


@pytest.fixture
def with_new(monkeypatch: pytest.MonkeyPatch) -> kpis.Measure:
    """The registry with NEW declared: the one place a measure is added."""
    monkeypatch.setattr(kpis, "MEASURES", (*kpis.MEASURES, NEW))
    return NEW


def numbers(summary: dict) -> set[str]:
    """Every number of a summary and of its dicts of numbers, as a flattened key."""
    out = set()
    for key, value in summary.items():
        if key in runner.IDENTITY:
            continue
        items = value.items() if isinstance(value, dict) else [(None, value)]
        out |= {key if sub is None else f"{key}.{sub}" for sub, v in items
                if v is None or (isinstance(v, int | float) and not isinstance(v, bool))}
    return out


# --- the registry is complete ---------------------------------------------------------------------

def test_every_number_a_run_writes_is_declared_and_every_declaration_is_written(tiny):
    written = numbers(tiny)
    declared = {m.key for m in kpis.MEASURES if not m.same_as}
    assert written == declared
    assert {m.same_as for m in kpis.MEASURES if m.same_as} <= written


def test_keys_are_unique_and_flags_consistent():
    keys = [m.key for m in kpis.MEASURES]
    assert len(keys) == len(set(keys))
    for m in kpis.MEASURES:
        assert m.better in (-1, 0, 1) and m.bounds[0] <= m.bounds[1], m.key
        assert not m.objective or m.better, m.key
        assert m.family is None or m.key.startswith(m.family + "."), m.key
        assert m.fmt and m.unit and m.label != m.key, m.key   # every measure can be shown
    assert [m.lead for m in kpis.MEASURES if m.lead] and len(kpis.leads()) == len(
        {m.lead for m in kpis.MEASURES if m.lead})


def test_running_text_labels_tell_the_headline_measures_apart():
    # reports name measures in sentences by their label without its trailing parenthesis
    # (common.short): two headline measures must not read the same there
    from analysis.reports.common import short

    texts = [short(m) for m in kpis.headline()]
    assert len(set(texts)) == len(texts), sorted(t for t in texts if texts.count(t) > 1)


def test_declared_values_are_inside_their_bounds(tiny):
    flat = runner.flatten(tiny)
    for key, x in flat.items():
        low, high = kpis.bounds(key)
        assert math.isnan(x) or low <= x <= high, (key, x)


def test_measure_names_follow_the_registry(tiny):
    assert set(runner.measure_names()) == set(runner.flatten(tiny))
    assert len(runner.measure_names()) == len(kpis.MEASURES)


def test_a_declared_computation_cannot_sit_on_a_family_member():
    with pytest.raises(ValueError, match="compute"):
        kpis.Measure("x.y", "x", family="x", compute=lambda model, s: 0.0)
    with pytest.raises(ValueError, match="better direction"):
        kpis.Measure("x", "x", objective=True)


# --- no consumer keeps its own list ---------------------------------------------------------------

# model/outputs.py is left out: its community figure picks fields of summary["by_community"],
# which share some names with district measures but are per-community records.
CONSUMERS = [*(REPO / "experiments").glob("*.py"), *(REPO / "analysis").rglob("*.py"),
             REPO / "yanzhou_governance" / "cli.py", REPO / "model" / "figstyle.py"]


def test_no_consumer_lists_measures_itself():
    """A tuple, list or set literal naming two or more declared measures is a second
    declaration of which measures matter (HEADLINE, OBJECTIVES, a report's focus); selecting
    columns of a table (``frame[["population", "staff"]]``) is not."""
    names = {m.key for m in kpis.MEASURES}
    found = []
    for path in CONSUMERS:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        selections = {id(n.slice) for n in ast.walk(tree) if isinstance(n, ast.Subscript)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Tuple | ast.List | ast.Set) and id(node) not in selections:
                named = [e.value for e in node.elts
                         if isinstance(e, ast.Constant) and e.value in names]
                if len(named) >= 2:
                    found.append(f"{path.relative_to(REPO)}:{node.lineno} {named}")
    assert not found, found


def test_objectives_headline_and_kpi_rows_come_from_the_flags():
    assert set(kpis.objectives()) == {m.key for m in kpis.MEASURES if m.objective}
    for m in kpis.objectives():
        assert staffing_allocation.minimised(m) == -kpis.better(m)
    staffing = cli.build_parser()._subparsers._group_actions[0].choices["staffing"]
    objective = next(a for a in staffing._actions if a.dest == "objective")
    assert tuple(objective.choices) == kpis.objectives()
    assert all(m in objective.help for m in kpis.objectives())


# --- a new measure is one declaration plus its computation ---------------------------------------

def test_a_new_measure_reaches_every_output(with_new, tmp_path: Path):
    key = with_new.key
    summaries = [run_model(TINY, seed=s, name="tiny")[1] for s in (1, 2)]
    # summary.json
    expected = [s["workload_per_worker"] * s["resolution_rate"] for s in summaries]
    assert [json.loads(json.dumps(s))[key] for s in summaries] == pytest.approx(expected)
    assert key in runner.measure_names()
    # the KPI table and the staffing objectives
    assert with_new.label in cli.kpi_table(summaries[0])
    assert key in kpis.objectives() and staffing_allocation.minimised(key) == -1
    # a sweep of two runs: stored per run, aggregated with its interval
    rows = pd.DataFrame([{"set_id": 0, "replicate": i, "status": "done", **runner.flatten(s)}
                         for i, s in enumerate(summaries)])
    agg = aggregate(rows)
    assert agg[f"{key}_mean"].iloc[0] == pytest.approx(np.mean(expected))
    assert agg[f"{key}_n"].iloc[0] == 2
    assert key in table(agg, [])
    # report tables: a sweep's measures by set and a run's key results
    assert with_new.label in str(ci_table(agg, ["set 0"], measures_in(agg.columns), "caption"))
    (tmp_path / "summary.json").write_text(json.dumps(summaries[0]))
    page = reports.build_report(tmp_path)
    assert with_new.label in page and with_new.fmt.format(expected[0]) in page


def test_no_measure_shares_a_name_with_a_parameter():
    """Run rows hold parameters and measures side by side: one name must mean one thing."""
    from model.params import FIELDS

    assert not set(kpis.keys(lambda m: True)) & set(FIELDS)
