"""Validation against patterns of the study that the calibration did not use (issue 13).

The calibration fits the free base rates to two figures only, F3 (hotline tickets per 10,000
residents) and F4 (the property share of tickets); see model/calibration.py. The patterns
below are other things the study states (docs/source.md) that the model *produces* from its
mechanisms; none of them is a model input. Each pattern has a statistic computed from one
run's summary (``summary.json``) and a rule saying whether the statistic holds in that run.
Over replicate seeds a pattern PASSes when it holds in at least ``SHARE_OF_SEEDS`` of them;
its statistic is reported with its mean and a 95 % interval over the seeds.

``python run.py validate`` runs this (docs/calibration.md, "Validation against patterns not
used in calibration"). With a posterior (``posterior.parquet`` of ``calibrate --method abc``)
each seed runs with its own parameter set drawn by weight, so the intervals carry parameter
uncertainty as well as seed noise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import study
from .kpis import REPRESENTATIVE_SCALE
from .params import Params
from .vocabulary import LONGQIAO, STREETS

# Months (0 = January) compared. December to March: heated (F18: 15 Nov - 15 Mar) with the
# winter residents present (F11) for all or half of the month; November, when heating and
# the influx start mid-month, belongs to neither group. April to October: no heating, no
# influx. As the task of issue 13 states them.
WINTER_MONTHS = (11, 0, 1, 2)
OFF_SEASON_MONTHS = (3, 4, 5, 6, 7, 8, 9)

# Longqiao's winter load per worker over the heaviest of the other two streets': "heaviest"
# means strictly above both (a ratio above 1).
LEAD_MIN = 1.0
# Longqiao's load per worker, winter months over the off-season: at least 10 % higher. The
# influx adds about 12 % to Longqiao's residents (F11: 15,000 on 123,000) while its staff stay
# the same (P3); heating complaints alone raise every street's winter load by a few per cent
# (about 1.0-1.1 in the streets without the influx), so 10 % is the influx's mark, not noise.
LOAD_PEAK_MIN = 1.10
# Hotline tickets, winter months over the off-season, per month: at least 10 % more. A month
# holds about 300 tickets at scale 0.25 (Poisson noise about 6 %), so a 10 % excess is a
# seasonal shape, not month-to-month noise.
TICKET_PEAK_MIN = 1.10
# Spearman rank correlation of community population with mean days to close: at least 0.5.
# With the 4-7 communities of scale 0.25 a correlation above 0 arises by chance in half the
# seeds; 0.5 asks for a clear association, as uniform staffing (F9, P9) should produce.
RANK_CORRELATION_MIN = 0.5
# A pattern PASSes when its statistic holds in at least this share of the seeds: 4 of 5 at
# the default 5 seeds, one seed's noise is allowed, a pattern that fails often is not.
SHARE_OF_SEEDS = 0.8
# The level of the interval reported for each statistic's mean over seeds.
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Pattern:
    """A pattern holds in a run when its statistic is above ``threshold`` (``strict``) or at
    least ``threshold``: one number, so that the reports can show how far a result lies
    from it."""

    name: str
    source: str                  # the study's codes (docs/source.md)
    statement: str               # the pattern in words
    statistic: Callable[[dict[str, Any]], float]   # from one run's summary; NaN if undefined
    measured: str                # what the statistic is, in words
    threshold: float
    strict: bool = False
    min_scale: float = 0.0       # below it the statistic is not meaningful (per-street, ...)

    def holds(self, x: float) -> bool:
        return bool(x > self.threshold if self.strict else x >= self.threshold)

    @property
    def tolerance(self) -> str:
        """The acceptance rule in words."""
        return f"{self.measured} {'>' if self.strict else '>='} {self.threshold:g}"


def _months(values: Sequence[float], months: Sequence[int]) -> float:
    """Mean of ``values`` (one per month, January first) over ``months``; NaN if missing."""
    if len(values) < 12:
        return float("nan")
    return float(np.mean([values[m] for m in months]))


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 and np.isfinite(a) else float("nan")


def _street_load(summary: dict[str, Any], street: int, months: Sequence[int]) -> float:
    return _months(summary["by_street"][street]["monthly_load_per_worker"], months)


def longqiao_winter_lead(summary: dict[str, Any]) -> float:
    """Longqiao's mean monthly load per worker in the winter months over the largest of the
    other streets' (above 1: Longqiao carries the heaviest load)."""
    own = _street_load(summary, LONGQIAO, WINTER_MONTHS)
    others = [_street_load(summary, s, WINTER_MONTHS) for s in range(len(STREETS)) if s != LONGQIAO]
    return _ratio(own, max(others))


def longqiao_winter_peak(summary: dict[str, Any]) -> float:
    """Longqiao's mean monthly load per worker, winter months over the off-season months."""
    return _ratio(_street_load(summary, LONGQIAO, WINTER_MONTHS),
                  _street_load(summary, LONGQIAO, OFF_SEASON_MONTHS))


