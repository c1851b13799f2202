"""Funding (经费): each community's yearly service money (F13; F14 elsewhere) buys professional
services from social organisations — counselling and legal aid that add hours and settle
disputes better (policy 3c) — and neighbourhood activities that soften disputes and lift
satisfaction (policy 3a)."""

from __future__ import annotations

import numpy as np


def professional_hours(p, n_communities: int) -> np.ndarray:
    """Hours a day of bought professional service per community."""
    hours = p.funding_per_community_yuan * p.professional_share / p.professional_hour_yuan / 365
    return np.full(n_communities, hours)


def professional_boost(p, hours: np.ndarray) -> np.ndarray:
    return p.professional_boost_max * hours / (hours + p.professional_half_hours)


def activity_intensity(p, community_pop: np.ndarray) -> np.ndarray:
    """Activities a year per 1,000 residents."""
    activities = p.funding_per_community_yuan * p.activity_share / p.activity_yuan
    return activities / np.maximum(community_pop, 1) * 1000


def activity_factor(p, community_pop: np.ndarray) -> np.ndarray:
    """Multiplier of neighbour-dispute hazards."""
    return 1.0 / (1.0 + p.activity_effect * activity_intensity(p, community_pop))


def activity_bonus(p, community_pop: np.ndarray) -> np.ndarray:
    """Lift of the living-conditions satisfaction target."""
    return p.activity_satisfaction_max * (1.0 - activity_factor(p, community_pop))
