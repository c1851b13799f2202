"""Residents (居民): ``Residents``, the collection that owns the resident arrays and acts for
all residents at once (a vectorised agent set with a ``step``, in the spirit of mesa-frames),
and ``Resident``, a real Mesa agent whose state is one row of those arrays."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import overload

import mesa
import numpy as np

from model import participation, satisfaction, winter_influx
from model.vocabulary import AGE_GROUPS, ORIGINS


class Resident(mesa.Agent):
    """A view of resident ``idx``: reading or writing an attribute reads or writes the row.

    A resident has no ``step`` of its own: ``Residents.step`` acts for all rows at once. Get
    them from ``model.residents`` (one agent per resident, made on demand).
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


class Residents(Sequence[Resident]):
    """The ``n`` residents of a model: their arrays and their behaviour.

    State, one row per resident: ``present`` (here today: seasonal residents only in the
    heating season), ``satisfaction`` (the opinion reported), ``experience`` (what their own
    cases and living conditions say), ``volunteer`` (volunteering this month). Fixed traits
    (origin, age, home) are in ``model.district``. ``present``, ``satisfaction`` and
    ``volunteer`` are replaced, never written into (the memoised totals of model.memo rely
    on it); ``experience`` is written in place.

    Behaviour: ``step`` (each day: who is here, new disputes and demands and where they are
    taken), ``judge`` (the end of the day: the day's closed cases), ``listen`` (then: drift
    toward living conditions and neighbours' opinions), ``volunteer_for_month`` (each month).

    ``residents[i]`` is resident ``i`` as a ``Resident`` agent, created (and so registered
    in ``model.agents``) the first time it is asked for and the same object afterwards. Why
    on demand: the processes work on the arrays, and Mesa registers agents one at a time
    (about 8 µs each, two seconds for the 260,000 residents at scale 1.0) with no public way
    to add many at once. ``model.agents_by_type[Resident]`` holds the residents looked at.
    """

    def __init__(self, model: mesa.Model, n: int) -> None:
        self._model = model
        self._n = n
        self._views: dict[int, Resident] = {}
        self.present: np.ndarray | None = None
        self.volunteer = np.zeros(n, bool)
        self.satisfaction = np.zeros(n)
        self.experience = np.zeros(n)
        self.closed_today: list[np.ndarray] = []  # rows of the case table closed today

    # --- behaviour ------------------------------------------------------------------------
    def step(self) -> None:
        """The residents' day: who is here (the winter influx), then their new disputes and
        demands and the channel each is taken to."""
        m = self._model
        if winter_influx.update_presence(m):
            m.sampler.refresh(m)
        m.new_resident_cases()

    def judge(self) -> None:
        """The end of the day: the raisers of the cases closed today score them
        (expectancy-disconfirmation) and feel it. One pass for the whole day instead of one
        per closing process: scores depend only on the case and the day."""
        if not self.closed_today:
            return
        m = self._model
        idx = np.concatenate(self.closed_today)
        self.closed_today.clear()
        scores = m.case_satisfaction(idx)
        m.cases.satisfaction[idx] = scores
        satisfaction.record_closed(m, idx, scores)

    def listen(self) -> None:
        """Experience drifts toward living conditions; opinions toward the neighbours'."""
        satisfaction.influence(self._model)

    def volunteer_for_month(self) -> None:
        """Who volunteers this month (and the hours it gives the compounds)."""
        participation.monthly(self._model)

    # --- the per-resident view ------------------------------------------------------------
    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> Resident: ...

    @overload
    def __getitem__(self, i: slice) -> list[Resident]: ...

    def __getitem__(self, i: int | slice) -> Resident | list[Resident]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        idx = operator.index(i)  # numpy integers too
        if idx < 0:
            idx += self._n
        if not 0 <= idx < self._n:
            raise IndexError(f"resident {i} out of range: the model has {self._n} residents")
        agent = self._views.get(idx)
        if agent is None:
            agent = self._views[idx] = Resident(self._model, idx)
        return agent

    def __repr__(self) -> str:
        return f"<Residents: {self._n} residents, {len(self._views)} viewed as agents>"
