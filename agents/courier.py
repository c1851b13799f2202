"""Couriers and delivery riders (快递小哥、外卖骑手), the 'new employment group' (F15), with
their access problems (F16). Enrolled as special grid workers they act as 'probes' (policy 6).

``Couriers`` owns their arrays and acts for all of them each day; ``Courier`` is one of them
as a Mesa agent (few enough to create them all)."""

from __future__ import annotations

import mesa
import numpy as np

from model import case_generation, channel_choice, outreach


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

    @property
    def special_grid_worker(self) -> bool:
        return bool(self.model.couriers.special[self.idx])

    @property
    def points(self) -> int:
        """Points earned as a special grid worker for problems reported (policy 6)."""
        return int(self.model.couriers.points[self.idx])

    @property
    def problem_count(self) -> int:
        return int(self.hard_to_enter) + int(self.hard_to_park) + int(self.no_toilet)


class Couriers:
    """All couriers and riders: ``problems`` (n x 3: hard to enter, to park, no toilet; F16),
    ``special`` (enrolled as special grid workers, policy 6) and ``points`` (earned by their
    reports). ``step``: their access complaints of the day, then what the special grid
    workers among them report."""

    def __init__(self, model: mesa.Model, problems: np.ndarray, special: np.ndarray) -> None:
        self._model = model
        self.problems = problems
        self.special = special
        self.points = np.zeros(len(special), np.int64)

    def __len__(self) -> int:
        return len(self.special)

    def step(self) -> None:
        self.complain()
        outreach.probes(self._model)

    def complain(self) -> None:
        """Access complaints raised today (one hazard per problem), at a compound drawn by
        population, taken to the channel each chooses."""
        m = self._model
        who = case_generation.courier_draw(m)
        # Most days at small scales have no courier case; skipping is identical because
        # Generator.choice and exponential with size 0 draw no random numbers.
        if len(who) == 0:
            return
        d, rng = m.district, m.rng
        where = rng.choice(d.n_compounds, len(who), p=d.compound_pop / d.compound_pop.sum())
        idx = m.cases.add(
            len(who), courier=who, kind=case_generation.K["courier_access"],
            channel=channel_choice.choose_courier(m, who), compound=where,
            community=d.compound_community[where], street=d.compound_street[where],
            opened=m.day, raised=m.day,
            patience=rng.exponential(m.p.patience_days * m.p.courier_patience_factor, len(who)))
        m.route(idx)
