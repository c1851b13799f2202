"""Residents' satisfaction (满意度): expectancy-disconfirmation at the close of a case (Van Ryzin
2004), a slow pull toward living conditions and toward how well the community settles its
residents' cases (its reputation), and social influence over the neighbour network
(Friedkin-Johnsen: x ← λ W x + (1 - λ) own experience).

``experience`` is what a resident's own cases and living conditions say; ``satisfaction`` is
the opinion after listening to neighbours, and is what is reported. Averaging over neighbours
barely moves the mean; what it changes is the spread, measured by ``dissatisfied_share`` and
``satisfaction_sd`` (model/kpis.py).

``record_closed`` also keeps each raiser's last result (channel, score, day), which their
neighbours hear about when they choose a channel (word of mouth, model/channel_choice.py).
"""

from __future__ import annotations

import numpy as np


def case_score(p, resolved: np.ndarray, delay: np.ndarray, expectation: np.ndarray) -> np.ndarray:
    """S = b0 + b1 P + b2 (P - E), P = resolved x tolerance / (tolerance + delay)."""
    perf = resolved * p.delay_tolerance_days / (p.delay_tolerance_days + delay)
    return np.clip(p.sat_b0 + p.sat_b1 * perf + p.sat_b2 * (perf - expectation), 0.0, 1.0)


def living_target(model) -> np.ndarray:
    """Per-resident satisfaction that living conditions alone would settle at."""
    p, d = model.p, model.district
    firm = d.compound_firm[d.compound]
    quality = np.where(firm >= 0, d.firm_quality[np.maximum(firm, 0)], p.no_firm_quality)
    gap = np.maximum(0.0, d.expectation - quality)
    infra = d.compound_infra[d.compound]
    reputation = community_reputation(model) - p.initial_satisfaction
    # better infrastructure and a firm that meets expectations raise the target; funded
    # activities add a little; residents hear how their community's recent cases ended
    # (reputation); taking part gives the 'sense of participation' the study finds missing
    target = (p.initial_satisfaction + p.sat_infra_weight * (infra - p.sat_infra_reference)
              - p.sat_gap_weight * (gap - p.sat_typical_gap) + model.activity_bonus[d.community]
              + p.sat_reputation_weight * reputation[d.community]
              + p.sat_participation_bonus * model.volunteer)
    return np.clip(target, 0.0, 1.0)


def community_reputation(model) -> np.ndarray:
    """Mean score of each community's reported cases closed in the last quarter; neutral
    (``initial_satisfaction``) where there are none."""
    c, n = model.cases, model.district.n_communities
    recent = (c.closed >= model.day - model.p.sat_reputation_days) & ~np.isnan(c.satisfaction)
    total = np.bincount(c.community[recent], c.satisfaction[recent], minlength=n)
    count = np.bincount(c.community[recent], minlength=n)
    return np.where(count > 0, total / np.maximum(count, 1), model.p.initial_satisfaction)


def record_closed(model, idx: np.ndarray, scores: np.ndarray) -> None:
    """Closed cases move their raisers' experience toward the case's score, and become their
    raisers' last result for word of mouth."""
    res = model.cases.resident[idx]
    mine = res >= 0
    r, s = res[mine], scores[mine]
    _move_toward(model.experience, r, s, model.p.case_weight)
    # the last result each raiser can tell the neighbours about (word of mouth); a resident
    # closing two cases today keeps the later one in idx
    model.last_channel[r] = model.cases.channel[idx[mine]]
    model.last_score[r] = s
    model.last_closed[r] = model.day


def _move_toward(x: np.ndarray, who: np.ndarray, target: np.ndarray, rate: float) -> None:
    """``x[i] += rate * (t - x[i])`` for each (i, t) of (``who``, ``target``) in turn: a resident
    with several closed cases takes them one after another, in order (a plain fancy-indexed
    update would keep only the last)."""
    if len(who) < 2 or np.all(np.diff(np.sort(who))):  # no resident twice: the usual day
        x[who] += rate * (target - x[who])
        return
    while len(who):
        _, first = np.unique(who, return_index=True)
        i = who[first]
        x[i] += rate * (target[first] - x[i])
        rest = np.ones(len(who), bool)
        rest[first] = False
        who, target = who[rest], target[rest]


def record_silent(model, residents: np.ndarray) -> None:
    model.experience[residents] = np.maximum(0.0, model.experience[residents] - model.p.sat_silent_penalty)


def influence(model) -> None:
    """Drift toward living conditions and Friedkin-Johnsen social influence, at the cadence
    ``influence_every_days``."""
    p = model.p
    k = p.influence_every_days
    if model.day % k:
        return
    pull = 1.0 - (1.0 - p.drift_rate) ** k
    model.experience += pull * (model.living_target - model.experience)
    lam = p.susceptibility
    model.satisfaction = lam * (model.W @ model.satisfaction) + (1 - lam) * model.experience
