"""Each optimised path pinned to a plain reference implementation (issue 5).

The references are the straightforward versions: one ``Resident(model, i)`` call per resident,
per-resident loops, ``np.isin``, recomputing every day. Where the optimised path is deterministic
the results must be identical (bit for bit); the small districts keep this file fast.
"""

from __future__ import annotations

import mesa
from mesa.experimental.mesa_signals import ModelSignals

from agents import Resident
from agents.resident import create_residents


class _Marker(mesa.Agent):
    """Another agent type, created around the residents so unique ids do not start at 1."""


# --- creating residents ---------------------------------------------------------------------


def _registry(model: mesa.Model) -> list[tuple]:
    return [(type(a).__name__, a.unique_id, getattr(a, "idx", None), a.pos, a.model is model)
            for a in model.agents]


def _by_type(model: mesa.Model) -> dict[str, list[int]]:
    return {t.__name__: [a.unique_id for a in s] for t, s in model.agents_by_type.items()}


def test_bulk_residents_register_like_agent_init():
    fast, slow = mesa.Model(rng=1), mesa.Model(rng=1)
    for m in (fast, slow):
        _Marker(m)
    create_residents(fast, 40)
    for i in range(40):
        Resident(slow, i)
    for m in (fast, slow):
        _Marker(m)
    assert _registry(fast) == _registry(slow)
    assert _by_type(fast) == _by_type(slow)
    assert fast.agent_id_counter == slow.agent_id_counter
    residents = list(fast.agents_by_type[Resident])
    assert all(type(r) is Resident and isinstance(r, mesa.Agent) for r in residents)
    # they behave as Mesa agents: selection, removal
    assert len(fast.agents.select(agent_type=Resident)) == 40
    residents[3].remove()
    assert residents[3] not in fast.agents and len(fast.agents_by_type[Resident]) == 39


def test_bulk_residents_fall_back_when_someone_listens():
    class Listener:
        def __init__(self) -> None:
            self.heard = []

        def hear(self, signal) -> None:
            self.heard.append(signal)

    model, listener = mesa.Model(rng=1), Listener()
    model.observe("agents", ModelSignals.AGENT_ADDED, listener.hear)  # held by a weak reference
    create_residents(model, 5)
    assert len(listener.heard) == 5
    assert [a.unique_id for a in model.agents] == [1, 2, 3, 4, 5]


def test_resident_views_read_and_write_rows(fresh_model):
    m = fresh_model
    residents = list(m.agents_by_type[Resident])
    assert len(residents) == m.district.n_residents
    r = residents[17]
    assert r.idx == 17 and r.compound == int(m.district.compound[17])
    r.satisfaction = 0.25
    assert m.satisfaction[17] == 0.25
