"""Resident (居民): a real Mesa agent whose state is one row of the model's resident arrays."""

from __future__ import annotations

import gc
from contextlib import contextmanager

import mesa
from mesa.agentset import _HardKeyAgentSet
from mesa.experimental.mesa_signals import ModelSignals

from model.vocabulary import AGE_GROUPS, ORIGINS


class Resident(mesa.Agent):
    """A view of resident ``idx``: reading or writing an attribute reads or writes the row.

    Residents have no per-agent ``step``; the daily processes act on all rows at once.
    """

    def __init__(self, model: mesa.Model, idx: int) -> None:
        super().__init__(model)
        self.idx = idx

    @property
    def origin(self) -> str:
        return ORIGINS[self.model.district.origin[self.idx]]

    @property
    def age_group(self) -> str:
        return AGE_GROUPS[self.model.district.age[self.idx]]

    @property
    def party_member(self) -> bool:
        return bool(self.model.district.party[self.idx])

    @property
    def double_reports(self) -> bool:
        return bool(self.model.district.in_unit[self.idx])

    @property
    def seasonal(self) -> bool:
        return bool(self.model.district.seasonal[self.idx])

    @property
    def compound(self) -> int:
        return int(self.model.district.compound[self.idx])

    @property
    def community(self) -> int:
        return int(self.model.district.community[self.idx])

    @property
    def expectation(self) -> float:
        return float(self.model.district.expectation[self.idx])

    @property
    def present(self) -> bool:
        return bool(self.model.present[self.idx])

    @property
    def volunteer(self) -> bool:
        return bool(self.model.volunteer[self.idx])

    @property
    def satisfaction(self) -> float:
        return float(self.model.satisfaction[self.idx])

    @satisfaction.setter
    def satisfaction(self, value: float) -> None:
        array = self.model.satisfaction
        array.flags.writeable = True  # locked by the memoised totals, which are reset here
        array[self.idx] = value
        self.model.resident_rows_written()

    @property
    def experience(self) -> float:
        return float(self.model.experience[self.idx])

    @experience.setter
    def experience(self, value: float) -> None:
        self.model.experience[self.idx] = value


def create_residents(model: mesa.Model, n: int) -> list[Resident]:
    """Create residents ``0 .. n-1`` as real Mesa agents, registered in ``model.agents`` and
    ``model.agents_by_type[Resident]`` with consecutive ``unique_id``s, exactly as ``n`` calls
    of ``Resident(model, i)`` would leave them.

    Why not that loop: ``Agent.__init__`` registers one agent at a time (a signal, a log call,
    two set insertions), about 4 µs each, over a second for the 260,000 residents at scale 1.0.
    Here the same attributes are set directly and the agents are added to Mesa's registries in
    one go. The bulk path is taken only when nothing could tell the difference (no observer of
    agent additions, no data set tracking residents); otherwise the plain loop runs.
    """
    if not _can_bulk_register(model):
        return [Resident(model, i) for i in range(n)]
    first = model.agent_id_counter
    with _gc_paused():  # 260,000 new containers would trigger many useless collections
        residents = [object.__new__(Resident) for _ in range(n)]
        for i, r in enumerate(residents):
            r.__dict__ = {"model": model, "unique_id": first + i, "pos": None, "idx": i}
    model.agent_id_counter = first + n
    model._all_agents._agents.update(dict.fromkeys(residents))
    model._agents_by_type[Resident] = _HardKeyAgentSet(residents, random=model.random)
    return residents


def _can_bulk_register(model: mesa.Model) -> bool:
    """Mesa's registries are as this module expects, no one listens to additions, no
    subclass registers agents its own way, and there are no residents yet."""
    try:
        quiet = (not model._has_subscribers("agents", ModelSignals.AGENT_ADDED)
                 and model._batch_context is None)
        return (quiet and not Resident._datasets
                and type(model).register_agent is mesa.Model.register_agent
                and Resident not in model._agents_by_type
                and isinstance(model._all_agents, _HardKeyAgentSet)
                and isinstance(model._agents_by_type, dict)
                and isinstance(model.agent_id_counter, int))
    except AttributeError:  # another Mesa version: take the ordinary path
        return False


@contextmanager
def _gc_paused():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