def size_days_to_close_correlation(summary: dict[str, Any]) -> float:
    """Spearman rank correlation, over communities, of population with mean days to close."""
    rows = [(c["population"], c["mean_days_to_close"]) for c in summary["by_community"]
            if c["mean_days_to_close"] is not None]
    if len(rows) < 3:
        return float("nan")
    pop, days = (pd.Series(x, dtype=float) for x in zip(*rows, strict=True))
    if pop.nunique() < 2 or days.nunique() < 2:
        return float("nan")
    return float(pop.corr(days, method="spearman"))


def winter_ticket_peak(summary: dict[str, Any]) -> float:
    """District hotline tickets per month, winter months over the off-season months."""
    tickets = [m["hotline_tickets"] for m in sorted(summary["by_month"], key=lambda m: m["month"])]
    return _ratio(_months(tickets, WINTER_MONTHS), _months(tickets, OFF_SEASON_MONTHS))


PATTERNS: tuple[Pattern, ...] = (
    Pattern("longqiao_heaviest_in_winter", "P3, F10, F11",
            "in the heating season Longqiao carries the heaviest load per community worker of "
            "the three streets",
            longqiao_winter_lead,
            "Longqiao's Dec-Mar load per worker / the highest other street's", LEAD_MIN,
            strict=True, min_scale=REPRESENTATIVE_SCALE),  # streets need several communities
    Pattern("longqiao_winter_peak", "P3, F11",
            "Longqiao's load per community worker peaks in the heating season",
            longqiao_winter_peak, "Longqiao's load per worker, Dec-Mar / Apr-Oct", LOAD_PEAK_MIN,
            min_scale=REPRESENTATIVE_SCALE),  # streets need several communities
    Pattern("larger_communities_slower", "P9, F8, F9",
            "with 7 committee members per community whatever its size, larger communities "
            "take longer to close their cases",
            size_days_to_close_correlation,
            "Spearman rho(community population, mean days to close)", RANK_CORRELATION_MIN),
    Pattern("winter_ticket_peak", "F18, F11, P2",
            "hotline tickets are more numerous in the heating season than in the rest of the "
            "year (heating complaints, the winter residents)",
            winter_ticket_peak, "hotline tickets per month, Dec-Mar / Apr-Oct", TICKET_PEAK_MIN),
)
BY_NAME = {p.name: p for p in PATTERNS}


