"""Replicates to estimates: per parameter set, the mean of each measure, the number of runs
it rests on, and its 95 % confidence interval (Student t over the replicates, kept inside
the values the measure can take)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from model.kpis import better, bounds, headline, keys

from .worlds import distinct_particles, draws_note

CONFIDENCE = 0.95
FEW_REPLICATES = 5   # below this, intervals are wide (docs/experiments.md): flagged in tables
STATS = ("mean", "ci_low", "ci_high", "n")   # the columns of each measure in an aggregate


def measure_columns(summary: pd.DataFrame) -> list[str]:
    """The numeric measures of a sweep summary that are aggregated, in its column order: those
    declared in model/kpis.py but wall times and the family members (``category_shares.
    property``) that are not shown by default (headline or KPI row, such as the waits by
    tier); every stored measure stays in the summary."""
    aggregated = set(keys(lambda m: (not m.family or m.headline or m.kpi_row) and not m.timing))
    return [c for c in summary.columns
            if c in aggregated and pd.api.types.is_numeric_dtype(summary[c])]


def mean_ci(values: np.ndarray, measure: str | None = None,
            confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(mean, low, high) of the finite ``values``; the interval is NaN with fewer than two.
    The interval stays inside the bounds of ``measure`` (model/kpis.py), see :func:`interval`."""
    x = np.asarray(values, float)
    x = x[np.isfinite(x)]
    if not len(x):
        return np.nan, np.nan, np.nan
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if len(x) > 1 else np.nan
    low, high = interval(np.array([mean]), np.array([sd]), np.array([len(x)]),
                         bounds(measure) if measure else (-np.inf, np.inf), confidence)
    return mean, float(low[0]), float(high[0])


