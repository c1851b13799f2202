"""Experimental designs (实验设计): a full factorial from ``--vary`` or a design table (one row per
parameter set, e.g. a SALib or Latin-hypercube sample), validated against the parameter schema
before anything runs.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pandas as pd

from model import scenarios
from model.params import ParameterError, Params, check_keys, coerce


def parse_vary(items: list[str]) -> dict[str, list[Any]]:
    """``["KEY=V1,V2", ...]`` -> ``{KEY: [typed values]}``; every key and value is checked."""
    vary: dict[str, list[Any]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(f"--vary expects KEY=V1,V2,..., got '{item}'")
        check_keys({key: text}, where="--vary")
        if key in vary:
            raise ParameterError(f"--vary: parameter '{key}' is given twice; list all its "
                                 "values in one --vary")
        values = [v.strip() for v in text.split(",")]
        if not any(values) or "" in values:
            raise ParameterError(f"--vary {key}: empty value in '{text}'; expected V1,V2,...")
        typed = [coerce(key, v) for v in values]
        if len(set(typed)) != len(typed):
            raise ParameterError(f"--vary {key}: repeated value in '{text}'")
        vary[key] = typed
    return vary


def factorial(vary: dict[str, list[Any]]) -> pd.DataFrame:
    """Every combination of the varied values, one row per parameter set."""
    rows = list(itertools.product(*vary.values()))
    return pd.DataFrame(rows, columns=list(vary)) if vary else pd.DataFrame(index=[0])


def read_design(path: str | Path) -> pd.DataFrame:
    """A CSV design table: a header of parameter names, then one row per parameter set."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"design file '{path}' not found")
    table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    if table.empty or not len(table.columns):
        raise ParameterError(f"design file '{path}' has no rows; expected a header of "
                             "parameter names and one row per parameter set")
    check_keys(dict.fromkeys(table.columns), where=f"design file '{path}' (header)")
    typed = {}
    for name in table.columns:
        values = []
        for row, text in enumerate(table[name], start=2):  # line 1 is the header
            if not text.strip():
                raise ParameterError(f"design file '{path}', line {row}: no value for '{name}'")
            values.append(coerce(name, text))
        typed[name] = values
    return pd.DataFrame(typed)


def combine(vary: dict[str, list[Any]], design: pd.DataFrame | None) -> pd.DataFrame:
    """The design table crossed with the factorial (either may be absent)."""
    grid = factorial(vary)
    if design is None:
        return grid
    both = set(vary) & set(design.columns)
    if both:
        raise ParameterError(f"parameter '{sorted(both)[0]}' is both in --vary and the design "
                             "table; give it in one place")
    return design.merge(grid, how="cross") if vary else design.reset_index(drop=True)


def parameter_sets(scenario: str, design: pd.DataFrame,
                   fixed: dict[str, Any] | None = None) -> list[Params]:
    """The validated parameters of every row: the scenario, then ``fixed``, then the row."""
    out = []
    for i, row in enumerate(design.to_dict("records")):
        values = {**(fixed or {}), **row}
        try:
            out.append(scenarios.load(scenario, values).params)
        except ParameterError as e:
            where = f"parameter set {i} ({_describe(row)})" if row else "the scenario"
            raise ParameterError(f"{where}: {e}") from None
    return out


def _describe(row: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in row.items())
