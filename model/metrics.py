"""The measures users take (docs/source.md, "What users measure"), computed from the case table
and the daily log into ``summary.json`` (README: the output contract).
Rates are per resident actually present.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .calendar import month_of
from .cases import NOT_SET
from .kpis import computed
from .provenance import model_digest
from .vocabulary import (
    DISPUTE_KINDS,
    KINDS,
    LEVELS,
    LONGQIAO,
    OPEN_STATES,
    ORIGINS,
    STREETS,
    C,
    K,
    S,
)
from .winter_influx import in_heating_season

MODEL_VERSION = "0.3.0"
DAYS_PER_MONTH = 365 / 12
DISPUTES = np.array([K[k] for k in DISPUTE_KINDS])
ABOVE_COMPOUND = sum(1 << i for i, lev in enumerate(LEVELS) if lev != "compound")


def _share(num: float, den: float) -> float:
    return float(num / den) if den else 0.0


def _mean(x: np.ndarray) -> float | None:
    return float(np.mean(x)) if len(x) else None


def _p90(x: np.ndarray) -> float | None:
    return float(np.percentile(x, 90)) if len(x) else None


def summarise(model, scenario: str = "custom") -> dict[str, Any]:
    """summary.json of a finished run; every number in it is declared in model/kpis.py."""
    p, c = model.p, model.cases
    ts = model.datacollector.get_model_vars_dataframe()
    days = len(ts)
    population = float(ts["present"].mean())
    months = days / DAYS_PER_MONTH
    # cases raised during the run (not those of the warm-up); closures and their durations
    # count every reported case closed during the run, carried-over ones included
    new = c.opened >= 0
    reported = (c.channel != C["silence"]) & new
    closed = closed_in_run(c)
    active = active_in_run(c)
    in_loop = active & ((c.levels_seen >> LEVELS.index("hotline") & 1) == 1)
    dispute = np.isin(c.kind, DISPUTES) & new
    tickets = model.daily.tickets_by_kind.sum(axis=0)
    n_tickets = tickets.sum()
    staff_total = int(model.staff.sum())
    summary: dict[str, Any] = {
        "scenario": scenario,
        "seed": int(model.seed),
        "days": days,
        "scale": p.scale,
        "population": population,
        "hotline_tickets_per_10k_per_year": _share(n_tickets * 10_000 * 365, population * days),
        "category_shares": {k: _share(tickets[i], n_tickets) for i, k in enumerate(KINDS)},
        "disputes_per_1000_per_month": _share(dispute.sum() * 1000, population * months),
        "cases_per_1000_per_month": _share(new.sum() * 1000, population * months),
        "disputes_by_kind_per_1000_per_month": {
            k: _share(np.count_nonzero((c.kind == K[k]) & new) * 1000, population * months)
            for k in DISPUTE_KINDS},
        "settled_shares": {lev: _share(np.count_nonzero(closed & (c.settled_level == i)),
                                       np.count_nonzero(closed & c.resolved))
                           for i, lev in enumerate(LEVELS)},
        "resolution_rate": _share(np.count_nonzero(closed & c.resolved), closed.sum()),
        "mean_days_to_close": _mean((c.closed - c.raised)[closed]),
        "mean_days_to_resolve": _mean((c.closed - c.raised)[closed & c.resolved]),
        "mean_days_to_handle": _mean((c.handled - c.raised)[closed & (c.handled != NOT_SET)]),
        "mean_case_satisfaction": _mean(c.satisfaction[closed]),
        **overload(c, closed, first_handled_in_run(c)),
        "backlog_at_year_end": int(np.count_nonzero(np.isin(c.state, OPEN_STATES))),
        "escalation_shares": {lev: _share(np.count_nonzero(reported & (c.levels_seen >> i & 1)),
                                          reported.sum()) for i, lev in enumerate(LEVELS)},
        "reached_community_or_higher": _share(
            np.count_nonzero(reported & (c.levels_seen & ABOVE_COMPOUND > 0)), reported.sum()),
        "escalated_share": _share(np.count_nonzero(reported & (c.escalations > 0)),
                                  reported.sum()),
        "silence_share": _share(np.count_nonzero(new & ~reported), new.sum()),
        "channel_shares": {ch: _share(np.count_nonzero(new & (c.channel == C[ch])), new.sum())
                           for ch in C},
        "carried_over_from_warmup": int(np.count_nonzero(~new & active)),
        # of the cases in the district loop during the run (tickets and found problems)
        "supervised_share": _share(np.count_nonzero(in_loop & (c.supervised > 0)), in_loop.sum()),
        "overdue_share": _share(np.count_nonzero(in_loop & c.overdue), in_loop.sum()),
        "discipline_referrals": int(np.count_nonzero(active & c.discipline)),
        "mean_satisfaction": float(ts["mean_satisfaction"].mean()),
        "final_satisfaction": float(ts["mean_satisfaction"].iloc[-1]),
        # share of present adults below the neutral point of the 0..1 scale on the last day
        "unsatisfied_share": float(np.mean(model.satisfaction[model.present_adults()] < 0.5)),
        "satisfaction_sd": float(np.std(model.satisfaction[model.present_adults()])),
        "satisfaction_by_origin": _snapshot_means(model, "origin", ORIGINS),
        "participation_rate": float(np.mean([s["participation"] for s in model.daily.snapshots])),
        "workload_per_worker": _share(model.daily.staff_load_by_street.sum(), staff_total * months),
        "utilisation": float(ts["utilisation"].mean()),
        "staff": staff_total,
        "by_community": by_community(model, months),
        "by_street": by_street(model),
        "by_month": by_month(model, ts),
        "case_states": {s: int(np.count_nonzero(active & (c.state == S[s]))) for s in S},
        "build_seconds": model.build_seconds,
        "runtime_seconds": model.build_seconds + model.run_seconds,
        "model_version": MODEL_VERSION,
        "model_digest": model_digest(),  # the source and libraries that computed these numbers
    }
    # measures declared with their computation in model/kpis.py, without a line here
    return {**summary, **computed(model, summary)}


def active_in_run(c) -> np.ndarray:
    """Every case the recorded run saw: raised in it, or carried over still open from the
    warm-up (warm-up cases closed before 1 January are left out)."""
    return (c.opened >= 0) | (c.closed >= 0) | np.isin(c.state, OPEN_STATES)


def closed_in_run(c) -> np.ndarray:
    """Reported cases closed during the recorded run (day >= 0)."""
    return (np.isin(c.state, (S["closed_resolved"], S["closed_unresolved"]))
            & (c.channel != C["silence"]) & (c.closed >= 0))


def first_handled_in_run(c) -> np.ndarray:
    """Cases a unit first finished work on during the recorded run (day >= 0)."""
    return c.first_handled >= 0


def overload(c, closed: np.ndarray, first: np.ndarray) -> dict[str, Any]:
    """What mean days to close hide when units are overloaded, over the cases ``closed``
    (closed in the run) and ``first`` (first handled in the run) selected: the shares of the
    closed ones that the resident gave up (``gave_up``) and that no unit ever finished work
    on, and by the tier where a case was first handled the mean and 90th percentile of its
    wait from being raised to that first handling (days)."""
    n_closed = np.count_nonzero(closed)
    wait = c.first_handled[first] - c.raised[first]
    tier = c.first_level[first]
    return {
        "abandoned_share": _share(np.count_nonzero(closed & c.gave_up), n_closed),
        "never_handled_share": _share(np.count_nonzero(closed & (c.handled == NOT_SET)), n_closed),
        "wait_before_handling_mean": {lev: _mean(wait[tier == i]) for i, lev in enumerate(LEVELS)},
        "wait_before_handling_p90": {lev: _p90(wait[tier == i]) for i, lev in enumerate(LEVELS)},
    }


def longqiao_winter_days_to_close(model) -> float | None:
    """Mean days to close of Longqiao's reported cases raised in the heating season and
    closed in the run (None without any)."""
    c = model.cases
    sel = closed_in_run(c) & (c.street == LONGQIAO) & (c.raised >= 0)
    raised = c.raised[sel]
    return _mean((c.closed[sel] - raised)[in_heating_season(raised, model.p)])


def _snapshot_means(model, what: str, names) -> dict[str, float | None]:
    snaps = model.daily.snapshots
    tot = sum(s[f"{what}_sum"] for s in snaps)
    n = sum(s[f"{what}_n"] for s in snaps)
    return {name: (float(tot[i] / n[i]) if n[i] else None) for i, name in enumerate(names)}


def by_community(model, months: float) -> list[dict[str, Any]]:
    d, c = model.district, model.cases
    sat = _snapshot_means(model, "community", range(d.n_communities))
    closed = closed_in_run(c)
    disputes = np.bincount(c.community[np.isin(c.kind, DISPUTES) & (c.opened >= 0)],
                           minlength=d.n_communities)
    days_sum = np.bincount(c.community[closed], (c.closed - c.raised)[closed],
                           minlength=d.n_communities)
    n_closed = np.bincount(c.community[closed], minlength=d.n_communities)
    # mean present residents: the seasonal ones count for the share of days they were there
    seasonal = np.bincount(d.community[d.seasonal], minlength=d.n_communities)
    mean_present = d.community_pop + seasonal * _season_presence(model)
    out = []
    for i in range(d.n_communities):
        out.append({
            "community": i,
            "street": STREETS[d.community_street[i]],
            "population": int(d.community_pop[i]),
            "staff": int(model.staff[i]),
            "staff_per_10k": float(model.staff[i] / d.community_pop[i] * 10_000),
            "disputes_per_1000_per_month": _share(disputes[i] * 1000, mean_present[i] * months),
            "mean_satisfaction": sat[i],
            "mean_days_to_close": _share(days_sum[i], n_closed[i]) if n_closed[i] else None,
        })
    return out


def _season_presence(model) -> float:
    """Share of simulated days on which seasonal residents were present."""
    days = len(model.daily.new_cases)
    return float(np.mean([in_heating_season(t, model.p) for t in range(days)]))


def by_street(model) -> list[dict[str, Any]]:
    """Per street and month: cases entering community staff queues per staff member serving
    there that month (winter posts move some into Longqiao; ``staff`` is the home posts);
    per street: the overload measures and the cases open at the end."""
    d, log, c = model.district, model.daily, model.cases
    closed, first = closed_in_run(c), first_handled_in_run(c)
    still_open = np.isin(c.state, OPEN_STATES)
    staff = np.bincount(d.community_street, model.staff, minlength=len(STREETS))
    month = month_of(np.arange(len(log.new_cases)))
    out = []
    for s, name in enumerate(STREETS):
        rep = np.bincount(month, log.staff_load_by_street[:, s])
        days = np.maximum(np.bincount(month), 1)
        pres = np.bincount(month, log.present_by_street[:, s]) / days
        serving = np.bincount(month, log.staff_by_street[:, s]) / days
        base_pop = int(np.count_nonzero((d.street == s) & ~d.seasonal))
        out.append({
            "street": name,
            "staff": int(staff[s]),
            "population": base_pop,
            "staff_per_10k": _share(staff[s] * 10_000, base_pop),
            "monthly_present": pres.tolist(),
            "monthly_load_per_worker": (rep / np.maximum(serving, 1)).tolist(),
            **overload(c, closed & (c.street == s), first & (c.street == s)),
            "backlog_at_year_end": int(np.count_nonzero(still_open & (c.street == s))),
        })
    return out


def by_month(model, ts: pd.DataFrame) -> list[dict[str, Any]]:
    """Per month (1-based, as the time series): its days' totals and means, the backlog at
    its end, and the overload measures of the cases closed and first handled in it."""
    c = model.cases
    g = ts.groupby("month")
    closed, first = closed_in_run(c), first_handled_in_run(c)
    closed_month = month_of(c.closed) + 1
    first_month = month_of(c.first_handled) + 1
    out = []
    for month, frame in g:
        pop = float(frame["present"].mean())
        out.append({
            "month": int(month),
            "population": pop,
            "disputes_per_1000": _share(frame["new_disputes"].sum() * 1000, pop),
            "cases": int(frame["new_cases"].sum()),
            "hotline_tickets": int(frame["hotline_tickets"].sum()),
            "mean_satisfaction": float(frame["mean_satisfaction"].mean()),
            "backlog": int(frame["backlog"].iloc[-1]),
            "utilisation": float(frame["utilisation"].mean()),
            **overload(c, closed & (closed_month == month), first & (first_month == month)),
        })
    return out
