"""The model as Mesa users drive it: keyword construction from a scenario, ``running`` and
``mesa.batch_run``, ``run_model``, residents as agents, and no private Mesa names."""

from __future__ import annotations

import re

import mesa
import numpy as np
import pandas as pd
import pytest
from helpers import REPO, strip_timing

from agents import Resident
from model import GovernanceModel, ParameterError, Params, run_model, scenarios
from model.metrics import summarise
from model.scenarios import SCENARIO_DIR
from model.vocabulary import AGE_GROUPS, ORIGINS

SMALL = {"scale": 0.02, "days": 20}
HEADLINE = ("hotline_tickets_per_10k_per_year", "mean_days_to_close", "mean_satisfaction",
            "resolution_rate", "utilisation", "escalated_share", "disputes_per_1000_per_month")


def daily_series(model: GovernanceModel) -> pd.DataFrame:
    return model.datacollector.get_model_vars_dataframe()


# --- construction ---------------------------------------------------------------------------


def test_a_plain_model_is_the_calibrated_baseline():
    model = GovernanceModel()
    assert model.p == scenarios.load("baseline").params != Params()
    assert model.seed == 1 and model.scenario_name == "baseline"


def test_keywords_change_the_scenario_named_or_given_by_path():
    by_name = GovernanceModel(scenario="staffing_18", seed=2, **SMALL)
    by_path = GovernanceModel(scenario=SCENARIO_DIR / "staffing_18.toml", seed=2, **SMALL)
    expected = scenarios.load("staffing_18", SMALL).params
    assert by_name.p == by_path.p == expected
    assert by_name.scenario_name == "staffing_18"


def test_schema_defaults_only_when_asked_for():
    model = GovernanceModel(scenario="defaults", **SMALL)
    assert model.p == Params(**SMALL)
    with pytest.raises(TypeError, match="'defaults' for the schema defaults"):
        GovernanceModel(scenario=None, **SMALL)


def test_numpy_scalars_are_taken_as_python_numbers():
    model = GovernanceModel(seed=np.int64(3), scale=np.float64(0.02), days=np.int64(20),
                            staffing_per_10k=np.float32(18.0), closed_loop=np.bool_(False))
    assert model.seed == 3 and type(model.seed) is int
    assert model.p == scenarios.load("baseline", {**SMALL, "staffing_per_10k": 18.0,
                                                  "closed_loop": False}).params


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"staffing": 18}, r"unknown parameter 'staffing'.*did you mean 'staffing_per_10k'.*allowed: scale"),
    ({"scale": "big"}, r"parameter 'scale': 'big' is not a valid float"),
    ({"staffing_per_10k": -1.0}, r"parameter 'staffing_per_10k': -1.0 is out of range"),
    ({"seed": -1}, r"seed -1 is not allowed"),
    ({"scenario": "basline"}, r"unknown scenario 'basline' \(did you mean 'baseline'\?\)"),
])
def test_bad_keywords_are_refused_in_one_line(kwargs, message):
    with pytest.raises(ParameterError, match=message) as e:
        GovernanceModel(**kwargs)
    assert "\n" not in str(e.value)


def test_params_as_before_and_equal_to_keywords():
    old = GovernanceModel(Params(**SMALL, staffing_per_10k=18.0), seed=4)
    new = GovernanceModel(scenario="defaults", seed=4, **SMALL, staffing_per_10k=18.0)
    changed = GovernanceModel(Params(**SMALL), seed=4, staffing_per_10k=18.0)
    for m in (old, new, changed):
        m.run()
    assert old.p == new.p == changed.p and old.scenario_name == "custom"
    pd.testing.assert_frame_equal(daily_series(old), daily_series(new))
    assert strip_timing(old.summary) == strip_timing(changed.summary)
    with pytest.raises(TypeError, match="params or scenario, not both"):
        GovernanceModel(Params(**SMALL), scenario="staffing_18")


def test_seed_none_draws_a_seed_that_reproduces_the_run():
    first = GovernanceModel(seed=None, **SMALL)
    again = GovernanceModel(seed=first.seed, **SMALL)
    for m in (first, again):
        m.run()
    assert type(first.seed) is int
    assert strip_timing(first.summary) == strip_timing(again.summary)


# --- running, the summary, batch_run ----------------------------------------------------------


def test_running_stops_at_the_configured_days_with_the_summary():
    model = GovernanceModel(**SMALL)
    model.run_model()  # Mesa's own loop: step while running
    assert not model.running and model.steps == model.day == SMALL["days"]
    assert strip_timing(model.summary) == strip_timing(summarise(model, "baseline"))
    series = daily_series(model)
    assert list(series.columns) == list(model.datacollector.model_reporters)
    assert len(series) == SMALL["days"]
    recorded = model.datacollector.model_vars["summary.mean_days_to_close"]
    assert recorded[-1] == model.summary["mean_days_to_close"]
    assert recorded[:-1] == [None] * (SMALL["days"] - 1)


