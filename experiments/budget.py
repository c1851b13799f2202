"""Budget (预算配置): for a fixed extra yearly budget on top of today's, which mix of three
uses gives the most satisfaction or the fewest unresolved cases —

- **staff**: more full-time community workers (F5: 24.5 per 10,000), at
  ``worker_yuan_per_year`` each;
- **funding**: more service money per community (F13: 200,000 yuan; Shanghai Qingpu gives
  about 580,000, F14), spread evenly over the communities;
- **seasonal**: temporary workers for Longqiao's communities in the heating season (F11, F18;
  model/seasonal_staff.py), at ``seasonal_worker_yuan_per_month`` for each month of it.

Each mix is a split of the budget (shares of staff, funding and seasonal staff summing to 1),
on a lattice of ``step`` or as listed; the budget is at scale 1.0 (the district's 244,000
residents) and becomes parameters that hold at any scale: staff per 10,000 residents, yuan
per community, seasonal workers per 10,000 winter residents. Every mix and the reference
(default: no extra spending, the scenario as it is) run on the same replicate seeds (and
plausible worlds), so each mix is compared with the reference by paired differences, and the
best mix per objective with the runner-up likewise.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model import kpis
from model.calibration import replicate_seeds
from model.metrics import DAYS_PER_MONTH
from model.params import ParameterError, Params, allowed_text, check_allowed, plain
from model.winter_influx import season_days

from . import designs, plan_limits
from .aggregate import paired_differences
from .outdir import check_out_dir
from .store import atomic_write
from .sweep import finish, run_sets
from .worlds import draw_worlds, in_k_worlds, in_worlds, worlds_meta

USES = ("staff", "funding", "seasonal")
SHARES = tuple(f"{u}_share" for u in USES)
# The parameter each use buys, in the order of USES.
BOUGHT = ("staffing_per_10k", "funding_per_community_yuan", "seasonal_staff_per_10k_influx")
WORDS = ("staff", "funding", "seasonal staff")   # the uses in words
NONE = "none"   # the label of no extra spending: the scenario as it is
# most satisfaction, fewest unresolved cases (the highest share of closed cases resolved)
DEFAULT_OBJECTIVES = "mean_satisfaction,resolution_rate"
DEFAULT_STEP = 0.25

Mix = tuple[float, float, float]


# --- mixes ---------------------------------------------------------------------------------------

def label(mix: Mix | None) -> str:
    """A mix as 'staff:funding:seasonal' shares ('0.5:0.25:0.25'); ``NONE`` for None."""
    return NONE if mix is None else ":".join(f"{round(s, 6):g}" for s in mix)


def name(mix_label: str) -> str:
    """A mix label in words, for reports and figures."""
    if mix_label == NONE:
        return "no extra spending"
    shares = [(float(x), use) for x, use in zip(mix_label.split(":"), WORDS, strict=True)]
    spent = [(x, use) for x, use in shares if x > 0]
    if len(spent) == 1:
        return f"{spent[0][1]} only"
    return " + ".join(f"{x:.0%} {use}" for x, use in spent)


def steps(step: Any) -> int:
    """How many ``step`` shares make the budget: n, for a step that divides 1."""
    n = designs.divisions(step, 1.0)
    if n is None:
        raise ParameterError(f"--step {step:g}: allowed: a share that divides 1 (1, 0.5, 0.25, "
                             "0.2, ...)")
    return n


def lattice_size(step: Any) -> int:
    """Mixes on the lattice of ``step``, (n + 1)(n + 2) / 2 for n = 1 / step, counted without
    building them (a tiny step would take ages, or all the memory, to build)."""
    n = steps(step)
    return (n + 1) * (n + 2) // 2


def lattice(step: float) -> list[Mix]:
    """Every split of the budget in multiples of ``step`` (0.25: 15 mixes), staff-heavy first."""
    n = steps(step)
    return [(a / n, b / n, (n - a - b) / n) for a in range(n, -1, -1) for b in range(n - a, -1, -1)]


def parse_mix(text: str, option: str = "--mixes") -> Mix:
    """'0.5:0.25:0.25' (staff:funding:seasonal shares, each 0 to 1, summing to 1) as a mix."""
    parts = text.strip().split(":")
    try:
        shares = tuple(float(x) for x in parts)
    except ValueError:
        shares = ()
    if len(shares) != 3 or not all(math.isfinite(s) and 0 <= s <= 1 for s in shares):
        raise ParameterError(f"{option} '{text}': allowed: STAFF:FUNDING:SEASONAL, three shares "
                             "from 0 to 1 (e.g. 0.5:0.25:0.25)")
    if abs(sum(shares) - 1) > designs.EXACT:
        raise ParameterError(f"{option} '{text}': the shares sum to {sum(shares):g}, not 1; "
                             "allowed: STAFF:FUNDING:SEASONAL summing to 1")
    return shares  # type: ignore[return-value]


def parse_mixes(mixes: str | list[str] | list[Mix]) -> list[Mix]:
    """Mixes as text ('1:0:0,0.5:0.5:0') or a list of texts or share triples; distinct."""
    items = mixes.split(",") if isinstance(mixes, str) else list(mixes)
    out = [parse_mix(m) if isinstance(m, str) else parse_mix(":".join(map(str, m)))
           for m in items]
    labels = [label(m) for m in out]
    twice = next((x for x in labels if labels.count(x) > 1), None)
    if not out or twice:
        raise ParameterError(f"--mixes: {'mix ' + twice + ' is given twice' if twice else 'empty'}"
                             "; allowed: distinct STAFF:FUNDING:SEASONAL mixes")
    return out


def check_objectives(objectives: str | list[str] | tuple[str, ...]) -> list[str]:
    """Objectives (comma-separated text or a list), each one of model/kpis.py's."""
    items = objectives.split(",") if isinstance(objectives, str) else list(objectives)
    items = [designs.check_objective(o.strip()) for o in items]
    if not items or len(set(items)) != len(items):
        raise ParameterError(f"--objective needs distinct objectives from: "
                             f"{', '.join(kpis.objectives())}")
    return items


