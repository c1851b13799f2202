"""Property-management firm (物业公司): serves compounds, handles property complaints, and is
pushed into enforcement it has no power for (P5).

Each month a firm collects its fees, whose collection rate follows its owners' satisfaction
(owners who feel badly served stop paying), and spends them on service: its quality drifts
toward what the fees collected pay for. Its owners evaluate it each quarter; a published poor
evaluation ('two evaluations', policy 2) or a red-property branch (policy 3b) makes it
improve, and an owners' committee can dismiss a firm rated poorly evaluation after evaluation:
a new firm takes over its compounds (property_service.py keeps the ratings)."""

from __future__ import annotations

import mesa
import numpy as np

from model import property_service


class PropertyFirm(mesa.Agent):
    def __init__(self, model: mesa.Model, idx: int, unit: int, compounds: list[int],
                 owners_committee: bool) -> None:
        super().__init__(model)
        self.idx = idx
        self.unit = unit
        self.compounds = compounds
        self.owners_committee = owners_committee
        # the service its contract pays for when owners pay as usual: its quality at the start
        self.contract_quality = self.quality
        self.collection_rate = model.p.fee_collection_base
        self.rating: float | None = None   # owners' last quarterly evaluation
        self.poor_evaluations = 0          # consecutive evaluations below the dismissal bar
        self.replaced = 0                  # times its owners' committee replaced the firm
        self.since_day = model.day         # the current firm serves since this day

    @property
    def quality(self) -> float:
        return float(self.model.district.firm_quality[self.idx])

    def step(self) -> None:
        """Monthly: collect fees, spend them on service, answer the red-property branch and
        (in evaluation months) the owners' evaluation."""
        p = self.model.p
        self.collect_fees()
        self.spend_on_service()
        if p.red_property:
            self.improve(p.red_property_monthly)
        if property_service.is_evaluation_month(self.model):
            self.answer_evaluation()

    def collect_fees(self) -> None:
        """Share of fees collected this month: the usual rate, moved by how much more or less
        satisfied the firm's owners are than the reference."""
        p = self.model.p
        owners = property_service.owners_satisfaction(self.model, self.compounds)
        rate = p.fee_collection_base + p.fee_collection_slope * (owners - p.fee_reference_satisfaction)
        self.collection_rate = float(np.clip(rate, 0.0, 1.0))

    def spend_on_service(self) -> None:
        """Quality moves part of the way toward what the fees collected pay for."""
        p = self.model.p
        funded = self.contract_quality * self.collection_rate / p.fee_collection_base
        target = min(funded, p.firm_quality_cap)
        self._set_quality(self.quality + p.firm_service_response * (target - self.quality))

    def answer_evaluation(self) -> None:
        """The owners' quarterly rating: a published poor rating presses the firm in proportion
        to its shortfall (policy 2); an owners' committee dismisses a firm rated below the bar
        ``dismissal_evaluations`` times in a row."""
        p = self.model.p
        self.rating = property_service.rating_of(self.model, self)
        if self.rating is None:
            return
        if p.two_evaluations and self.rating < p.good_firm_rating:
            self.improve(p.firm_improvement_per_shortfall * (p.good_firm_rating - self.rating))
        self.poor_evaluations = self.poor_evaluations + 1 if self.rating < p.dismissal_rating else 0
        if self.owners_committee and self.poor_evaluations >= p.dismissal_evaluations:
            self.replace_firm()

    def replace_firm(self) -> None:
        """A new firm takes over the compounds: the committee hires one at least as good as
        the district's median firm, and its record starts afresh."""
        market = float(np.median(self.model.district.firm_quality))
        self._set_quality(max(self.quality, market))
        self.contract_quality = self.quality
        self.poor_evaluations = 0
        self.rating = None
        self.since_day = self.model.day
        self.replaced += 1

    def improve(self, amount: float) -> None:
        """Raise service quality and the service the firm commits to (after a poor
        evaluation, or through a party branch)."""
        before = self.quality
        self._set_quality(max(before, min(self.model.p.firm_quality_cap, before + amount)))
        self.contract_quality += self.quality - before

    def _set_quality(self, value: float) -> None:
        self.model.district.firm_quality[self.idx] = value
