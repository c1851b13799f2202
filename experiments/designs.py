"""Experimental designs (实验设计): a full factorial from ``--vary`` or a design table (one row per
parameter set, e.g. a SALib or Latin-hypercube sample), validated against the parameter schema
before anything runs.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from pathlib import Path
from typing import Any

import pandas as pd

from model import kpis, scenarios
from model.params import ParameterError, Params, check_keys, checked, coerce

# a step that divides 1 leaves at most this much of 1 over (float rounding only)
EXACT = 1e-9


def parse_vary(items: list[str]) -> dict[str, list[Any]]:
    """``["KEY=V1,V2", ...]`` -> ``{KEY: [typed values]}``; every key and value is checked."""
    vary: dict[str, list[Any]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(f"--vary expects KEY=V1,V2,..., got '{item}'")
        values = [v.strip() for v in text.split(",")] if text.strip() else []
        if "" in values:
            raise ParameterError(f"--vary {key}: empty value in '{text}'; expected V1,V2,...")
        _add(vary, key, values, text)
    return vary


def check_vary(vary: dict[str, Any]) -> dict[str, list[Any]]:
    """A factorial given as a mapping (Python API: lists, tuples, numpy arrays, Series of
    values): the same checks as ``--vary``, on the values themselves (not their text)."""
    if not isinstance(vary, dict):
        raise ParameterError(f"vary must be a mapping {{KEY: [values]}} or a list of "
                             f"'KEY=V1,V2' texts, got {type(vary).__name__}")
    checked: dict[str, list[Any]] = {}
    for key, values in vary.items():
        if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
            raise ParameterError(f"vary['{key}']: {values!r} is not a list of values; expected "
                                 "e.g. [18.0, 24.5]")
        values = list(values)
        _add(checked, str(key), values, ", ".join(map(str, values)))
    return checked


def _add(vary: dict[str, list[Any]], key: str, values: list[Any], text: str) -> None:
    """Check one varied parameter and its values, then add it to ``vary``."""
    check_keys({key: None}, where="--vary")
    if key in vary:
        raise ParameterError(f"--vary: parameter '{key}' is given twice; list all its "
                             "values in one --vary")
    if not values:
        raise ParameterError(f"--vary {key}: no values; expected V1,V2,...")
    typed = [checked(key, v, where="--vary") for v in values]
    if len(set(typed)) != len(typed):
        raise ParameterError(f"--vary {key}: repeated value in '{text}'")
    vary[key] = typed


def factorial(vary: dict[str, list[Any]]) -> pd.DataFrame:
    """Every combination of the varied values, one row per parameter set."""
    rows = list(itertools.product(*vary.values()))
    return pd.DataFrame(rows, columns=list(vary)) if vary else pd.DataFrame(index=[0])


def read_design(path: str | Path) -> pd.DataFrame:
    """A CSV design table: a header of parameter names, then one row per parameter set. As
    spreadsheets save it: a BOM, CRLF line ends, blank lines and ``;`` separators are read."""
    path = Path(path)
    if not path.exists():
        raise ParameterError(f"design file '{path}' not found")
    where = f"design file '{path}'"
    text = scenarios.read_text(path, "design file", "a CSV table: a header of parameter names, "
                               "then one row of values per parameter set")
    first = next(line for line in text.splitlines() if line.strip())
    delimiter = ";" if ";" in first and "," not in first else ","  # e.g. a German Excel
    lines = [(n, row) for n, row in
             enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
             if any(cell.strip() for cell in row)]
    if len(lines) < 2:
        raise ParameterError(f"{where} has no rows; expected a header of "
                             "parameter names and one row per parameter set")
    header = [name.strip() for name in lines[0][1]]
    check_keys(dict.fromkeys(header), where=f"{where} (header)")
    if len(set(header)) != len(header):
        twice = next(h for h in header if header.count(h) > 1)
        raise ParameterError(f"{where}: column '{twice}' appears twice in the header")
    rows: list[list[Any]] = []
    first_line: dict[tuple, int] = {}  # each parameter set once: a repeat would share its runs
    for n, row in lines[1:]:
        if len(row) != len(header):
            raise ParameterError(f"{where}, line {n}: {len(row)} values for {len(header)} "
                                 f"columns ({', '.join(header)})")
        for name, text in zip(header, row, strict=True):
            if not text.strip():
                raise ParameterError(f"{where}, line {n}: no value for '{name}'")
        try:
            typed = [coerce(name, text) for name, text in zip(header, row, strict=True)]
        except ParameterError as e:
            raise ParameterError(f"{where}, line {n}: {e}") from None
        if tuple(typed) in first_line:
            raise ParameterError(f"{where}, line {n}: the same parameter set as line "
                                 f"{first_line[tuple(typed)]}; give each set once (replicates "
                                 "come from --replicates)")
        first_line[tuple(typed)] = n
        rows.append(typed)
    return pd.DataFrame(rows, columns=header)


def check_design(design: pd.DataFrame) -> pd.DataFrame:
    """A design table given as a DataFrame (Python API): known columns, at least one row."""
    if not isinstance(design, pd.DataFrame):
        raise ParameterError(f"design must be a DataFrame or a CSV path, got "
                             f"{type(design).__name__}")
    check_keys(dict.fromkeys(map(str, design.columns)), where="the design table (columns)")
    if design.empty:
        raise ParameterError("the design table has no rows; expected one row per parameter set")
    repeated = design.duplicated()
    if repeated.any():
        raise ParameterError(f"the design table's row {int(repeated.to_numpy().argmax())} repeats "
                             "an earlier parameter set; give each set once (replicates come from "
                             "replicates=)")
    return design


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
    """The validated parameters of every row: the scenario, then ``fixed``, then the row. A
    parameter both fixed and varied is refused rather than silently overridden."""
    both = sorted(set(fixed or {}) & set(design.columns))
    if both:
        raise ParameterError(f"parameter '{both[0]}' is both fixed (--set, --scale or --days) "
                             "and varied; give it in one place")
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


# --- checks shared by the designs over a budget or a headcount (budget.py, staffing_allocation.py)

def base_params(scenario: str, scale: float | None, days: int | None) -> Params:
    """The scenario's parameters with ``scale`` and ``days`` where given: what an experiment
    builds its parameter sets on."""
    return scenarios.load(scenario, {k: v for k, v in (("scale", scale), ("days", days))
                                     if v is not None}).params


def check_objective(objective: str) -> str:
    """An objective (``--objective``) must be one of model/kpis.py's."""
    if objective not in kpis.objectives():
        raise ParameterError(f"--objective '{objective}': unknown objective; allowed: "
                             f"{', '.join(kpis.objectives())}")
    return objective


def divisions(step: float, most: float) -> int | None:
    """How many steps of ``step`` make 1, when ``step`` is from above 0 to ``most`` and
    divides 1 (to :data:`EXACT`); None when it does not. The count can be huge (1e-300 gives
    1e300): callers check what it costs before building anything with it."""
    if not (isinstance(step, int | float) and 0 < step <= most):
        return None
    n = 1 / step
    if not math.isfinite(n) or abs(n - round(n)) >= EXACT:
        return None
    return round(n)


def check_reference(given: str, wanted: str, among: list[str], what: str) -> str:
    """``wanted`` (``--reference`` ``given``, as the experiment reads it) must be one of
    ``among``, the {what} compared."""
    if wanted not in among:
        raise ParameterError(f"--reference '{given}' is not among the {what}; allowed: "
                             f"{', '.join(among)}")
    return wanted