def statistics(summaries: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per pattern and run: pattern, seed, statistic, holds."""
    rows = []
    for p in PATTERNS:
        for s in summaries:
            x = p.statistic(s)
            rows.append({"pattern": p.name, "seed": s["seed"], "statistic": x,
                         "holds": bool(np.isfinite(x) and p.holds(x))})
    return pd.DataFrame(rows)


def evaluate(summaries: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per pattern: name, source, statement, mean, 95 % interval of the statistic over
    the runs, share of runs holding, tolerance, result (PASS/FAIL) and any note."""
    return pattern_table(statistics(summaries), min(s["scale"] for s in summaries))


def pattern_table(per_run: pd.DataFrame, scale: float) -> pd.DataFrame:
    """The table of :func:`evaluate` from the per-run statistics (:func:`statistics`) of runs
    at ``scale`` (the smallest, when they differ)."""
    from experiments.aggregate import mean_ci

    rows = []
    for p in PATTERNS:
        mine = per_run[per_run["pattern"] == p.name]
        mean, low, high = mean_ci(mine["statistic"].to_numpy(), confidence=CONFIDENCE)
        share = float(mine["holds"].mean())
        rows.append({"pattern": p.name, "source": p.source, "statement": p.statement,
                     "mean": mean, "ci_low": low, "ci_high": high, "share_holding": share,
                     "seeds": len(mine), "tolerance": p.tolerance,
                     "result": "PASS" if share >= SHARE_OF_SEEDS else "FAIL",
                     "note": (f"needs scale >= {p.min_scale:g} (run at {scale:g})"
                              if scale < p.min_scale else "")})
    return pd.DataFrame(rows)


# --- the calibration's targets on seeds it did not use ----------------------------------------

# The level of the predictive interval of the targets: the central 90 % of the runs.
PREDICTIVE = 0.90


def targets(summaries: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """F3 and F4 on these runs, whose seeds the calibration did not use (with a posterior,
    one drawn parameter set each, so the spread is the posterior-predictive one): per target
    the value the study gives, the mean and the central PREDICTIVE interval of the runs, the
    band the fixed-point calibration accepts on held-out seeds (model/calibration.py) and
    whether the mean lies inside it; and the share of runs where property is the largest
    category, accepted at HELD_OUT_LEADS of HELD_OUT_SEEDS."""
    from .calibration import ACCEPT, HELD_OUT_LEADS, HELD_OUT_SEEDS, target_statistics

    stats = pd.DataFrame([target_statistics(s) for s in summaries])
    tail = (1 - PREDICTIVE) / 2
    leads = HELD_OUT_LEADS / len(HELD_OUT_SEEDS)
    rows = []
    for name, source, study_value, low, high, values in (
            ("tickets_per_10k", "F3", study.F3_TICKETS_PER_10K,
             study.F3_TICKETS_PER_10K * (1 - ACCEPT["tickets"]),
             study.F3_TICKETS_PER_10K * (1 + ACCEPT["tickets"]), stats["tickets_per_10k"]),
            ("property_share", "F4", study.F4_PROPERTY_SHARE,
             study.F4_PROPERTY_SHARE - ACCEPT["property"],
             study.F4_PROPERTY_SHARE + ACCEPT["property"], stats["property_share"]),
            ("property_leads", "F4", 1.0, leads, 1.0,
             (stats["property_shortfall"] == 0).astype(float))):
        mean = float(values.mean())
        rows.append({"target": name, "source": source, "study": study_value, "mean": mean,
                     "low": float(values.quantile(tail)), "high": float(values.quantile(1 - tail)),
                     "accepted_low": low, "accepted_high": high, "runs": len(values),
                     "result": "PASS" if low <= mean <= high else "FAIL"})
    return pd.DataFrame(rows)


def _summary(job: tuple[Params, int]) -> dict[str, Any]:
    from .model import run_summary

    return run_summary(*job)


def run_summaries(param_sets: Sequence[Params], seeds: Sequence[int],
                  workers: int = 1) -> list[dict[str, Any]]:
    """Run ``param_sets[i]`` with ``seeds[i]`` (one parameter set per seed); the summaries."""
    jobs = list(zip(param_sets, seeds, strict=True))
    if workers > 1 and len(jobs) > 1:
        from experiments.executors import local_pool

        with local_pool(min(workers, len(jobs))) as pool:
            return list(pool.map(_summary, jobs))
    return [_summary(j) for j in jobs]


def run_patterns(param_sets: Params | Sequence[Params], seeds: Sequence[int],
                 workers: int = 1) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The validation table (``evaluate``), the per-run statistics and the calibration's
    targets on these runs (``targets``) of one parameter set (every seed) or one parameter
    set per seed."""
    sets = [param_sets] * len(seeds) if isinstance(param_sets, Params) else list(param_sets)
    summaries = run_summaries(sets, seeds, workers)
    return evaluate(summaries), statistics(summaries), targets(summaries)


def markdown(table: pd.DataFrame, title: str, fit: pd.DataFrame | None = None) -> str:
    """validation.md: the patterns' table in words, then the calibration's targets (``fit``)."""
    lines = [f"# {title}", "",
             f"A pattern PASSes when its statistic holds in at least {SHARE_OF_SEEDS:.0%} of the "
             f"seeds; mean and {CONFIDENCE:.0%} interval over the seeds.", "",
             "| pattern | source | statement | mean | 95 % interval | share of seeds | "
             "tolerance | result |", "|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        note = f" ({r.note})" if r.note else ""
        lines.append(f"| {r.pattern} | {r.source} | {r.statement} | {r.mean:.3f} | "
                     f"[{r.ci_low:.3f}, {r.ci_high:.3f}] | {r.share_holding:.0%} of {r.seeds} | "
                     f"{r.tolerance} | **{r.result}**{note} |")
    if fit is not None:
        lines += ["", "## The calibration's targets on these seeds", "",
                  f"Seeds the calibration did not use; mean and central {PREDICTIVE:.0%} of the "
                  "runs; PASS when the mean lies in the band accepted on held-out seeds.", "",
                  "| target | source | study | mean | interval of the runs | accepted | result |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r.target} | {r.source} | {r.study:.4g} | {r.mean:.4g} | "
                  f"[{r.low:.4g}, {r.high:.4g}] | [{r.accepted_low:.4g}, {r.accepted_high:.4g}] | "
                  f"**{r.result}** |" for r in fit.itertuples()]
    return "\n".join(lines) + "\n"


def fit_text(fit: pd.DataFrame) -> str:
    """The calibration's targets for the terminal, one a line."""
    return "\n".join(f"{r.result}  {r.target} ({r.source}, study {r.study:.4g})  mean {r.mean:.4g} "
                     f"[{r.low:.4g}, {r.high:.4g}] over {r.runs} runs; accepted "
                     f"[{r.accepted_low:.4g}, {r.accepted_high:.4g}]" for r in fit.itertuples())


def text_table(table: pd.DataFrame) -> str:
    """The table for the terminal, one pattern a line."""
    width = max(len(n) for n in table["pattern"])
    lines = []
    for r in table.itertuples():
        lines.append(f"{r.result}  {r.pattern:<{width}}  ({r.source})  mean {r.mean:.3f} "
                     f"[{r.ci_low:.3f}, {r.ci_high:.3f}]  holds in {r.share_holding:.0%} of "
                     f"{r.seeds} seeds; {r.tolerance}" + (f"  [{r.note}]" if r.note else ""))
    return "\n".join(lines)