def _reference(reference: str | None, labels: list[str]) -> str:
    """The mix every other is paired against: no extra spending unless ``reference`` names
    one of the mixes."""
    if reference is None or reference.strip() == NONE:
        return NONE
    return designs.check_reference(reference, label(parse_mix(reference, "--reference")),
                                   labels, "mixes")


# --- what a yuan buys ----------------------------------------------------------------------------

def expected_communities(p: Params) -> float:
    """Communities at scale 1.0: the urban population over the mean community size, which the
    district generator draws log-uniform between the F8 bounds (model/district.py)."""
    lo, hi = p.community_size_min, p.community_size_max
    mean_size = lo if hi == lo else (hi - lo) / math.log(hi / lo)
    return p.urban_population / mean_size


def season_months(p: Params) -> float:
    """Months of the heating season (F18), when seasonal workers are paid."""
    return season_days(p) / DAYS_PER_MONTH


# The parameters what a mix buys is computed from (:func:`purchases`): a plausible world that
# drew other values would buy other amounts with the same budget, so a posterior holding any
# of them is refused (the budget is the same in every world).
PRICED_BY = ("winter_influx", "community_size_min", "community_size_max", "heating_start_day",
             "heating_end_day", "urban_population", "worker_yuan_per_year",
             "seasonal_worker_yuan_per_month")


def purchases(mix: Mix, budget: float, p: Params) -> dict[str, float]:
    """What ``budget`` yuan a year split by ``mix`` buys on top of ``p``: extra workers, extra
    yuan per community and seasonal workers (at scale 1.0), and the parameters they make."""
    staff_yuan, funding_yuan, seasonal_yuan = (budget * s for s in mix)
    extra_staff = staff_yuan / p.worker_yuan_per_year
    extra_funding = funding_yuan / expected_communities(p)
    seasonal = seasonal_yuan / (p.seasonal_worker_yuan_per_month * season_months(p))
    if seasonal_yuan > 0 and p.winter_influx == 0:
        raise ParameterError(f"--mixes {label(mix)} spends on seasonal staff, but winter_influx "
                             "is 0 (no winter residents to serve); allowed: mixes with a "
                             "seasonal share of 0")
    per_influx = seasonal * 10_000 / p.winter_influx if seasonal else 0.0
    return {"budget_yuan": budget, "extra_staff": extra_staff,
            "staffing_per_10k": p.staffing_per_10k + extra_staff * 10_000 / p.urban_population,
            "extra_funding_per_community_yuan": extra_funding,
            "funding_per_community_yuan": p.funding_per_community_yuan + extra_funding,
            "seasonal_workers": seasonal,
            "seasonal_staff_per_10k_influx": p.seasonal_staff_per_10k_influx + per_influx}


