"""Plausible worlds (可信世界): K parameter sets drawn from a posterior's particles, each run
with every policy of an experiment on the same replicate seeds (docs/experiments.md,
"Plausible worlds").

A world fixes what the calibration left uncertain (the particle's parameters); a policy is
what the experiment compares (a scenario, a sweep's parameter set, an allocation rule). World
w's values go on top of every policy's parameters, so that within a world the policies differ
in what they vary alone. A posterior column that the policies themselves vary would make the
world undo the comparison: it is refused.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.params import ParameterError, Params, shorten
from model.posterior import at_rows, draw_rows, drawable, load_posterior

WORLD_STREAM = 14  # the worlds' own seed stream: never one of the replicate seeds' spawns
SEARCH_WORLDS = 1  # its sub-stream for the worlds the optimized staffing rule is searched in


def check_worlds(posterior: str | Path | None, worlds: int | None, replace: bool = False) -> None:
    """``--posterior`` and ``--worlds`` come together, with K ≥ 1; ``--replace`` needs them."""
    if replace and posterior is None and worlds is None:
        raise ParameterError("--replace needs --posterior FILE --worlds K: it draws the worlds "
                             "with replacement")
    if (posterior is None) != (worlds is None):
        given, needed = (("--posterior", "--worlds K") if worlds is None
                         else ("--worlds", "--posterior FILE"))
        raise ParameterError(f"{given} needs {needed}: plausible worlds are K draws from a "
                             "posterior's particles")
    if worlds is not None and (isinstance(worlds, bool) or not isinstance(worlds, int)
                               or worlds < 1):
        raise ParameterError(f"--worlds {worlds!r}: allowed: a whole number of worlds, 1 or more")


def draw_worlds(posterior: str | Path | None, worlds: int | None, seed: int,
                replace: bool = False) -> list[dict[str, Any]] | None:
    """K parameter sets drawn by weight from the particles in ``posterior`` (checked by
    model/posterior.py), seeded from the experiment's ``seed`` on a stream of their own: the
    same worlds for every policy of the experiment and on every rerun. None without worlds.

    K distinct particles unless ``replace`` (then K independent draws, a particle possibly
    more than once): more worlds than particles of positive weight are refused without it."""
    check_worlds(posterior, worlds, replace)
    if posterior is None:
        return None
    post, rows = _evaluation_rows(posterior, worlds, seed, replace)
    return at_rows(post, rows)


def _evaluation_rows(posterior: str | Path, worlds: int, seed: int,
                     replace: bool) -> tuple[pd.DataFrame, np.ndarray]:
    """The posterior and the rows of :func:`draw_worlds`'s particles."""
    post = load_posterior(posterior)
    if not replace and worlds > drawable(post):
        raise ParameterError(f"--worlds {worlds}: '{shorten(str(posterior))}' has only "
                             f"{drawable(post)} particles of positive weight; allowed: at most "
                             f"{drawable(post)} worlds, or --replace to draw particles more than "
                             "once")
    return post, draw_rows(post, worlds, _state(seed, WORLD_STREAM), replace)


