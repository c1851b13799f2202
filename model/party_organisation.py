"""The party organisation's reach (党建引领): compound branches find building heads ('red
building heads', 红色楼长) through their members' ties into each building; heads step down
now and then; in-unit members 'double report' to the community where they live (F19, policy
7). What the branches' monthly step (agents/party_branch.py) reads."""

from __future__ import annotations

import numpy as np


def member_ties_by_building(model) -> np.ndarray:
    """Per building: ties from party members (living anywhere) to its residents, per
    resident of the building. The network is fixed, so this is computed once."""
    d, adj = model.district, model.adj
    from_member = adj[np.flatnonzero(d.party)]  # rows of the members' ties
    into = np.bincount(d.building[from_member.indices], minlength=len(d.building_compound))
    size = np.bincount(d.building, minlength=len(d.building_compound))
    return into / np.maximum(size, 1)


def recruitment_chance(model, buildings: np.ndarray) -> np.ndarray:
    """Monthly chance that a compound branch finds a head for each head-less building:
    certain under five-level coverage (policy 1), else growing with the members' ties."""
    if model.p.five_level_coverage:
        return np.ones(len(buildings))
    return -np.expm1(-model.p.head_recruitment_rate * model.member_ties[buildings])


def double_report_hours(model, members: int) -> float:
    """Hours a day that ``members`` in-unit party members give their home community: the
    share that shows up ('registered but not seen', P11), more when double reporting is
    made active (policy 7)."""
    p = model.p
    active = p.double_report_active_policy if p.double_reporting else p.double_report_active
    return members * active * p.double_report_hours_per_month / 30.0 * p.volunteer_case_share
