"""Scenario files: loading, ``extends``, refusal of typos and cycles, commented numbers."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from helpers import REPO

from model import ParameterError, Params, scenarios

SHIPPED = ("baseline", "no_winter_influx", "policy_package", "shanghai_funding", "staffing_18",
           "welfare_posts_2022", "winter_influx_x2")
FILES = sorted((REPO / "model" / "scenario_files").glob("*.toml"))


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_available_lists_the_shipped_scenarios():
    names = scenarios.available()
    assert names == sorted(p.stem for p in FILES)
    assert set(SHIPPED) <= set(names)


@pytest.mark.parametrize("name", scenarios.available())
def test_every_shipped_scenario_loads(name):
    sc = scenarios.load(name)
    assert isinstance(sc.params, Params)
    assert sc.name == name  # the name inside the file matches its file name
    assert sc.description.strip()
    assert sc.path == (REPO / "model" / "scenario_files" / f"{name}.toml").resolve()
    # every value the file (and its parents) set is what the parameters hold
    for key, value in sc.values.items():
        assert getattr(sc.params, key) == value
    # loading by path gives the same parameters as loading by name
    assert scenarios.load(str(sc.path)).params == sc.params


def test_extends_merges_over_the_parent():
    base = scenarios.load("baseline")
    s18 = scenarios.load("staffing_18")
    assert s18.params.staffing_per_10k == 18.0
    assert s18.params == base.params.with_updates(staffing_per_10k=18.0)
    assert s18.values == {**base.values, "staffing_per_10k": 18.0}
    # the funding scenario changes funding only
    sh = scenarios.load("shanghai_funding")
    assert sh.params == base.params.with_updates(funding_per_community_yuan=580_000.0)
    nw = scenarios.load("no_winter_influx")
    assert nw.params == base.params.with_updates(winter_influx=0)


def test_overrides_apply_last_and_are_validated():
    sc = scenarios.load("staffing_18", {"staffing_per_10k": "30", "scale": 0.1})
    assert sc.params.staffing_per_10k == 30.0 and sc.params.scale == 0.1
    assert sc.values["staffing_per_10k"] == 30.0
    with pytest.raises(ParameterError, match="'staffing_per_10K'.*did you mean 'staffing_per_10k'"):
        scenarios.load("baseline", {"staffing_per_10K": 30})
    with pytest.raises(ParameterError, match="'closed_loop'"):
        scenarios.load("baseline", {"closed_loop": "maybe"})
    # overriding can also break a cross-field rule the file respected
    with pytest.raises(ParameterError, match="welfare_posts_per_10k"):
        scenarios.load("welfare_posts_2022", {"staffing_per_10k": 10})


def test_misspelt_parameter_in_file_is_refused(tmp_path):
    path = write(tmp_path, "typo", 'name = "typo"\nextends = "baseline"\n\n[params]\n'
                 "staffing_per_10K = 20  # typo\n")
    with pytest.raises(ParameterError) as e:
        scenarios.load(str(path))
    msg = str(e.value)
    assert "'staffing_per_10K'" in msg and "did you mean 'staffing_per_10k'" in msg
    assert str(path) in msg


def test_unknown_top_level_key_is_refused(tmp_path):
    path = write(tmp_path, "top", 'name = "top"\nextends = "baseline"\n\n[parmas]\n'
                 "staffing_per_10k = 20  # in the wrong table\n")
    with pytest.raises(ParameterError) as e:
        scenarios.load(str(path))
    msg = str(e.value)
    assert "'parmas'" in msg and "did you mean 'params'" in msg
    # a parameter put at the top level instead of under [params]
    path = write(tmp_path, "top2", 'name = "top2"\nstaffing_per_10k = 20  # misplaced\n')
    with pytest.raises(ParameterError, match="'staffing_per_10k'"):
        scenarios.load(str(path))


@pytest.mark.parametrize(("line", "key"), [
    ('staffing_per_10k = "abc"  # bad type', "staffing_per_10k"),
    ("staffing_per_10k = -3  # out of range", "staffing_per_10k"),
    ('staff_allocation = "fair"  # unknown choice', "staff_allocation"),
    ("closed_loop = 1  # not a boolean", "closed_loop"),
    ("days = 2.5  # not an integer", "days"),
])
def test_bad_values_in_file_are_refused(tmp_path, line, key):
    path = write(tmp_path, "bad", f'name = "bad"\n\n[params]\n{line}\n')
    with pytest.raises(ParameterError, match=f"'{key}'"):
        scenarios.load(str(path))


def test_invalid_toml_and_bad_extends_are_refused(tmp_path):
    path = write(tmp_path, "broken", 'name = "broken\n')
    with pytest.raises(ParameterError, match="not valid TOML"):
        scenarios.load(str(path))
    path = write(tmp_path, "ext", 'name = "ext"\nextends = 3\n')
    with pytest.raises(ParameterError, match="extends"):
        scenarios.load(str(path))
    path = write(tmp_path, "ext2", 'name = "ext2"\nextends = "baselin"\n')
    with pytest.raises(ParameterError, match="did you mean 'baseline'"):
        scenarios.load(str(path))
    with pytest.raises(ParameterError, match="does not exist"):
        scenarios.load(str(tmp_path / "missing.toml"))


def test_extends_cycle_is_refused(tmp_path):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text(f'name = "a"\nextends = "{b}"\n')
    b.write_text(f'name = "b"\nextends = "{a}"\n\n[params]\nstaffing_per_10k = 20  # x\n')
    with pytest.raises(ParameterError, match="cycle"):
        scenarios.load(str(a))
    own = tmp_path / "own.toml"
    own.write_text(f'name = "own"\nextends = "{own}"\n')
    with pytest.raises(ParameterError, match="cycle"):
        scenarios.load(str(own))


def test_diamond_extends_is_not_a_cycle(tmp_path):
    """Two files extending the same parent along one chain are fine."""
    mid = write(tmp_path, "mid", 'name = "mid"\nextends = "baseline"\n\n[params]\n'
                "staffing_per_10k = 30.0  # x\n")
    top = write(tmp_path, "top", f'name = "top"\nextends = "{mid}"\n\n[params]\n'
                "closed_loop = false\n")
    sc = scenarios.load(str(top))
    assert sc.params.staffing_per_10k == 30.0 and sc.params.closed_loop is False
    assert sc.params.winter_influx == scenarios.load("baseline").params.winter_influx


def test_relative_extends_is_relative_to_the_file(tmp_path, monkeypatch):
    """A user's scenario that extends a sibling file by relative path must load whatever the
    working directory is (as a name, ``extends`` finds shipped scenarios anyway)."""
    folder = tmp_path / "my_scenarios"
    folder.mkdir()
    write(folder, "parent", 'name = "parent"\nextends = "baseline"\n\n[params]\n'
          "staffing_per_10k = 30.0  # x\n")
    child = write(folder, "child", 'name = "child"\nextends = "parent.toml"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert scenarios.load(str(child)).params.staffing_per_10k == 30.0


@pytest.mark.parametrize(("typo", "suggestion"), [("baselin", "baseline"),
                                                  ("staffing18", "staffing_18"),
                                                  ("policy_pakage", "policy_package")])
def test_unknown_scenario_suggests_close_match(typo, suggestion):
    with pytest.raises(ParameterError) as e:
        scenarios.load(typo)
    msg = str(e.value)
    assert f"'{typo}'" in msg and f"did you mean '{suggestion}'" in msg
    for name in SHIPPED:
        assert name in msg  # the allowed names


# --- every number commented -------------------------------------------------------------------
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'')
ASSIGN = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*=\s*(.*)$")
NUMBER = re.compile(r"(?<![\w.])[+-]?(\d[\d_]*(\.\d[\d_]*)?([eE][+-]?\d+)?|inf|nan)(?![\w.])")


def _numbers(value) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int | float):
        return 1
    if isinstance(value, dict):
        return sum(_numbers(v) for v in value.values())
    if isinstance(value, list):
        return sum(_numbers(v) for v in value)
    return 0


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_number_in_scenario_files_has_a_comment(path):
    numeric_lines = 0
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        code, _, comment = STRING.sub('""', line).partition("#")
        m = ASSIGN.match(code)
        if not m or not NUMBER.search(m.group(2)):
            continue
        numeric_lines += 1
        assert comment.strip(), f"{path.name}:{lineno}: number without a comment: {line.strip()}"
    # the line scan found every number the TOML parser sees (no number slipped past it)
    with path.open("rb") as f:
        assert numeric_lines == _numbers(tomllib.load(f)), path.name
