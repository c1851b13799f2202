"""Staffing allocation (社区工作力量配置): for a fixed headcount of community staff, compare how
to split it over the communities — today's uniform rule (F9: the same committee everywhere,
the rest in equal shares), by population, by expected case load (winter included), and an
allocation optimised with the simulation itself.

The optimised rule keeps every community's committee (F9: a statutory body) and searches how
to split the rest — the blends of equal shares, population and expected load
(``staff_allocation = mix``) — by greedy marginal gain on a lattice of weights: from the
best corner, move ``step`` of weight between two components while the objective improves,
then halve the step once. The search uses its own replicate seeds; every rule, the optimised
one included, is then evaluated on the same fresh seeds, so the optimised rule is not
flattered by the noise it was selected on.

With plausible worlds the search's objective is the mean over worlds of its own, drawn from
the particles not among the evaluation's worlds (experiments/worlds.py, draw_search_worlds:
not those it is judged in, unless the posterior has too few particles); each point
runs once per (world, seed) pair of :func:`search_pairs`, max(K, R) runs, not K × R
(docs/experiments.md, "Robust staffing"). The rules are then also ranked by their regret
across the evaluation worlds (experiments/regret.py).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model import kpis
from model.calibration import replicate_seeds
from model.params import FIELDS, ParameterError, Params

from . import designs, plan_limits
from .aggregate import paired_differences
from .executors import Backend, open_backend
from .outdir import check_out_dir
from .regret import check_robust, regret_table, robust_summary
from .runner import Task, run_key
from .store import atomic_write, write_json
from .sweep import finish, run_plan, run_sets
from .worlds import draw_search_worlds, draw_worlds, in_k_worlds, in_worlds, worlds_meta

RULES = ("uniform", "proportional", "demand", "optimized")
def minimised(measure: str) -> int:
    """+1 when lower values of ``measure`` rank first, -1 when higher ones do: the better
    direction declared in model/kpis.py (lower first for a measure without one)."""
    return -kpis.better(measure) or 1


WEIGHTS = ("staff_weight_population", "staff_weight_demand")
MAX_ROUNDS = 12


def _check(rules: list[str], objective: str, total: int, step: float) -> None:
    for rule in rules:
        if rule not in RULES:
            raise ParameterError(f"unknown allocation rule '{rule}'; allowed: {', '.join(RULES)}")
    if not rules or len(set(rules)) != len(rules):
        raise ParameterError(f"--rules needs distinct rules from: {', '.join(RULES)}")
    designs.check_objective(objective)
    if total < 1:
        raise ParameterError(f"--total must be a positive headcount, got {total}")
    if designs.divisions(step, 0.5) is None:
        raise ParameterError(f"--step {step} must divide 1 and be at most 0.5 (e.g. 0.25, 0.2)")


def _check_total(total: int, base: Params) -> None:
    """The headcount as staff per 10,000 residents must be within the schema's range (the
    error names --total, which the user gave, not the parameter it becomes)."""
    highest = FIELDS["staffing_per_10k"].metadata["hi"]
    most = int(highest * base.urban_population / 10_000)
    if total > most:
        raise ParameterError(f"--total {total:,} is {total * 10_000 / base.urban_population:,.1f} "
                             f"staff per 10,000 residents; allowed: 1 to {most:,} (at most "
                             f"{highest:g} per 10,000 of {base.urban_population:,} residents)")


def compare_staffing(total: int = 598, rules: list[str] | tuple[str, ...] = RULES,
                     replicates: int = 5, objective: str = "mean_days_to_close",
                     scenario: str = "baseline", scale: float | None = None,
                     days: int | None = None, seed: int = 2021, workers: int = 2,
                     dask: str | None = None, step: float = 0.25,
                     out: str | Path = "results/staffing", progress: bool = True,
                     reference: str | None = None, posterior: str | Path | None = None,
                     worlds: int | None = None, replace: bool = False,
                     robust: str = "max") -> pd.DataFrame:
    """Compare allocation rules for ``total`` staff (a headcount at scale 1.0; it scales with
    the population). Returns one row per rule: its weights, the mean and 95 % CI of each
    headline measure over ``replicates`` seeds, and the allocation per community (district
    of the first seed); also written to ``out/staffing.csv`` with a figure, and every rule's
    paired differences against ``reference`` (default uniform, else the first rule) to
    ``out/paired.csv``.

    ``posterior`` with ``worlds`` K evaluates every rule in K plausible worlds drawn from it
    on the same seeds (experiments/worlds.py; distinct particles unless ``replace``); the
    optimized rule's weights are then searched for the best mean over K worlds of its own
    (see the module's docstring). With worlds, ``out/regret.csv`` holds each rule's regret
    in each world and ``out/robust.json`` the rules best on average and with the smallest
    maximum and 90th-percentile regret; ``robust`` (max or p90) says which of the two the
    plain statement leads with (experiments/regret.py)."""
    if isinstance(rules, str):  # list("uniform") would be letters
        raise ParameterError(f"rules = {rules!r} is text; allowed: a list of rules from "
                             f"{', '.join(RULES)}")
    rules = list(rules)
    total = plan_limits.check_count("total", total)
    replicates, workers, seed = plan_limits.check_runner(replicates, workers, seed)
    _check(rules, objective, total, step)
    check_robust(robust)
    reference = _reference(rules, reference)
    drawn = draw_worlds(posterior, worlds, seed, replace)
    searched_in, search_draw = (draw_search_worlds(posterior, worlds, seed, replace)
                                if drawn and "optimized" in rules else (None, None))
    out = Path(out)
    base = designs.base_params(scenario, scale, days)
    search_sets = 3 + 6 * MAX_ROUNDS if "optimized" in rules else 0  # corners, 6 moves a round
    k = len(drawn or [None])
    pairs = max(k, replicates)   # len(search_pairs(k, replicates)), without building it
    runs = len(rules) * k * replicates + search_sets * pairs
    _check_total(total, base)
    plan = (f"{len(rules)} rules{in_k_worlds(drawn)} × {replicates:,} replicates + up to "
            f"{search_sets} search points × {pairs:,} (world, seed) pairs" if drawn else
            f"{len(rules)} rules + up to {search_sets} search points × {replicates:,} replicates")
    plan_limits.check_runs(runs, f"staffing: {plan}",
                           "lower --replicates" + (" or --worlds" if drawn else ""))
    plan_limits.check_memory([base], plan_limits.local_workers(workers, dask), runs)
    check_out_dir(out, "staffing")
    fixed = {"staffing_per_10k": total * 10_000 / base.urban_population, "scale": base.scale,
             "days": base.days}
    chosen = {rule: {"staff_allocation": rule, **dict.fromkeys(WEIGHTS, 0.0)}
              for rule in rules if rule != "optimized"}
    if drawn:  # a clash with the rules' parameters is refused before anything runs
        for each in filter(None, (drawn, searched_in)):
            in_worlds(designs.parameter_sets(scenario, pd.DataFrame(
                [*chosen.values(), {"staff_allocation": "mix", **dict.fromkeys(WEIGHTS, 0.5)}]),
                fixed), each)
    trace = None
    with open_backend(workers, dask) as backend:
        if "optimized" in rules:
            weights, trace = search(scenario, fixed, objective,
                                    replicate_seeds(replicates, seed, skip=replicates), step,
                                    out / "search", backend, progress, searched_in)
            chosen["optimized"] = {"staff_allocation": "mix",
                                   **dict(zip(WEIGHTS, weights, strict=True))}
        table = pd.DataFrame(list(chosen.values()))
        sets = designs.parameter_sets(scenario, table, fixed)
        runs = run_sets(sets, replicate_seeds(replicates, seed), out, scenario=scenario,
                        progress=progress, design=table, backend=backend, worlds=drawn)
    runs.insert(0, "rule", np.array(list(chosen))[runs["set_id"].to_numpy()])
    agg = finish(runs, ["rule"], out, {"scenario": scenario, "base_seed": seed,
                                       "replicates": replicates, "fixed": fixed,
                                       "reference": reference,
                                       **worlds_meta(posterior, drawn, replace),
                                       **({"search_worlds": searched_in, "search_draw": search_draw}
                                          if searched_in else {}),
                                       **({"robust": robust} if drawn else {})},
                 paired=paired_differences(runs, "rule", reference, _measures(objective)))
    result = _rule_table(agg, runs, chosen, total, objective)
    _warn_if_committees_take_all(runs, sets[0])
    atomic_write(out / "staffing.csv", lambda tmp: result.to_csv(tmp, index=False))
    allocation = _allocation_table(runs)
    atomic_write(out / "staffing_allocation.csv", lambda tmp: allocation.to_csv(tmp, index=False))
    if trace is not None:
        atomic_write(out / "search.csv", lambda tmp: trace.to_csv(tmp, index=False))
    if drawn:
        regret = regret_table(runs, "rule", objective)
        atomic_write(out / "regret.csv", lambda tmp: regret.to_csv(tmp, index=False))
        write_json(out / "robust.json", robust_summary(regret, "rule", objective, robust,
                                                         drawn))
    else:  # an earlier run in worlds into this directory: its regret is not this run's
        for old in ("regret.csv", "robust.json"):
            (out / old).unlink(missing_ok=True)
    plot_staffing(result, allocation, objective, out / "staffing.png")
    return result


def search(scenario: str, fixed: dict[str, Any], objective: str, seeds: list[int],
           step: float, out: Path, backend: Backend, progress: bool,
           worlds: list[dict[str, Any]] | None = None) -> tuple[tuple[float, float], pd.DataFrame]:
    """Greedy search over the (population, demand) weights of the mix rule; returns the best
    weights and the trace of every point evaluated. With ``worlds``, a point's objective is
    its mean over them (:func:`point_runs`)."""
    unit = step / 2                     # the finest lattice, reached after one refinement
    n = round(1 / unit)
    scores: dict[tuple[int, int], tuple[float, float]] = {}  # lattice point -> (mean, sd)

    def evaluate(points: list[tuple[int, int]]) -> None:
        new = [pt for pt in dict.fromkeys(points) if pt not in scores]
        if not new:
            return
        table = pd.DataFrame([{"staff_allocation": "mix", WEIGHTS[0]: a * unit,
                               WEIGHTS[1]: b * unit} for a, b in new])
        sets = designs.parameter_sets(scenario, table, fixed)
        runs = point_runs(sets, seeds, worlds, out, scenario, progress, table, backend)
        for set_id, pt in enumerate(new):
            ok = runs[(runs["set_id"] == set_id) & (runs["status"] == "done")]
            values = ok[objective] if len(ok) else pd.Series(dtype=float)
            # each world counts once however many of the search seeds it ran on
            mean = values.groupby(ok["world"]).mean().mean() if worlds else values.mean()
            scores[pt] = (float(mean) if len(values) else np.nan,
                          float(values.std(ddof=1)) if len(values) > 1 else np.nan)

    def score(pt: tuple[int, int]) -> float:
        mean = scores[pt][0]
        return np.inf if np.isnan(mean) else minimised(objective) * mean

    corners = [(0, 0), (n, 0), (0, n)]
    evaluate(corners)
    current = min(corners, key=score)
    stride = 2
    for _ in range(MAX_ROUNDS):
        around = _neighbours(current, stride, n)
        evaluate(around)
        best = min([current, *around], key=score)
        if best != current:
            current = best
        elif stride > 1:
            stride = 1
        else:
            break
    trace = pd.DataFrame([{WEIGHTS[0]: a * unit, WEIGHTS[1]: b * unit,
                           "weight_equal": 1 - (a + b) * unit, f"{objective}_mean": m,
                           f"{objective}_sd": sd, "chosen": (a, b) == current}
                          for (a, b), (m, sd) in scores.items()])
    return (current[0] * unit, current[1] * unit), trace


def search_pairs(k: int, r: int) -> list[tuple[int, int]]:
    """The (world, seed) indices a search point runs on with K worlds and R search seeds:
    max(K, R) pairs, every world and every seed at least once, worlds and seeds cycling
    (the first world and seed together), so that the search costs max(K, R) / R times
    what it costs without worlds, not K times. One world (or none): every seed."""
    return [(i % k, i % r) for i in range(max(k, r))]


def point_runs(sets: list[Params], seeds: list[int], worlds: list[dict[str, Any]] | None,
               out: Path, scenario: str, progress: bool, table: pd.DataFrame,
               backend: Backend) -> pd.DataFrame:
    """The search points' runs: every point on every search seed, or with ``worlds`` on the
    (world, seed) pairs of :func:`search_pairs`, shared by every point (common random
    numbers), with a ``world`` column."""
    if not worlds:
        return run_sets(sets, seeds, out, scenario=scenario, progress=progress, design=table,
                        backend=backend)
    pairs = search_pairs(len(worlds), len(seeds))
    flat = in_worlds(sets, worlds)   # point s in world w at s * K + w
    plan = [(s, i, Task(run_key(p, seeds[r]), scenario, asdict(p), seeds[r], False))
            for s in range(len(sets)) for i, (w, r) in enumerate(pairs)
            for p in [flat[s * len(worlds) + w]]]
    runs = run_plan(plan, out, progress=progress, design=table, backend=backend)
    return runs.assign(world=[pairs[i][0] for i in runs["replicate"]])


def _neighbours(pt: tuple[int, int], stride: int, n: int) -> list[tuple[int, int]]:
    """Moves of ``stride`` lattice units of weight between two of (equal, population, demand)."""
    a, b = pt
    moves = [(stride, 0), (-stride, 0), (0, stride), (0, -stride), (stride, -stride),
             (-stride, stride)]
    return [(a + da, b + db) for da, db in moves
            if a + da >= 0 and b + db >= 0 and a + da + b + db <= n]


def _reference(rules: list[str], reference: str | None) -> str:
    """The rule the others are paired against: ``reference``, else uniform (today's rule,
    F9) when compared, else the first rule."""
    if reference is None:
        return "uniform" if "uniform" in rules else rules[0]
    return designs.check_reference(reference, reference, rules, "rules compared")


def _measures(objective: str) -> list[str]:
    """The objective, then the headline measures: what the rules are compared on."""
    return list(dict.fromkeys([objective, *kpis.headline()]))


def _rule_table(agg: pd.DataFrame, runs: pd.DataFrame, chosen: dict[str, dict], total: int,
                objective: str) -> pd.DataFrame:
    measures = _measures(objective)
    cols = [f"{m}_{s}" for m in measures for s in ("mean", "ci_low", "ci_high", "n")]
    worlds = ["worlds"] if "worlds" in agg else []
    out = agg.reindex(columns=["rule", "runs", "failed", *worlds, *cols])  # NaN if all failed
    out.insert(1, "total_staff_at_scale_1", total)
    for i, w in enumerate(WEIGHTS):
        out.insert(2 + i, w, [chosen[r][w] for r in out["rule"]])
    first = _first_runs(runs).set_index("rule")
    for column, field in (("allocation", "staff"), ("community_population", "population")):
        out[column] = [json.dumps([c[field] for c in _communities(first, r)])
                       if r in first.index else None for r in out["rule"]]
    return out


def _first_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Each rule's finished run on the first seed (of the first world, with worlds): the
    district whose allocation is shown."""
    first = (runs["replicate"] == 0) & (runs["status"] == "done")
    return runs[first & (runs["world"] == 0)] if "world" in runs else runs[first]


def _communities(first: pd.DataFrame, rule: str) -> list[dict[str, Any]]:
    return json.loads(first.loc[rule, "summary_json"])["by_community"]


def _warn_if_committees_take_all(runs: pd.DataFrame, params: Params) -> None:
    """With too few staff for more than the committees, every rule allocates the same."""
    done = runs[runs["status"] == "done"]
    if done.empty:
        return
    communities = json.loads(done["summary_json"].iloc[0])["by_community"]
    staff = sum(c["staff"] for c in communities)
    if staff <= params.committee_per_community * len(communities):
        print(f"warning: {staff} staff at scale {params.scale} do not exceed the committees "
              f"({params.committee_per_community} x {len(communities)} communities): every rule "
              "allocates the same; raise --total or --scale", file=sys.stderr)


def _allocation_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per rule and community (district of the first seed, shared by every rule): population,
    staff and the community's results."""
    first = _first_runs(runs)
    frames = [pd.DataFrame(json.loads(s)["by_community"]).assign(rule=r)
              for r, s in zip(first["rule"], first["summary_json"], strict=True)]
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True)
    return table[["rule", *[c for c in table.columns if c != "rule"]]]


def plot_staffing(result: pd.DataFrame, allocation: pd.DataFrame, objective: str,
                  path: Path) -> None:
    from .plots import plt  # matplotlib only where figures are drawn

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    mean = result[f"{objective}_mean"].to_numpy(float)
    err = np.nan_to_num(np.vstack([mean - result[f"{objective}_ci_low"],
                                   result[f"{objective}_ci_high"] - mean]))
    left.bar(result["rule"], mean, yerr=err, capsize=4, color="#4c72b0")
    left.set_ylabel(objective)
    left.set_title(f"{objective} by rule (95 % CI over replicates)")
    if not allocation.empty:
        for rule, g in allocation.groupby("rule", sort=False):
            g = g.sort_values("population")
            right.plot(g["population"], g["staff_per_10k"], marker="o", ms=3, label=rule)
        right.set_xlabel("community population (permanent residents)")
        right.set_ylabel("staff per 10,000 residents")
        right.set_title("Allocation per community (district of the first seed)")
        right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
