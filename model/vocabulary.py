"""Shared vocabulary: the kinds of cases, channels, tiers, origins, age groups, compound
types and case states. Codes are small integers so that they live in numpy arrays."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

# Case kinds (the 12345 hotline's categories that community governance meets; problems
# P1-P12 of docs/source.md).
KINDS = (
    "neighbour",        # P1 neighbour disputes
    "family",           # P1 family disputes
    "property",         # P4 residents vs property firms (F4)
    "infrastructure",   # P2 ageing water, power, roads, pipes
    "parking",          # P5 parking, fire lanes, flying-wire charging
    "environment",      # P5 green space turned to vegetable plots, sanitation
    "public_service",   # P8 jobs, schools, health care
    "heating",          # P2/P3 heating, only in the heating season (F18)
    "courier_access",   # P6 couriers' and riders' access (F16)
    "other",            # matters for district departments outside community governance
)
K = {name: i for i, name in enumerate(KINDS)}
# Disputes between parties (矛盾纠纷); the rest are demands on a service.
DISPUTE_KINDS = ("neighbour", "family", "property", "parking", "environment")
# Matters a property firm is pushed to enforce although it has no power to (P5).
ENFORCEMENT_KINDS = ("parking", "environment")
# Quarrels taken to mediators near home, seldom to a government hotline (assumption).
MEDIATED_KINDS = ("neighbour", "family")
# Matters that belong to district departments or utilities, not to the community.
DEPARTMENT_KINDS = ("public_service", "heating", "other")

CHANNELS = ("silence", "building_head", "grid_worker", "compound_branch", "community",
            "hotline", "probe")
C = {name: i for i, name in enumerate(CHANNELS)}

# Unit types that hold queues. Tiers of the ladder are compound < community < street.
UNIT_TYPES = ("compound", "community", "street", "firm", "department", "supervision")
U = {name: i for i, name in enumerate(UNIT_TYPES)}
LEVELS = ("compound", "community", "street", "hotline")

ORIGINS = ("urban_native", "relocated", "commodity_buyer", "rural_migrant", "outsider",
           "seasonal")
O = {name: i for i, name in enumerate(ORIGINS)}
AGE_GROUPS = ("child", "young", "middle", "elderly")
A = {name: i for i, name in enumerate(AGE_GROUPS)}
COMPOUND_TYPES = ("old", "relocation", "commercial", "village")
T = {name: i for i, name in enumerate(COMPOUND_TYPES)}

STATES = ("queued", "awaiting_visit", "closed_resolved", "closed_unresolved", "silent")
S = {name: i for i, name in enumerate(STATES)}
OPEN_STATES = (S["queued"], S["awaiting_visit"])

STREETS = ("Gulou", "Longqiao", "Jiuxianqiao")
LONGQIAO = STREETS.index("Longqiao")


def member_table(codes: Iterable[int], size: int) -> np.ndarray:
    """Boolean table over the codes ``0 .. size-1``: ``table[x]`` is ``np.isin(x, codes)``.

    The daily processes test small arrays of codes many times a day; ``np.isin`` costs about
    25 µs a call whatever the size, a table lookup about 1 µs."""
    table = np.zeros(size, bool)
    table[list(codes)] = True
    return table


IS_DISPUTE = member_table((K[k] for k in DISPUTE_KINDS), len(KINDS))
IS_ENFORCEMENT = member_table((K[k] for k in ENFORCEMENT_KINDS), len(KINDS))
IS_MEDIATED = member_table((K[k] for k in MEDIATED_KINDS), len(KINDS))
IS_DEPARTMENT = member_table((K[k] for k in DEPARTMENT_KINDS), len(KINDS))