def _nothing(p: Params) -> dict[str, float]:
    """The reference row: nothing bought, the scenario's own values."""
    return {"budget_yuan": 0.0, "extra_staff": 0.0, "staffing_per_10k": p.staffing_per_10k,
            "extra_funding_per_community_yuan": 0.0,
            "funding_per_community_yuan": p.funding_per_community_yuan, "seasonal_workers": 0.0,
            "seasonal_staff_per_10k_influx": p.seasonal_staff_per_10k_influx}


def _check_in_range(mix: Mix, budget: float, bought: dict[str, float]) -> None:
    for key in BOUGHT:
        try:
            check_allowed(key, bought[key])
        except ParameterError:
            raise ParameterError(
                f"--budget {budget:,.0f} yuan: mix {label(mix)} gives {key} = {bought[key]:,.6g}; "
                f"allowed: {allowed_text(key)} (a smaller --budget, or a smaller share of that "
                "use)") from None


def _check_budget(budget: Any) -> float:
    budget = plain(budget)  # a numpy number as the Python number of its kind
    if isinstance(budget, bool) or not isinstance(budget, int | float) or not (
            math.isfinite(budget) and budget > 0):
        raise ParameterError(f"--budget {budget!r}: allowed: a positive number of yuan a year "
                             "(e.g. 5000000)")
    return float(budget)


def plan(budget: float, mixes: list[Mix], base: Params) -> pd.DataFrame:
    """One row per set: the reference (no extra spending) first, then each mix — its label,
    shares, what it buys and the parameters (:data:`BOUGHT`) it runs with."""
    rows = [{"mix": NONE, **dict.fromkeys(SHARES, 0.0), **_nothing(base)}]
    for mix in mixes:
        bought = purchases(mix, budget, base)
        _check_in_range(mix, budget, bought)
        rows.append({"mix": label(mix), **dict(zip(SHARES, mix, strict=True)), **bought})
    return pd.DataFrame(rows)


# --- the experiment ------------------------------------------------------------------------------