def _state(*entropy: int) -> int:
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def draw_search_worlds(posterior: str | Path, worlds: int, seed: int,
                       replace: bool = False) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The K worlds the optimized staffing rule is searched in, apart from the K worlds of
    :func:`draw_worlds` it is evaluated in: drawn by weight, on a sub-stream of their own,
    from the particles that are not among the evaluation worlds (without ``replace``, the
    evaluation and search worlds together are one draw of 2K distinct particles, split in
    two), and how they were drawn (:data:`SEARCH_DRAW`: ``how``, and the ``particles`` left).

    Too few particles for both: with fewer than K left, the search worlds are K draws with
    replacement from those left; with none left, they are the evaluation worlds themselves
    (the search is then not apart from the evaluation in its worlds, only in its seeds)."""
    post, rows = _evaluation_rows(posterior, worlds, seed, replace)
    rest = post.copy()
    rest.iloc[np.unique(rows), rest.columns.get_loc("weight")] = 0.0
    left = drawable(rest)
    if left == 0:
        return at_rows(post, rows), {"how": "same", "particles": 0}
    distinct = not replace and left >= worlds
    picked = draw_rows(rest, worlds, _state(seed, WORLD_STREAM, SEARCH_WORLDS), not distinct)
    return at_rows(post, picked), {"how": "distinct" if distinct else "repeated",
                                   "particles": left}


# How the search worlds were drawn (the manifest's ``search_draw``), in the report's words
SEARCH_DRAW = {
    "distinct": "distinct particles, none of them among the worlds the rules are evaluated in",
    "repeated": "drawn with replacement from the {particles} particle(s) not among the worlds "
                "the rules are evaluated in",
    "same": "the same worlds as those the rules are evaluated in: the posterior has no "
            "particle left to draw them apart, so the rule is evaluated in the worlds it was "
            "selected in (on other seeds)"}


def search_draw_text(search_draw: dict[str, Any]) -> str:
    """How the search worlds were drawn, in words (:data:`SEARCH_DRAW`)."""
    return SEARCH_DRAW[search_draw["how"]].format(particles=search_draw.get("particles"))


def varied(param_sets: list[Params]) -> list[str]:
    """The parameters whose values differ between the sets: what the experiment compares."""
    return [f.name for f in fields(Params)
            if len({repr(getattr(p, f.name)) for p in param_sets}) > 1]


def in_worlds(param_sets: list[Params], worlds: list[dict[str, Any]]) -> list[Params]:
    """Every set in every world, world-minor (set s, world w at ``s * K + w``): each set's
    parameters with the world's values on top. A world value breaking a set's cross-field
    checks, or a posterior column that the sets vary, is refused (ParameterError)."""
    clash = sorted(set(varied(param_sets)) & set(worlds[0]))
    if clash:
        raise ParameterError(f"--posterior: column '{clash[0]}' is a parameter the experiment "
                             "varies; a world would override the comparison (allowed: a "
                             "posterior without the varied parameters)")
    out = []
    for p in param_sets:
        for w, world in enumerate(worlds):
            try:
                out.append(Params(**{**asdict(p), **world}))
            except ParameterError as e:
                raise ParameterError(f"--posterior: world {w} is not allowed with these "
                                     f"parameters: {shorten(str(e))}") from None
    return out


def split_worlds(summary: pd.DataFrame, k: int) -> pd.DataFrame:
    """A summary planned by :func:`in_worlds` back to the experiment's sets: ``set_id`` of
    the policy and a ``world`` column (0..K-1) after it."""
    flat = summary["set_id"].to_numpy()
    summary = summary.assign(set_id=flat // k)
    summary.insert(int(summary.columns.get_loc("set_id")) + 1, "world", flat % k)
    return summary


def worlds_meta(posterior: str | Path | None, drawn: list[dict[str, Any]] | None,
                replace: bool = False) -> dict[str, Any]:
    """The manifest's record of the worlds (none without them): the particle file, whether
    they were drawn with replacement, and each world's parameter values, in the order of the
    ``world`` column."""
    return {} if not drawn else {"posterior": str(posterior), "replace": replace,
                                 "worlds": drawn}


def distinct_particles(worlds: list[dict[str, Any]]) -> int:
    """How many distinct particles ``worlds`` were drawn from (fewer than the worlds only
    with --replace)."""
    return len({repr(sorted(w.items())) for w in worlds})


def worlds_counted(k: int, distinct: int | None = None) -> str:
    """'K plausible worlds', and with fewer ``distinct`` particles than worlds (drawn with
    replacement) '(K draws, D distinct particles)' after it: a particle drawn twice is not
    two independent worlds."""
    note = draws_note(k, distinct)
    return f"{k:,} plausible world{'s' if k != 1 else ''}" + (f" ({note})" if note else "")


def draws_note(k: int, distinct: int | None) -> str:
    """'K draws, D distinct particles' when fewer particles than worlds, else ''."""
    if distinct is None or distinct >= k:
        return ""
    return f"{k:,} draws, {distinct:,} distinct particle{'s' if distinct != 1 else ''}"


def in_k_worlds(drawn: list[dict[str, Any]] | None) -> str:
    """' × K worlds' for a plan's description; '' without worlds, so that plans without them
    read as before."""
    return f" × {len(drawn):,} world{'s' if len(drawn) != 1 else ''}" if drawn else ""
