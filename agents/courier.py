"""Couriers and delivery riders (快递小哥、外卖骑手), the 'new employment group' (F15), with
their access problems (F16). Enrolled as special grid workers they act as 'probes' (policy 6)."""

from __future__ import annotations

import mesa


class Courier(mesa.Agent):
    def __init__(self, model: mesa.Model, idx: int, job: str, local: bool, aged_30_49: bool,
                 high_school: bool, problems: tuple[bool, bool, bool]) -> None:
        super().__init__(model)
        self.idx = idx
        self.job = job  # "courier" or "rider"
        self.local = local
        self.aged_30_49 = aged_30_49
        self.high_school = high_school
        self.hard_to_enter, self.hard_to_park, self.no_toilet = problems
        self.special_grid_worker = False

    @property
    def points(self) -> int:
        """Points earned as a special grid worker for problems reported (policy 6)."""
        return int(self.model.courier_points[self.idx])

    @property
    def problem_count(self) -> int:
        return int(self.hard_to_enter) + int(self.hard_to_park) + int(self.no_toilet)
