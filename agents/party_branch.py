"""Party organisation (党组织) in five levels: street working committee, community committee,
compound (grid) branch, building group; the fifth level, party-member households, is the
``party`` flag of residents.

Each month (``step``): a street committee sends people's-condition secretaries to hear its
residents' silent problems (policy 7); a community committee gathers the hours its in-unit
members give by double reporting (F19); a compound branch finds heads for its head-less
buildings through its members' ties; a building group's head may step down, and the group
with it. Compound branches and building groups mediate matters in their compound every day
(their hours join the compound's capacity: model.update_capacity)."""

from __future__ import annotations

import mesa
import numpy as np

from model import outreach, party_organisation

LEVELS = ("street_committee", "community_committee", "compound_branch", "building_group")


class PartyBranch(mesa.Agent):
    def __init__(self, model: mesa.Model, level: str, place: int, members: int,
                 in_unit_members: int = 0) -> None:
        super().__init__(model)
        if level not in LEVELS:
            raise ValueError(f"unknown party level '{level}'; allowed: {', '.join(LEVELS)}")
        self.level = level
        self.place = place      # street, community, compound or building index
        self.members = members  # resident party members registered there
        self.in_unit_members = in_unit_members  # of them, employed by units (F19)
        self.found = 0          # silent problems its secretaries heard (street committees)
        self.recruited = 0      # building heads it found (compound branches)

    def mediation_hours_per_day(self) -> float:
        """Hours a day given to settling residents' matters where they live: a compound
        branch's members together, and a building group's 'red building head'. The street
        and community committees work through their offices' staff."""
        p = self.model.p
        return {"compound_branch": p.branch_mediation_hours,
                "building_group": p.head_mediation_hours}.get(self.level, 0.0)

    def step(self) -> None:
        {"street_committee": self._send_secretaries,
         "community_committee": self._gather_double_reports,
         "compound_branch": self._recruit_heads,
         "building_group": self._maybe_step_down}[self.level]()

    def _send_secretaries(self) -> None:
        self.found += len(outreach.secretaries(self.model, self.place))

    def _gather_double_reports(self) -> None:
        self.model.member_hours[self.place] = party_organisation.double_report_hours(
            self.model, self.in_unit_members)

    def _recruit_heads(self) -> None:
        m = self.model
        d = m.district
        buildings = m.compound_buildings[self.place]
        headless = buildings[~d.building_has_head[buildings]]
        if len(headless) == 0:
            return
        found = headless[m.rng.random(len(headless)) < party_organisation.recruitment_chance(
            m, headless)]
        for building in found.tolist():
            d.building_has_head[building] = True
            PartyBranch(m, "building_group", building, int(m.building_members[building]))
        self.recruited += len(found)

    def _maybe_step_down(self) -> None:
        """The head may step down, and the group with it; under five-level coverage
        (policy 1) another member takes over at once, so every building keeps a head."""
        m = self.model
        if m.p.five_level_coverage:
            return
        if m.p.head_turnover and m.rng.random() < m.p.head_turnover:
            m.district.building_has_head[self.place] = False
            self.remove()


def compound_buildings(building_compound: np.ndarray, n_compounds: int) -> list[np.ndarray]:
    """The buildings of each compound."""
    order = np.argsort(building_compound, kind="stable")
    bounds = np.searchsorted(building_compound[order], np.arange(n_compounds + 1))
    return [order[bounds[k]:bounds[k + 1]] for k in range(n_compounds)]