def compare_budget(budget: float, mixes: str | list | None = None, step: float | None = None,
                   objectives: str | list[str] | tuple[str, ...] = DEFAULT_OBJECTIVES,
                   reference: str | None = None, replicates: int = 5,
                   scenario: str = "baseline", scale: float | None = None,
                   days: int | None = None, seed: int = 2021, workers: int = 2,
                   dask: str | None = None, out: str | Path = "results/budget",
                   progress: bool = True, posterior: str | Path | None = None,
                   worlds: int | None = None, replace: bool = False) -> pd.DataFrame:
    """Run every mix of ``budget`` extra yuan a year (``mixes``, or the lattice of ``step``,
    default 0.25) and no extra spending on the same ``replicates`` seeds (and ``worlds``
    plausible worlds drawn from ``posterior``). Returns one row per set: the mix, what it buys,
    and the mean and 95 % CI of the objectives and headline measures; written to
    ``out/budget.csv``, with ``paired.csv`` (every set against ``reference``), ``best.csv``
    (the best mix per objective, against the reference and the runner-up) and
    ``budget.png``."""
    budget = _check_budget(budget)
    replicates, workers, seed = plan_limits.check_runner(replicates, workers, seed)
    if mixes is not None and step is not None:
        raise ParameterError("--mixes and --step both given; allowed: one of them (--step "
                             "makes the lattice of mixes, --mixes lists them)")
    step = DEFAULT_STEP if step is None else step
    objectives = check_objectives(objectives)
    drawn = draw_worlds(posterior, worlds, seed, replace)
    listed = parse_mixes(mixes) if mixes is not None else None
    # counted before the lattice is built: a tiny --step makes more mixes than could ever run
    _check_runs((len(listed) if listed else lattice_size(step)) + 1, drawn, replicates)
    chosen = listed or lattice(step)
    base = designs.base_params(scenario, scale, days)
    table = plan(budget, chosen, base)
    labels = list(table["mix"])
    reference = _reference(reference, labels)
    fixed = {"scale": base.scale, "days": base.days}
    sets = designs.parameter_sets(scenario, table[list(BOUGHT)], fixed)
    if drawn:  # a posterior column the mixes vary or are priced by is refused before any run
        _check_prices(drawn)
        in_worlds(sets, drawn)
    runs_planned = len(sets) * len(drawn or [None]) * replicates
    plan_limits.check_memory(sets, plan_limits.local_workers(workers, dask), runs_planned)
    out = Path(out)
    check_out_dir(out, "budget")
    runs = run_sets(sets, replicate_seeds(replicates, seed), out, scenario=scenario,
                    workers=workers, dask=dask, progress=progress, worlds=drawn)
    runs.insert(0, "mix", np.array(labels)[runs["set_id"].to_numpy()])
    measures = measured(objectives)
    meta = {"scenario": scenario, "base_seed": seed, "replicates": replicates, "fixed": fixed,
            "reference": reference, "objectives": objectives,
            "budget": {"yuan_per_year": budget, "mixes": labels[1:],
                       "worker_yuan_per_year": base.worker_yuan_per_year,
                       "seasonal_worker_yuan_per_month": base.seasonal_worker_yuan_per_month,
                       "communities": expected_communities(base),
                       "season_months": season_months(base),
                       "winter_influx": base.winter_influx,
                       "urban_population": base.urban_population},
            **worlds_meta(posterior, drawn, replace)}
    agg = finish(runs, ["mix"], out, meta,
                 paired=paired_differences(runs, "mix", reference, measures))
    # a sweep's figure by mix would put 16 labels under each of 20 panels: budget.png shows
    # the objectives, budget.csv every headline measure
    (out / "sweep_mix.png").unlink(missing_ok=True)
    result = _budget_table(table, agg, measures)
    best = best_mixes(runs, result, objectives, reference)
    atomic_write(out / "budget.csv", lambda tmp: result.to_csv(tmp, index=False))
    atomic_write(out / "best.csv", lambda tmp: best.to_csv(tmp, index=False))
    plot_budget(pd.read_csv(out / "paired.csv"), best, out / "budget.png")
    return result


def _check_runs(sets: int, drawn: list[dict[str, Any]] | None, replicates: int) -> None:
    """Refuse a plan of more runs than experiments/plan_limits.py allows: ``sets`` (the mixes
    and the reference) in every world on every seed."""
    plan_limits.check_runs(sets * len(drawn or [None]) * replicates,
                           f"budget: {plan_limits.count_text(sets)} mixes{in_k_worlds(drawn)} "
                           f"× {replicates:,} replicates", "lower --replicates, raise --step "
                           "or list fewer --mixes" + (" or --worlds" if drawn else ""))


def _check_prices(drawn: list[dict[str, Any]]) -> None:
    """A world may not change what the budget buys (:data:`PRICED_BY`)."""
    priced = [k for k in PRICED_BY if k in drawn[0]]
    if priced:
        raise ParameterError(f"--posterior: column '{priced[0]}' sets what the budget buys "
                             "(the cost or the number of those it is spread over); a world "
                             "would change the budget (allowed: a posterior without "
                             f"{', '.join(PRICED_BY)})")


def measured(objectives: list[str]) -> list[str]:
    """The objectives, then the headline measures: what the mixes are compared on."""
    return list(dict.fromkeys([*objectives, *kpis.headline()]))


def _budget_table(table: pd.DataFrame, agg: pd.DataFrame, measures: list[str]) -> pd.DataFrame:
    stats = [f"{m}_{s}" for m in measures for s in ("mean", "ci_low", "ci_high", "n")]
    worlds = ["worlds"] if "worlds" in agg else []
    results = agg.reindex(columns=["mix", "runs", "failed", *worlds, *stats])
    return table.merge(results, on="mix", how="left")


