"""Property-management firm (物业公司): serves compounds, handles property complaints, and is
pushed into enforcement it has no power for (P5)."""

from __future__ import annotations

import mesa


class PropertyFirm(mesa.Agent):
    QUALITY_CAP = 0.9  # assumption: no firm becomes perfect

    def __init__(self, model: mesa.Model, idx: int, unit: int, compounds: list[int]) -> None:
        super().__init__(model)
        self.idx = idx
        self.unit = unit
        self.compounds = compounds

    @property
    def quality(self) -> float:
        return float(self.model.district.firm_quality[self.idx])

    def improve(self, amount: float) -> None:
        """Raise service quality (after a poor evaluation, or through a party branch)."""
        q = self.model.district.firm_quality
        q[self.idx] = max(q[self.idx], min(self.QUALITY_CAP, q[self.idx] + amount))