def test_batch_run_returns_the_run_measures_per_staffing_level():
    rows = mesa.batch_run(GovernanceModel, {"staffing_per_10k": [12, 43.9], **SMALL},
                          rng=[1, 2], max_steps=1000, number_processes=1,
                          data_collection_period=-1, display_progress=False)
    frame = pd.DataFrame(rows)
    assert len(frame) == 4 and set(frame["Step"]) == {SMALL["days"]}
    for key in HEADLINE:
        assert frame["summary." + key].notna().all(), key
    assert (frame["summary.seed"] == frame["seed"]).all()
    assert (frame["summary.days"] == SMALL["days"]).all()
    paired = frame.pivot(index="seed", columns="staffing_per_10k", values="summary.utilisation")
    assert (paired[43.9] < paired[12]).all(), paired


def test_batch_run_with_iterations_draws_a_seed_per_run():
    with pytest.warns(DeprecationWarning):  # Mesa prefers rng=[...]; iterations still works
        rows = mesa.batch_run(GovernanceModel, SMALL, iterations=2, display_progress=False)
    seeds = [row["summary.seed"] for row in rows]
    assert len(rows) == 2 and seeds[0] != seeds[1]
    assert all(row["summary.mean_satisfaction"] is not None for row in rows)


def test_run_model_returns_the_summary_of_the_run():
    summary = run_model(seed=5, scenario="staffing_18", **SMALL)
    model = GovernanceModel(seed=5, scenario="staffing_18", **SMALL)
    model.run()
    assert summary["scenario"] == "staffing_18" and summary["seed"] == 5
    assert summary["staff"] < run_model(seed=5, **SMALL)["staff"]
    assert strip_timing(summary) == strip_timing(summarise(model, "staffing_18"))


# --- residents ------------------------------------------------------------------------------


def test_residents_are_agents_reading_the_live_rows(fresh_model):
    m = fresh_model
    d = m.district
    assert len(m.residents) == d.n_residents
    assert Resident not in m.agents_by_type  # none made before someone looks
    r = m.residents[17]
    assert isinstance(r, Resident) and isinstance(r, mesa.Agent)
    assert m.residents[np.int64(17)] is r and m.residents[-1].idx == d.n_residents - 1
    assert list(m.agents_by_type[Resident]) == [r, m.residents[-1]] and r in m.agents
    assert (r.idx, r.compound, r.community) == (17, int(d.compound[17]), int(d.community[17]))
    assert r.origin == ORIGINS[d.origin[17]] and r.age_group == AGE_GROUPS[d.age[17]]
    m.step()  # the views follow the arrays the processes replace
    assert r.satisfaction == m.satisfaction[17] and r.present == m.present[17]
    r.satisfaction = 0.25
    assert m.satisfaction[17] == 0.25
    assert [x.idx for x in m.residents[2:5]] == [2, 3, 4]
    with pytest.raises(IndexError, match="out of range"):
        m.residents[d.n_residents]


# --- no private Mesa names -----------------------------------------------------------------


def _mesa_private_names() -> set[str]:
    """Private attributes and methods of Mesa's model, agents and data collector."""
    model = mesa.Model(rng=1)
    found = (*dir(mesa.Model), *vars(model), *dir(mesa.Agent), *vars(mesa.Agent(model)),
             *dir(mesa.DataCollector), *vars(mesa.DataCollector()))
    return {n for n in found if n.startswith("_") and not n.startswith("__")}


PRIVATE = [re.compile(p) for p in (
    r"mesa\.\w+\._", r"from mesa[\w.]* import (\(\s*)?_", r"import mesa[\w.]*\._",
    r"_HardKeyAgentSet", r"\._agents", r"\.(" + "|".join(sorted(_mesa_private_names())) + r")\b")]
CHECKED = ("model", "agents", "experiments", "analysis", "yanzhou_governance")


def test_no_private_mesa_names_in_the_code():
    files = [f for d in CHECKED for f in (REPO / d).rglob("*.py")]
    assert len(files) > 30
    hits = [f"{f.relative_to(REPO)}:{n}: {line.strip()}" for f in files
            for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
            if any(p.search(line) for p in PRIVATE)]
    assert hits == []


@pytest.mark.parametrize("line", [
    "from mesa.agentset import _HardKeyAgentSet", "model._all_agents._agents.update(x)",
    "model._agents_by_type[Resident] = s", "quiet = model._has_subscribers('agents')",
    "steps = model.datacollector._collection_steps", "x = mesa.agentset._Thing"])
def test_the_private_name_check_catches(line):
    assert any(p.search(line) for p in PRIVATE)
