"""Resident (居民): a real Mesa agent whose state is one row of the model's resident arrays."""

from __future__ import annotations

import mesa

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
        self.model.satisfaction[self.idx] = value

    @property
    def experience(self) -> float:
        return float(self.model.experience[self.idx])

    @experience.setter
    def experience(self, value: float) -> None:
        self.model.experience[self.idx] = value