def interval(mean: np.ndarray, sd: np.ndarray, n: np.ndarray, limits: tuple[float, float],
             confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """Confidence intervals of means from (mean, sd, n) arrays, vectorised over sets.

    Unbounded: Student's t, mean ± t(n−1) · sd/√n. Bounded measures get the same t interval
    on a scale where the bounds are infinitely far away — logit for [a, b] (shares, rates,
    satisfaction), log for [a, ∞) (counts, days, rates per population) — and back: by the
    delta method, the interval of g(mean) is g(mean) ± t · g′(mean) · sd/√n. The interval is
    then always inside the bounds, not symmetric near a bound, contains the plain mean, and
    agrees with the plain t interval when sd/√n is small against the distance to the bounds
    (many replicates). Transforming the means, not each value, keeps runs at a bound (a share
    of 0) usable without shrinking them. A mean on a bound arises only when every value is on
    it (sd = 0: the interval is that point); should values lie outside the declared bounds,
    the plain interval is clipped to them. NaN with n < 2."""
    mean, sd, n = (np.asarray(v, float) for v in (mean, sd, n))
    df = np.where(n >= 2, n - 1, 0).astype(int)
    distinct, at = np.unique(df, return_inverse=True)   # a few replicate counts, many sets
    t = np.array([_t_quantile(0.5 + confidence / 2, d) if d else np.nan for d in distinct])
    half = t[at].reshape(df.shape) * sd / np.sqrt(np.maximum(n, 1))
    lo_bound, hi_bound = limits
    plain = (mean - half, mean + half)
    if not np.isfinite(lo_bound):
        if np.isfinite(hi_bound):
            raise ValueError(f"bounds {limits}: an upper bound needs a lower bound")
        return plain
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if np.isfinite(hi_bound):  # logit of the position between the bounds
            width = hi_bound - lo_bound
            p = (mean - lo_bound) / width
            step = half / (width * p * (1 - p))
            centre = np.log(p / (1 - p))
            low = lo_bound + width / (1 + np.exp(step - centre))
            high = lo_bound + width / (1 + np.exp(-step - centre))
        else:  # log of the distance from the lower bound
            gap = mean - lo_bound
            low, high = lo_bound + gap * np.exp(-half / gap), lo_bound + gap * np.exp(half / gap)
    inside = (mean > lo_bound) & (mean < hi_bound)
    low = np.where(inside, low, np.clip(plain[0], lo_bound, hi_bound))
    high = np.where(inside, high, np.clip(plain[1], lo_bound, hi_bound))
    # the back-transform of a tiny step can round past the mean (e.g. subnormal shares)
    return np.minimum(low, mean), np.maximum(high, mean)


@lru_cache(maxsize=256)
def _t_quantile(q: float, df: int) -> float:
    """Student t quantile, once per (level, replicates) in a whole aggregate."""
    from scipy.stats import t  # here: worker processes that import this module never need it

    return float(t.ppf(q, df))


def aggregate(summary: pd.DataFrame, varied: list[str] | None = None) -> pd.DataFrame:
    """One row per parameter set: the varied parameters, runs done and failed, then
    ``<measure>_mean``, ``<measure>_ci_low``, ``<measure>_ci_high`` and ``<measure>_n`` (the
    runs in which the measure is defined: the mean and interval rest on these) for every
    measure."""
    varied = list(varied or [])
    measures = measure_columns(summary)
    summary = summary.sort_values("set_id", kind="stable")
    sets = summary.drop_duplicates("set_id").set_index("set_id")
    done = summary["status"] == "done"
    head = pd.DataFrame({**{v: sets[v] for v in varied},
                         "runs": done.groupby(summary["set_id"]).sum().astype(int),
                         "failed": (~done).groupby(summary["set_id"]).sum().astype(int),
                         **_worlds_column(summary[done], "set_id")})
    return pd.concat([head, measure_stats(summary[done], "set_id", measures, sets.index)],
                     axis=1).rename_axis("set_id").reset_index()


def group_table(runs: pd.DataFrame, by: str, measures: list[str]) -> pd.DataFrame:
    """One row per value of ``by`` (in order of appearance) over finished ``runs``: ``runs``,
    then every measure's :data:`STATS` and ``<measure>_sd`` (``run.py compare``'s table)."""
    groups = pd.Index(list(dict.fromkeys(runs[by])), name=by)
    sd = runs[measures].astype(float).groupby(runs[by]).std(ddof=1).reindex(groups)
    table = measure_stats(runs, by, measures, groups)
    for m in measures:
        table.insert(table.columns.get_loc(f"{m}_mean") + 1, f"{m}_sd", sd[m])
    table.insert(0, "runs", runs.groupby(by).size().reindex(groups))
    for name, column in _worlds_column(runs, by).items():
        table.insert(1, name, column.reindex(groups))
    return table.reset_index()


def _worlds_column(runs: pd.DataFrame, by: str) -> dict[str, pd.Series]:
    """``{"worlds": finished worlds per group}`` with plausible worlds, else nothing."""
    return {"worlds": runs.groupby(by)["world"].nunique()} if "world" in runs else {}


def measure_stats(runs: pd.DataFrame, by: str, measures: list[str],
                  groups: pd.Index) -> pd.DataFrame:
    """Per group of ``runs`` (in the order of ``groups``), for each measure: mean, 95 % CI
    and n over its finite values, as the columns ``<measure>_<stat>`` of :data:`STATS`."""
    values = runs[measures].astype(float).replace([np.inf, -np.inf], np.nan)
    n = values.groupby(runs[by]).count().reindex(groups, fill_value=0)
    units = estimation_units(values, runs, [by]).groupby(level=0)
    k = units.count().reindex(groups, fill_value=0)
    mean, sd = units.mean().reindex(groups), units.std(ddof=1).reindex(groups)
    columns = {}
    for m in measures:
        low, high = interval(mean[m], sd[m], k[m], bounds(m))
        columns.update({f"{m}_mean": mean[m].to_numpy(), f"{m}_ci_low": low, f"{m}_ci_high": high,
                        f"{m}_n": n[m].to_numpy()})
    return pd.DataFrame(columns, index=groups)


def estimation_units(values: pd.DataFrame | pd.Series, runs: pd.DataFrame,
                     by: list[str]) -> pd.DataFrame | pd.Series:
    """What a mean and its interval are computed over, indexed by ``by``: the runs
    themselves, or with plausible worlds (two or more), each world's mean over its seeds.

    Worlds are the outer level of a two-stage sample (worlds drawn from the posterior, seeds
    within each world): the spread of the K world means holds both the worlds' differences
    and the seed noise left in each mean, so a Student t interval over them (K − 1 degrees
    of freedom) covers the policy's mean over plausible worlds. Pooling the K × R runs as if
    independent would take R seeds of one world for R draws of the world, too narrow."""
    keys = [runs[b] for b in by]
    if "world" not in runs or runs["world"].nunique() < 2:
        return values.set_axis(pd.MultiIndex.from_arrays(keys) if len(by) > 1
                               else pd.Index(keys[0]), axis=0)
    return values.groupby([*keys, runs["world"]], sort=False).mean().droplevel(-1)


def cell(row: pd.Series, m: str) -> str:
    """A measure of an aggregate row as text: mean [95 % CI], and how many runs the mean
    rests on when that is fewer than the set's runs."""
    mean, lo, hi = (row[f"{m}_{s}"] for s in STATS[:3])
    n = row.get(f"{m}_n", row["runs"])
    if n == 0 and row["runs"] > 0:
        return "n/a (undefined in every run)"
    if not np.isfinite(mean):
        return "n/a"
    text = f"{mean:.4g}" if not np.isfinite(lo) else f"{mean:.4g} [{lo:.4g}, {hi:.4g}]"
    return text + (f" ({int(n)} of {int(row['runs'])} runs)" if n < row["runs"] else "")


def table(agg: pd.DataFrame, varied: list[str], measures: Sequence[str] | None = None) -> str:
    """The aggregate as text: one line per parameter set, mean [95 % CI] per measure (the
    headline ones of model/kpis.py unless given), with a note when a set has fewer than
    :data:`FEW_REPLICATES` runs (or, with plausible worlds, worlds)."""
    present = [m for m in measures or headline() if f"{m}_mean" in agg.columns]
    shown = pd.DataFrame({**{v: agg[v] for v in varied}, "runs": agg["runs"],
                          **{m: [cell(r, m) for _, r in agg.iterrows()] for m in present}})
    text = shown.T.to_string(header=False) if len(present) > 4 else shown.to_string(index=False)
    fewest = int(agg["runs"].min()) if len(agg) else 0
    worlds = int(agg["worlds"].min()) if "worlds" in agg and len(agg) else None
    if worlds is not None and 1 < worlds < FEW_REPLICATES:  # the intervals are over worlds
        text += (f"\nnote: only {worlds} plausible world(s) in some set: the 95 % intervals, "
                 f"over the worlds' means, are wide; use at least {FEW_REPLICATES} worlds")
    elif fewest < FEW_REPLICATES:
        text += (f"\nnote: only {fewest} run(s) in some parameter set: the 95 % intervals are "
                 f"wide (or missing); use at least {FEW_REPLICATES} replicates before concluding "
                 "that two sets differ")
    return text


PAIRED = ("difference", "ci_low", "ci_high", "pairs", "higher", "lower", "better", "better_share")
WORLD_PAIRED = ("worlds", "worlds_better", "world_probability")   # with plausible worlds only


def paired_differences(runs: pd.DataFrame, by: str, reference: Any, measures: Iterable[str],
                       on: Sequence[str] = ("seed",),
                       confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Every value of ``by`` but ``reference`` against ``reference``, per measure, over the
    pairs of finished runs that match on ``on`` (the replicate seed; with other varied
    parameters too, so that a pair differs in ``by`` alone; and the world, when the runs
    have a ``world`` column) and where the measure is defined in both. Every set runs on the
    same seeds (common random numbers), so what a seed does to both runs cancels in their
    difference: the interval of the mean difference is then narrower than two sets'
    intervals side by side suggest.

    One row per (value, measure) with the columns ``by``, ``reference``, ``measure`` and
    :data:`PAIRED`:
    mean of (value − reference) over the pairs, its Student t interval (NaN with fewer than
    two pairs; over world means with worlds, see :func:`estimation_units`; kept within ±
    the width of a bounded measure's range), the number of pairs, the pairs in which the
    value is higher and lower, and those in which it is better by model/kpis.py's direction
    of the measure, with their share (NaN for a measure with no better direction, or no
    pairs). With a ``world`` column, also :data:`WORLD_PAIRED`: the worlds with pairs, those
    whose mean paired difference (over their seeds) is better, and that share: the
    probability, across plausible worlds, that the value beats the reference."""
    done = runs[runs["status"] == "done"] if "status" in runs else runs
    worlds = "world" in done
    keys = ["world", *on] if worlds else list(on)
    if done.duplicated([by, *keys]).any():
        raise ValueError(f"runs are not paired: some {by} has two runs with the same {keys}")
    ref = done[done[by] == reference].set_index(keys)
    rows = []
    for value in dict.fromkeys(done[by]):
        if value == reference:
            continue
        own = done[done[by] == value].set_index(keys)
        both = own.index.intersection(ref.index)
        for m in measures:
            d = pd.Series(own.loc[both, m].to_numpy(float) - ref.loc[both, m].to_numpy(float),
                          index=both)
            d = d[np.isfinite(d)]
            rows.append({by: value, "reference": reference, "measure": m,
                         **_paired_row(d, m, worlds, confidence)})
    return pd.DataFrame(rows, columns=[by, "reference", "measure", *PAIRED,
                                       *(WORLD_PAIRED if worlds else ())])


def _paired_row(d: pd.Series, m: str, worlds: bool, confidence: float) -> dict[str, Any]:
    """The :data:`PAIRED` (and :data:`WORLD_PAIRED`) values of the finite differences ``d``
    of measure ``m``, indexed by their pairing keys (the world first, with worlds)."""
    sign = better(m)
    frame = d.to_frame("d").reset_index()
    units = estimation_units(frame["d"], frame.assign(one=0), ["one"])
    mean, low, high = mean_ci(units.to_numpy(), confidence=confidence)
    width = np.subtract(*bounds(m)[::-1])
    low, high = (float(np.clip(v, -width, width)) for v in (low, high))
    higher, lower = int(np.count_nonzero(d > 0)), int(np.count_nonzero(d < 0))
    good = (higher if sign > 0 else lower) if sign else np.nan
    row = {"difference": mean, "ci_low": low, "ci_high": high, "pairs": len(d),
           "higher": higher, "lower": lower, "better": good,
           "better_share": good / len(d) if len(d) else np.nan}
    if worlds:
        per_world = d.groupby(level="world").mean()
        won = int(np.count_nonzero(sign * per_world > 0)) if sign else np.nan
        row.update({"worlds": len(per_world), "worlds_better": won,
                    "world_probability": won / len(per_world) if len(per_world) else np.nan})
    return row


def levels(col: pd.Series) -> list[Any]:
    """The distinct values of a column: sorted when numeric or boolean, else in order."""
    values = list(dict.fromkeys(col.tolist()))
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return sorted(values)
    return values


def factorial(sets: pd.DataFrame, varied: list[str]) -> bool:
    """Whether every combination of the varied values is a set (one parameter at a time can
    then be compared, the others held)."""
    return len(sets[varied].drop_duplicates()) == int(np.prod([sets[v].nunique() for v in varied]))


def sweep_paired(runs: pd.DataFrame, varied: list[str], measures: Iterable[str],
                 reference: dict[str, Any] | None = None) -> pd.DataFrame:
    """A factorial sweep's paired differences: for each varied parameter, every value against
    its ``reference`` value (default its first level, the lowest), paired on the seed, the
    world and the other varied
    parameters (so pooled over them; a pair differs in this parameter alone). Columns
    ``parameter``, ``value``, ``reference``, ``measure`` and those of
    :func:`paired_differences`; empty for a design table or a sweep of one set."""
    columns = ["parameter", "value", "reference", "measure", *PAIRED,
               *(WORLD_PAIRED if "world" in runs else ())]
    done = runs[runs["status"] == "done"] if "status" in runs else runs
    if done.empty or not varied or (len(varied) > 1 and not factorial(done, varied)):
        return pd.DataFrame(columns=columns)
    frames = []
    for p in varied:
        values = levels(done[p])
        if len(values) < 2:
            continue
        others = [v for v in varied if v != p]
        paired = paired_differences(done, p, (reference or {}).get(p, values[0]), measures,
                                    on=[*others, "seed"])
        paired = paired.rename(columns={p: "value"}).assign(parameter=p)
        order = paired["value"].map(values.index)  # the highest value last
        frames.append(paired.iloc[np.argsort(order.to_numpy(), kind="stable")])
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def paired_text(paired: pd.DataFrame, by: str, measures: Sequence[str] | None = None,
                drawn: list[dict[str, Any]] | None = None) -> str:
    """The paired differences as text, first thing a command prints: per value of ``by``
    against its ``reference``, the headline measures' mean difference [95 % CI], the pairs
    in which it is better and, with worlds, the probability across worlds that it is better
    (saying 'K draws, D distinct particles' when the ``drawn`` worlds repeat a particle);
    with a note when there are fewer than :data:`FEW_REPLICATES` pairs."""
    if paired.empty:
        return "no paired differences (a single set, or a design table)"
    shown = paired[paired["measure"].isin(list(measures or headline()))]
    worlds = "world_probability" in shown
    pairs = "(world, seed) pairs" if worlds else "pairs"
    note = draws_note(len(drawn), distinct_particles(drawn)) if worlds and drawn else ""
    note = f" — the worlds are {note}" if note else ""
    lines = []
    for (value, reference), rows in shown.groupby([by, "reference"], sort=False):
        lines.append(f"{by} {value} against {reference} (paired mean difference [95 % CI]; "
                     f"{pairs} in which it is better"
                     + ("; worlds in which it is better" if worlds else "") + note + "):")
        lines += [f"  {r['measure']}: {_paired_cell(r, pairs)}" for _, r in rows.iterrows()]
    fewest = int(shown["pairs"].min()) if len(shown) else 0
    if fewest < FEW_REPLICATES:
        lines.append(f"note: only {fewest} pair(s) for some measure: the paired intervals are "
                     f"wide (or missing); use at least {FEW_REPLICATES} replicates")
    return "\n".join(lines)


def _paired_cell(r: pd.Series, pairs: str) -> str:
    """One measure's paired difference as text (see :func:`paired_text`); ``pairs`` says
    what a pair is."""
    text = (f"{r['difference']:+.4g}" if not np.isfinite(r["ci_low"])
            else f"{r['difference']:+.4g} [{r['ci_low']:+.4g}, {r['ci_high']:+.4g}]")
    if np.isfinite(r["better_share"]):
        text += f"; better in {int(r['better'])} of {int(r['pairs'])} {pairs}"
    if np.isfinite(r.get("world_probability", np.nan)):
        text += (f"; better in {int(r['worlds_better'])} of {int(r['worlds'])} worlds "
                 f"(probability {r['world_probability']:.0%})")
    return text
