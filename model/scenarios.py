"""Scenario files: TOML under ``model/scenario_files/``, each a name, a description, optionally
``extends = "other"``, and a ``[params]`` table stating only the differences.

Unknown top-level keys, unknown parameters, wrong types and out-of-range values are refused
with a message naming the key and what is allowed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .params import TYPES, ParameterError, Params, allowed_text, check_keys, coerce, did_you_mean

SCENARIO_DIR = Path(__file__).resolve().parent / "scenario_files"
TOP_LEVEL_KEYS = ("name", "description", "extends", "params")


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    params: Params
    path: Path
    values: dict[str, Any]  # the parameter values the file (and its parents) set


def available() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def resolve(name_or_path: str, relative_to: Path | None = None) -> Path:
    """A scenario name (file in ``model/scenario_files/``) or a path to a TOML file; a relative path in
    ``extends`` is taken from the folder of the file that extends."""
    if not isinstance(name_or_path, str | Path):
        raise ParameterError(f"scenario {name_or_path!r} is a {type(name_or_path).__name__}; "
                             "allowed: a scenario name or a path to a .toml file")
    if not str(name_or_path).strip():
        raise ParameterError("scenario is empty; allowed: a scenario name "
                             f"({', '.join(available())}) or a path to a .toml file")
    path = Path(name_or_path)
    if relative_to is not None and not path.is_absolute() and (relative_to / path).is_file():
        path = relative_to / path
    if path.suffix == ".toml" or path.exists():
        if not path.exists():
            raise ParameterError(f"scenario file '{name_or_path}' does not exist")
        return path  # a directory or an unreadable file is refused when read
    candidate = SCENARIO_DIR / f"{name_or_path}.toml"
    if candidate.is_file():
        return candidate
    names = available()
    hint = did_you_mean(name_or_path, names)
    raise ParameterError(f"unknown scenario '{name_or_path}'{hint}; allowed: {', '.join(names)} "
                         "or a path to a .toml file")


def read_text(path: Path, what: str, expected: str) -> str:
    """The text of an input file (UTF-8, with or without the BOM spreadsheets and Windows
    editors write), or a one-line ParameterError saying why it cannot be one: ``what`` names
    the kind of file ("scenario file"), ``expected`` what it should hold."""
    def refuse(why: str) -> ParameterError:
        return ParameterError(f"{what} '{path}' {why}; expected {expected}")

    if path.is_dir():
        raise refuse("is a directory")
    if path.exists() and not path.is_file():  # a FIFO or a device would block or never end
        raise refuse("is not a regular file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise refuse(f"cannot be read ({e.strerror or e})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise refuse(f"is not UTF-8 text (byte 0x{data[e.start]:02x} at position {e.start})") from None
    nul = text.find("\0")  # zeros are valid UTF-8, but no text file holds them
    if nul >= 0:
        raise refuse(f"is binary, not text (NUL character at position {nul})")
    if not text.strip():
        raise refuse("is empty")
    return text


def read_toml(path: Path, what: str, expected: str) -> dict[str, Any]:
    """A TOML input file as a table, every failure a one-line ParameterError."""
    text = read_text(path, what, expected)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ParameterError(f"{what} '{path}' is not valid TOML: {e}") from None


def _read(path: Path) -> dict[str, Any]:
    data = read_toml(path, "scenario file", "a TOML file with name, description, extends and "
                     "[params]")
    unknown = [k for k in data if k not in TOP_LEVEL_KEYS]
    if unknown:
        hint = did_you_mean(unknown[0], TOP_LEVEL_KEYS)
        raise ParameterError(f"unknown key '{unknown[0]}' in scenario file '{path}'{hint}; "
                             f"allowed: {', '.join(TOP_LEVEL_KEYS)} (parameters go under "
                             "[params])")
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise ParameterError(f"'params' in scenario file '{path}' must be a table")
    check_keys(params, where=f"scenario file '{path}'")
    return data


def scenario_values(name_or_path: str, _seen: tuple[Path, ...] = ()) -> tuple[Path, dict, dict]:
    """(path, file data, merged parameter values) following ``extends``."""
    path = resolve(name_or_path, _seen[-1].parent if _seen else None).resolve()
    if path in _seen:
        chain = " -> ".join(p.stem for p in (*_seen, path))
        raise ParameterError(f"scenario 'extends' forms a cycle: {chain}")
    data = _read(path)
    values: dict[str, Any] = {}
    parent = data.get("extends")
    if parent is not None:
        if not isinstance(parent, str):
            raise ParameterError(f"'extends' in scenario file '{path}' must be a scenario name")
        _, _, values = scenario_values(parent, (*_seen, path))
    values.update({k: _from_toml(k, v, path) for k, v in data.get("params", {}).items()})
    return path, data, values


def _from_toml(key: str, value: Any, path: Path) -> Any:
    """A TOML value has its own type: text ("20") is not taken for a number or a switch, as
    it is from the command line."""
    if isinstance(value, str) and TYPES[key] is not str:
        raise ParameterError(f"parameter '{key}' in scenario file '{path}' is text ({value!r}); "
                             f"write the {TYPES[key].__name__} without quotes "
                             f"(allowed: {allowed_text(key)})")
    return coerce(key, value)


def load(name_or_path: str, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load a scenario and apply ``overrides`` (e.g. from ``--set``), validating everything."""
    path, data, values = scenario_values(name_or_path)
    overrides = dict(overrides or {})
    check_keys(overrides, where="--set")
    values.update({k: coerce(k, v) for k, v in overrides.items()})
    return Scenario(name=str(data.get("name", path.stem)),
                    description=str(data.get("description", "")),
                    params=Params(**values), path=path, values=values)
