"""The parameter schema: defaults, documentation, and refusal of bad keys, types and values."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from helpers import run_model
from hypothesis import HealthCheck, assume, given, reject, settings
from hypothesis import strategies as st

from model import ParameterError, Params, make_params
from model.metrics import active_in_run
from model.params import FIELDS, TYPES, allowed_text, coerce, describe

NUMERIC = [n for n, t in TYPES.items() if t in (int, float)]
BOOLS = [n for n, t in TYPES.items() if t is bool]
CHOICES = [n for n in FIELDS if FIELDS[n].metadata["choices"]]


# --- defaults and documentation ----------------------------------------------------------------
def test_defaults_are_valid():
    p = Params()
    assert make_params({}) == p
    assert make_params(None) == p
    # the study's figures are the defaults where the schema cites them
    assert p.urban_population == 244_000            # F2
    assert p.longqiao_population == 123_000         # F10
    assert p.winter_influx == 15_000                # F11
    assert p.staffing_per_10k == 24.5               # F5
    assert p.committee_per_community == 7           # F9
    assert p.funding_per_community_yuan == 200_000  # F13


@pytest.mark.parametrize("name", list(FIELDS))
def test_every_field_has_source_doc_and_consistent_range(name):
    m = FIELDS[name].metadata
    default = FIELDS[name].default
    assert isinstance(m["source"], str) and m["source"].strip(), f"{name} has no source"
    assert isinstance(m["doc"], str) and m["doc"].strip(), f"{name} has no doc"
    kind = TYPES[name]
    assert kind in (int, float, bool, str)
    if kind in (int, float):
        assert m["lo"] is not None and m["hi"] is not None, f"{name} has no range"
        assert m["lo"] <= default <= m["hi"], f"{name} default outside its own range"
    elif kind is str:
        assert m["choices"] and default in m["choices"]
    else:
        assert m["lo"] is None and m["hi"] is None and not m["choices"]
    text = describe(name)
    assert name in text and m["source"] in text and m["doc"] in text
    assert allowed_text(name) in text


def test_params_frozen_and_with_updates_returns_validated_copy():
    p = Params()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.scale = 2.0  # type: ignore[misc]
    q = p.with_updates(staffing_per_10k=18, closed_loop="off")
    assert q.staffing_per_10k == 18.0 and isinstance(q.staffing_per_10k, float)
    assert q.closed_loop is False
    assert p.staffing_per_10k == 24.5 and p.closed_loop is True  # original untouched
    with pytest.raises(ParameterError, match="staffing_per_10k"):
        p.with_updates(staffing_per_10k=-1)
    # a serialisable, complete record of the run's parameters
    d = p.to_dict()
    assert set(d) == set(FIELDS)
    assert Params(**json.loads(json.dumps(d))) == p


# --- unknown keys --------------------------------------------------------------------------------
@pytest.mark.parametrize("build", [
    lambda kw: make_params(kw),
    lambda kw: Params().with_updates(**kw),
], ids=["make_params", "with_updates"])
def test_unknown_key_is_named_with_suggestion(build):
    with pytest.raises(ParameterError) as e:
        build({"staffing_per_10K": 20})
    msg = str(e.value)
    assert "'staffing_per_10K'" in msg
    assert "did you mean 'staffing_per_10k'" in msg


def test_unknown_key_without_close_match_lists_allowed():
    with pytest.raises(ParameterError) as e:
        make_params({"zzqqxx": 1})
    msg = str(e.value)
    assert "zzqqxx" in msg and "did you mean" not in msg
    assert "staffing_per_10k" in msg and "closed_loop" in msg  # the allowed list


def test_constructor_refuses_unknown_key():
    # Params(**kw) is a dataclass constructor: an unknown keyword must not pass silently.
    with pytest.raises((TypeError, ParameterError), match="staffing_per_10K"):
        Params(staffing_per_10K=20)


# --- wrong types ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "value", "allowed"), [
    ("closed_loop", "maybe", "true or false"),
    ("closed_loop", 2, "true or false"),
    ("closed_loop", None, "true or false"),
    ("staffing_per_10k", "abc", "0.0 to 500.0"),
    ("staffing_per_10k", True, "0.0 to 500.0"),
    ("staffing_per_10k", [18], "0.0 to 500.0"),
    ("days", "30.5", "1 to 3650"),
    ("days", 30.5, "1 to 3650"),
    ("staff_allocation", 3, "uniform, proportional"),
])
def test_wrong_type_is_refused(key, value, allowed):
    with pytest.raises(ParameterError) as e:
        make_params({key: value})
    msg = str(e.value)
    assert f"'{key}'" in msg and repr(value) in msg and allowed in msg


@pytest.mark.parametrize(("key", "value"), [
    ("closed_loop", "yes"), ("closed_loop", 1), ("staffing_per_10k", "20"),
    ("staffing_per_10k", True), ("days", 10.0), ("staff_allocation", None),
])
def test_constructor_does_not_coerce(key, value):
    """Params(**kw) validates types strictly; only make_params/with_updates parse strings."""
    with pytest.raises(ParameterError, match=key):
        Params(**{key: value})


def test_coerce_parses_strings_and_widens_int_only():
    assert coerce("closed_loop", "off") is False
    assert coerce("closed_loop", " TRUE ") is True
    assert coerce("days", "30") == 30
    assert coerce("days", 30.0) == 30 and isinstance(coerce("days", 30.0), int)
    assert coerce("staffing_per_10k", 18) == 18.0 and isinstance(coerce("staffing_per_10k", 18), float)
    assert coerce("staffing_per_10k", "1e1") == 10.0
    assert coerce("staff_allocation", "proportional") == "proportional"
    for key, bad in (("days", "3.5"), ("closed_loop", "2"), ("staffing_per_10k", "")):
        with pytest.raises(ParameterError, match=key):
            coerce(key, bad)


# --- out of range -------------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "value", "allowed"), [
    ("staffing_per_10k", -1.0, "0.0 to 500.0"),
    ("staffing_per_10k", float("nan"), "0.0 to 500.0"),
    ("staffing_per_10k", "inf", "0.0 to 500.0"),
    ("scale", 0.0, "0.001 to 10.0"),
    ("scale", -0.5, "0.001 to 10.0"),
    ("days", 0, "1 to 3650"),
    ("party_member_share", 1.5, "0.0 to 1.0"),
])
def test_out_of_range_is_refused(key, value, allowed):
    with pytest.raises(ParameterError) as e:
        make_params({key: value})
    msg = str(e.value)
    assert f"'{key}'" in msg and "out of range" in msg and allowed in msg


def test_unknown_choice_lists_allowed_values_and_suggests():
    with pytest.raises(ParameterError) as e:
        make_params({"staff_allocation": "fair"})
    msg = str(e.value)
    assert "'staff_allocation'" in msg and "'fair'" in msg
    assert "uniform" in msg and "proportional" in msg
    with pytest.raises(ParameterError, match="did you mean 'uniform'"):
        make_params({"staff_allocation": "uniforn"})


def test_scale_leaving_too_few_residents_is_refused():
    make_params({"scale": 0.001})  # 244 residents: allowed
    with pytest.raises(ParameterError, match="'scale'.*fewer than 100"):
        make_params({"scale": 0.001, "urban_population": 50_000, "longqiao_population": 20_000})


# --- cross-field checks -------------------------------------------------------------------------
@pytest.mark.parametrize(("values", "keys"), [
    ({"community_size_min": 20_000, "community_size_max": 10_000},
     ("community_size_min", "community_size_max")),
    ({"longqiao_population": 300_000}, ("longqiao_population", "urban_population")),
    ({"welfare_posts_per_10k": 30.0, "staffing_per_10k": 20.0},
     ("welfare_posts_per_10k", "staffing_per_10k")),
    ({"professional_share": 0.7, "activity_share": 0.4}, ("professional_share", "activity_share")),
    ({"heating_start_day": 50, "heating_end_day": 74}, ("heating_start_day", "heating_end_day")),
    ({"heating_start_day": 74, "heating_end_day": 74}, ("heating_start_day", "heating_end_day")),
])
def test_cross_field_checks(values, keys):
    with pytest.raises(ParameterError) as e:
        make_params(values)
    for key in keys:
        assert f"'{key}'" in str(e.value)


def test_cross_field_boundaries_are_allowed():
    make_params({"community_size_min": 8000, "community_size_max": 8000})
    make_params({"welfare_posts_per_10k": 24.5})
    make_params({"professional_share": 0.6, "activity_share": 0.4})
    make_params({"longqiao_population": 244_000})


# --- property tests: malformed parameter sets ---------------------------------------------------
def _valid_value(name: str):
    """A strategy of valid values for field ``name`` (any field)."""
    m, kind = FIELDS[name].metadata, TYPES[name]
    if kind is bool:
        return st.booleans()
    if kind is str:
        return st.sampled_from(m["choices"])
    if kind is int:
        return st.integers(int(math.ceil(m["lo"])), int(m["hi"]))
    return st.floats(m["lo"], m["hi"], allow_nan=False)


@st.composite
def bad_entry(draw):
    """(key, value) that the schema must refuse, with the key the message must name."""
    how = draw(st.sampled_from(["unknown", "type", "range", "choice"]))
    if how == "unknown":
        key = draw(st.text("abcdefghijklmnopqrstuvwxyz_0123456789K", min_size=1, max_size=25))
        assume(key not in FIELDS)
        return key, draw(st.one_of(st.integers(), st.text(max_size=5), st.booleans()))
    if how == "choice":
        key = draw(st.sampled_from(CHOICES))
        value = draw(st.text(max_size=12))
        assume(value not in FIELDS[key].metadata["choices"])
        return key, value
    if how == "type":
        key = draw(st.sampled_from(list(FIELDS)))
        kind = TYPES[key]
        if kind is bool:
            value = draw(st.one_of(st.integers(2, 99), st.floats(allow_nan=False), st.none(),
                                   st.sampled_from(["maybe", "y", "2", "tru", ""])))
        elif kind is str:
            value = draw(st.one_of(st.integers(), st.floats(), st.booleans(), st.none()))
        else:
            value = draw(st.one_of(
                st.booleans(), st.none(), st.lists(st.integers(), max_size=2),
                st.sampled_from(["abc", "", "1,5", "12 apples", "--3", "0x10"]),
                *([st.floats(0.1, 0.9).map(lambda x: 1 + x)] if kind is int else [])))
        return key, value
    key = draw(st.sampled_from(NUMERIC))
    m = FIELDS[key].metadata
    delta = draw(st.floats(1e-3, 1e6, allow_nan=False))
    if TYPES[key] is int:
        delta = max(1, int(delta))
    value = m["lo"] - delta if draw(st.booleans()) else m["hi"] + delta
    if TYPES[key] is int:
        value = int(value)
    return key, value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(bad=bad_entry(), others=st.lists(st.sampled_from(["staffing_per_10k", "closed_loop",
                                                         "days", "patience_days",
                                                         "staff_allocation"]), max_size=3),
       data=st.data(), as_string=st.booleans())
def test_malformed_parameter_sets_are_refused_naming_the_key(bad, others, data, as_string):
    key, value = bad
    values = {o: data.draw(_valid_value(o)) for o in others if o != key}
    if as_string and not isinstance(value, str | list | type(None)):
        value = str(value).lower()  # as typed on the command line (--set KEY=VALUE)
        if key in FIELDS:
            try:  # a string can become valid after parsing; such draws are not malformed
                make_params({key: value})
                assume(False)
            except ParameterError:
                pass
    values[key] = value
    with pytest.raises(ParameterError) as e:
        make_params(values)
    assert f"'{key}'" in str(e.value)


# --- property tests: valid parameter sets run --------------------------------------------------
BEHAVIOURAL = ("staffing_per_10k", "staff_allocation", "closed_loop", "case_rate_scale",
               "patience_days", "hotline_propensity", "silence_propensity",
               "supervision_share", "supervision_rounds", "funding_per_community_yuan",
               "origin_homophily", "effort_scale", "susceptibility", "influence_every_days",
               "building_head_coverage", "three_tier_platform", "joint_meetings",
               "smart_service", "special_grid_workers", "double_reporting",
               "five_level_coverage", "grid_integration", "red_property", "two_evaluations",
               "winter_influx", "hotline_deadline_days", "dispatch_days",
               "network_disputes", "word_of_mouth_weight", "word_of_mouth_days",
               "recruitment_weight", "tie_reference_degree")


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_random_valid_parameter_sets_run(data):
    chosen = data.draw(st.lists(st.sampled_from(BEHAVIOURAL), min_size=3, max_size=8,
                                unique=True))
    values = {k: data.draw(_valid_value(k), label=k) for k in chosen}
    if "case_rate_scale" in values:  # keep the case volume small enough to be fast
        values["case_rate_scale"] = min(values["case_rate_scale"], 20.0)
    if "winter_influx" in values:
        values["winter_influx"] = min(values["winter_influx"], 100_000)
    values["scale"] = data.draw(st.floats(0.002, 0.01), label="scale")
    values["days"] = data.draw(st.integers(1, 45), label="days")
    seed = data.draw(st.integers(0, 2**31 - 1), label="seed")
    p = make_params(values)
    model, s = run_model(p, seed=seed)
    assert s["days"] == p.days
    for key in ("population", "hotline_tickets_per_10k_per_year", "disputes_per_1000_per_month",
                "resolution_rate", "mean_satisfaction", "participation_rate",
                "workload_per_worker", "utilisation"):
        assert math.isfinite(s[key]) and s[key] >= 0, key
    for key in ("resolution_rate", "mean_satisfaction", "participation_rate"):
        assert 0.0 <= s[key] <= 1.0, key
    assert s["mean_days_to_close"] is None or (math.isfinite(s["mean_days_to_close"])
                                                and s["mean_days_to_close"] >= 0)
    shares = np.array(list(s["category_shares"].values()))
    assert np.all(shares >= 0) and (shares.sum() == 0 or abs(shares.sum() - 1) < 1e-9)
    assert sum(s["case_states"].values()) == np.count_nonzero(active_in_run(model.cases))
    json.dumps(s, allow_nan=False)  # the summary is strict JSON


# --- numpy scalars (pandas designs, SALib samples, loops over np.array) -------------------------
INTS = [n for n, t in TYPES.items() if t is int]
FLOATS = [n for n, t in TYPES.items() if t is float]


@settings(max_examples=60, deadline=None)
@given(data=st.data(), name=st.sampled_from(INTS + FLOATS + BOOLS),
       dtype=st.sampled_from([np.int64, np.int32, np.uint16, np.float64, np.float32]))
def test_numpy_scalars_are_the_python_values_of_their_kind(data, name, dtype):
    """A numpy scalar of the right kind gives the same Params, stored as plain Python, with
    the same run key as the Python value; of the wrong kind it is refused as that is."""
    from experiments.runner import run_key

    value = data.draw(_valid_value(name), label="value")
    if TYPES[name] is bool:
        np_value = np.bool_(value)
    else:
        if np.issubdtype(dtype, np.integer):  # a whole value within the dtype's range
            info = np.iinfo(dtype)
            value = min(max(int(value), int(info.min)), int(info.max))
        np_value = dtype(value)
        assume(np_value.item() == value)  # representable in the dtype (float32)
    try:
        expected = make_params({name: value})
    except ParameterError:  # valid alone, but not with the other defaults (cross-field checks)
        reject()
    got = make_params({name: np_value})
    assert got == expected and type(getattr(got, name)) is TYPES[name]
    assert json.dumps(got.to_dict()) == json.dumps(expected.to_dict())
    assert run_key(got, 1) == run_key(expected, 1)
    if type(np_value.item()) is TYPES[name]:  # the constructor, strict, as with Python values
        assert Params(**{name: np_value}) == Params(**{name: np_value.item()})


@pytest.mark.parametrize(("key", "value"), [
    ("days", np.True_), ("staffing_per_10k", np.False_),   # a switch is not a number
    ("days", np.float64(30.5)),                            # not a whole number
    ("closed_loop", np.int64(1)), ("closed_loop", np.float64(1.0)),
    ("staff_allocation", np.int64(0)),
])
def test_numpy_scalars_of_the_wrong_kind_are_refused(key, value):
    with pytest.raises(ParameterError, match=f"'{key}'.*not a valid"):
        make_params({key: value})


def test_numpy_values_the_issue_named():
    assert coerce("days", np.int64(5)) == 5 and type(coerce("days", np.int64(5))) is int
    assert coerce("closed_loop", np.True_) is True
    assert coerce("days", np.float64(5.0)) == 5
    p = Params(days=np.int64(30))
    assert p == Params(days=30) and type(p.days) is int and hash(p) == hash(Params(days=30))
    assert type(Params(staffing_per_10k=np.float64(18.0)).staffing_per_10k) is float
    with pytest.raises(ParameterError, match="'days'.*expected int"):
        Params(days=np.float64(30.0))  # strict, as Params(days=30.0)
