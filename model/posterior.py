"""A posterior's particles (``posterior.parquet`` of ``calibrate --method abc``, or any
particle file with the schema's columns and a ``weight``): read and checked once, and parameter
sets drawn from it by weight. ``validate --posterior`` draws one set per seed; ``compare``,
``sweep`` and ``staffing`` with ``--worlds K`` draw K plausible worlds (experiments/worlds.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .metrics import MODEL_VERSION
from .params import FIELDS, ParameterError, checked, shorten

RUN_SETTINGS = ("scale", "days")
# The particles of the shipped calibration (docs/calibration.md, "The production run"): what
# ``--posterior baseline`` reads, so that users need no path into the installed package.
SHIPPED = {"baseline": Path(__file__).parent / "scenario_files" / "baseline_posterior.parquet"}


def resolve(path: str | Path) -> Path:
    """The file behind ``--posterior``: a shipped posterior's name, or a path."""
    return SHIPPED.get(str(path), Path(path))


def load_posterior(path: str | Path, option: str = "--posterior") -> pd.DataFrame:
    """A posterior's particles (one column per schema parameter, plus ``weight``), checked:
    ParameterError naming ``option``, the problem and what is allowed. ``path`` may name a
    shipped posterior (``baseline``)."""
    path = resolve(path)
    allowed = ("allowed: 'baseline' (the shipped posterior) or a parquet file of particles, one "
               "column per parameter plus 'weight' (posterior.parquet of `calibrate --method abc`)")
    where = f"{option} '{shorten(str(path))}'"
    if not path.is_file():
        raise ParameterError(f"{where} is not a file; {allowed}")
    try:
        post = pd.read_parquet(path)
    except Exception as e:  # noqa: BLE001 - pyarrow raises many kinds for a bad file
        raise ParameterError(f"{where} cannot be read as parquet ({type(e).__name__}); "
                             f"{allowed}") from None
    stamped = post.attrs.get("model_version")
    if stamped is not None and stamped != MODEL_VERSION:
        raise ParameterError(f"{where} is a posterior of model version {stamped}, not "
                             f"{MODEL_VERSION}; allowed: particles of this version (run "
                             "`calibrate --method abc` again) or an unstamped particle file")
    if "weight" not in post.columns:
        raise ParameterError(f"{where} has no 'weight' column; {allowed}")
    names = [c for c in post.columns if c != "weight"]
    if not names:
        raise ParameterError(f"{where} has no parameter column; {allowed}")
    for name in names:
        if name not in FIELDS:
            raise ParameterError(f"{where}: column '{shorten(str(name))}' is not a parameter; "
                                 "allowed: parameters of `python run.py params`, plus 'weight'")
        if name in RUN_SETTINGS:
            raise ParameterError(f"{where}: column '{name}' is a run setting; allowed: model "
                                 "parameters (give --scale instead)")
    if not len(post):
        raise ParameterError(f"{where} has no particles; {allowed}")
    w = pd.to_numeric(post["weight"], errors="coerce").to_numpy(float)
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ParameterError(f"{where}: 'weight' must be finite, non-negative numbers with a "
                             "positive sum")
    for name in names:  # every value allowed on its own (cross-field checks come per draw)
        for value in post[name].tolist():
            checked(name, value, where=where)
    return post


def draw(post: pd.DataFrame, n: int, seed: int, replace: bool = True) -> list[dict[str, Any]]:
    """``n`` parameter sets drawn from the particles by weight (seeded): with replacement
    (independent draws, as ``validate --posterior`` needs), or without, ``n`` distinct
    particles of positive weight, each next one by weight among those left (at most
    :func:`drawable` of them)."""
    return at_rows(post, draw_rows(post, n, seed, replace))


def draw_rows(post: pd.DataFrame, n: int, seed: int, replace: bool = True) -> np.ndarray:
    """The particle rows :func:`draw` takes (their positions in ``post``)."""
    w = post["weight"].to_numpy(float)
    return np.random.default_rng(seed).choice(len(post), size=n, p=w / w.sum(), replace=replace)


def at_rows(post: pd.DataFrame, rows: np.ndarray) -> list[dict[str, Any]]:
    """The parameter sets of the particles at positions ``rows`` of ``post``."""
    names = [c for c in post.columns if c != "weight"]
    return [{name: checked(name, post[name].iloc[i]) for name in names} for i in rows]


def drawable(post: pd.DataFrame) -> int:
    """How many distinct particles :func:`draw` without replacement can give: those of
    positive weight."""
    return int(np.count_nonzero(post["weight"].to_numpy(float) > 0))