def ranked(result: pd.DataFrame, objective: str) -> list[str]:
    """The spending mixes (not the no-spending reference) from best to worst on
    ``objective`` by its mean (over world means with worlds); mixes without a mean left out."""
    spend = result[(result["mix"] != NONE) & result[f"{objective}_mean"].notna()]
    score = spend[f"{objective}_mean"].astype(float) * -kpis.better(objective)
    return list(spend.loc[score.sort_values(kind="stable").index, "mix"])


BEST = ("objective", "best_mix", "best_mean", "reference", "difference", "ci_low", "ci_high",
        "pairs", "better", "world_probability", "runner_up", "runner_up_mean", "gap",
        "gap_ci_low", "gap_ci_high", "gap_pairs")


def best_mixes(runs: pd.DataFrame, result: pd.DataFrame, objectives: list[str],
               reference: str) -> pd.DataFrame:
    """Per objective: the best spending mix, its paired difference against ``reference`` (the
    pairs in which it is better, and with worlds the share of worlds), and the runner-up's
    paired difference against it (``gap``: runner-up − best; an interval excluding 0 means
    the best is clearly ahead)."""
    rows = []
    for objective in objectives:
        order = ranked(result, objective)
        if not order:
            rows.append({"objective": objective, "reference": reference})
            continue
        best, means = order[0], result.set_index("mix")[f"{objective}_mean"]
        row = {"objective": objective, "best_mix": best, "best_mean": means[best],
               "reference": reference}
        if best != reference:
            vs = paired_differences(runs, "mix", reference, [objective])
            r = vs[vs["mix"] == best].iloc[0]
            row.update({k: r[k] for k in ("difference", "ci_low", "ci_high", "pairs", "better")})
            row["world_probability"] = r.get("world_probability", np.nan)
        if len(order) > 1:
            gap = paired_differences(runs, "mix", best, [objective])
            g = gap[gap["mix"] == order[1]].iloc[0]
            row.update({"runner_up": order[1], "runner_up_mean": means[order[1]],
                        "gap": g["difference"], "gap_ci_low": g["ci_low"],
                        "gap_ci_high": g["ci_high"], "gap_pairs": g["pairs"]})
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=list(BEST))


def plot_budget(paired: pd.DataFrame, best: pd.DataFrame, path: Path) -> None:
    """Per objective, every mix's paired difference against the reference with its 95 % CI,
    the best at the top and highlighted."""
    from model.figstyle import OKABE_ITO, factor, plt, save, style, wrap

    objectives = list(best["objective"])
    n = paired["mix"].nunique()
    with style():
        fig, axes = plt.subplots(1, len(objectives), figsize=(7.5 * len(objectives),
                                                              1.8 + 0.45 * n),
                                 squeeze=False, layout="constrained")
        for ax, objective in zip(axes[0], objectives, strict=True):
            rows = paired[paired["measure"] == objective]
            good = kpis.better(objective) * rows["difference"].to_numpy(float)
            rows = rows.iloc[np.argsort(np.nan_to_num(good, nan=-np.inf), kind="stable")]
            f = factor(objective)
            d = rows["difference"].to_numpy(float) * f
            err = np.nan_to_num(np.vstack([d - rows["ci_low"].to_numpy(float) * f,
                                           rows["ci_high"].to_numpy(float) * f - d]))
            top = best.loc[best["objective"] == objective, "best_mix"].iloc[0]
            y = np.arange(len(rows))
            ax.barh(y, d, xerr=err, capsize=3,
                    color=[OKABE_ITO[1] if m == top else OKABE_ITO[0] for m in rows["mix"]])
            ax.set_yticks(y, [name(m) for m in rows["mix"]], fontsize=9)
            ax.axvline(0, color="black", lw=0.8)
            unit = "percentage points" if f != 1 else kpis.unit(objective)
            ax.set_xlabel(wrap(f"difference against {name(rows['reference'].iloc[0])} "
                               f"({unit})", 40))
            way = "higher" if kpis.better(objective) > 0 else "lower"
            ax.set_title(wrap(f"{kpis.label(objective)} ({way} is better): paired difference "
                              "and 95 % CI; orange: the best mix", 50))
        save(fig, path)


__all__ = ["compare_budget", "expected_communities", "lattice", "parse_mixes", "purchases",
           "season_months"]
