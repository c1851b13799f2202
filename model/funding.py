"""Funding (经费): each community's yearly service money (F13; F14 elsewhere) buys professional
services from social organisations — counselling and legal aid that add hours and settle
disputes better (policy 3c) — and neighbourhood activities that soften disputes and lift
satisfaction (policy 3a)."""

from __future__ import annotations

import numpy as np

PROFESSIONAL_BOOST_MAX = 0.2   # assumption: at most +0.2 on dispute resolution
PROFESSIONAL_HALF_HOURS = 2.0  # assumption: hours/day giving half the boost
ACTIVITY_SATISFACTION_MAX = 0.1


def professional_hours(p, n_communities: int) -> np.ndarray:
    """Hours a day of bought professional service per community."""
    hours = p.funding_per_community_yuan * p.professional_share / p.professional_hour_yuan / 365
    return np.full(n_communities, hours)


def professional_boost(hours: np.ndarray) -> np.ndarray:
    return PROFESSIONAL_BOOST_MAX * hours / (hours + PROFESSIONAL_HALF_HOURS)


def activity_intensity(p, community_pop: np.ndarray) -> np.ndarray:
    """Activities a year per 1,000 residents."""
    activities = p.funding_per_community_yuan * p.activity_share / p.activity_yuan
    return activities / np.maximum(community_pop, 1) * 1000


def activity_factor(p, community_pop: np.ndarray) -> np.ndarray:
    """Multiplier of neighbour-dispute hazards."""
    return 1.0 / (1.0 + p.activity_effect * activity_intensity(p, community_pop))


def activity_bonus(p, community_pop: np.ndarray) -> np.ndarray:
    """Lift of the living-conditions satisfaction target."""
    return ACTIVITY_SATISFACTION_MAX * (1.0 - activity_factor(p, community_pop))
