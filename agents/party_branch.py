"""Party organisation (党组织) in five levels: street working committee, community committee,
compound (grid) branch, building group; the fifth level, party-member households, is the
``party`` flag of residents."""

from __future__ import annotations

import mesa

LEVELS = ("street_committee", "community_committee", "compound_branch", "building_group")
# Hours a day given to settling residents' matters where they live (assumption): a compound
# branch's members together, and a building group's 'red building head'. The street and
# community committees work through their offices' staff.
MEDIATION_HOURS = {"compound_branch": 1.0, "building_group": 0.05}


class PartyBranch(mesa.Agent):
    def __init__(self, model: mesa.Model, level: str, place: int, members: int) -> None:
        super().__init__(model)
        if level not in LEVELS:
            raise ValueError(f"unknown party level '{level}'; allowed: {', '.join(LEVELS)}")
        self.level = level
        self.place = place      # street, community, compound or building index
        self.members = members  # resident party members registered there

    def mediation_hours_per_day(self) -> float:
        return MEDIATION_HOURS.get(self.level, 0.0)
