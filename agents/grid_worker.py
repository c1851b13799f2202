"""Grid worker (网格员) and community staff: 'two committees' members (F9), full-time workers
(F5), public-welfare posts (F7), and special grid workers drawn from couriers and riders (F15)."""

from __future__ import annotations

import mesa

ROLES = ("committee", "full_time", "welfare_post", "special")


class GridWorker(mesa.Agent):
    def __init__(self, model: mesa.Model, community: int, role: str, skill: float,
                 courier: int = -1) -> None:
        super().__init__(model)
        if role not in ROLES:
            raise ValueError(f"unknown grid-worker role '{role}'; allowed: {', '.join(ROLES)}")
        self.community = community
        self.role = role
        self.skill = skill
        self.courier = courier

    def case_hours_per_day(self) -> float:
        """Hours a day (averaged over the week) for residents' cases: what administrative
        tasks leave, times the share of service time spent on cases. Special grid workers
        spot problems but do not handle cases."""
        if self.role == "special":
            return 0.0
        p = self.model.p
        admin = p.admin_share_with_list if p.task_admission_list else p.admin_share
        return p.work_hours_per_day * 5 / 7 * (1.0 - admin) * p.case_time_share * self.skill
