"""The model as the dashboard runs it (``WatchedModel``): a GovernanceModel whose days cannot
overlap, and which keeps the community staff serving in each community on each recorded day
(the basis of the map's load, as of the KPI's). No Solara here: the tests drive it directly."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from model.model import GovernanceModel


class WatchedModel(GovernanceModel):
    """``step`` is all of Mesa's step (its event list and time, then the model's day), under
    one lock, and does nothing once the year is finished; ``days_at_once()`` holds that lock
    over many steps, so "Run the year" and Mesa's play thread never interleave. Mesa's
    SolaraViz does not expose its play state, so play is not stopped: its next step waits,
    then finds the year finished. ``serving_days`` sums, per community, the community staff
    serving there on each recorded day (winter posts and seasonal workers included)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.serving_days = np.zeros(self.district.n_communities)
        self._days = threading.RLock()
        # Mesa's Model.__init__ makes ``self.step`` its wrapper (events and time, then the
        # class's step): the lock must hold over the whole of it, not only our part
        mesa_step = self.step

        def one_day() -> None:
            with self._days:
                if self.running:
                    mesa_step()

        self.step = one_day

    @contextmanager
    def days_at_once(self) -> Iterator[None]:
        """No other thread steps the model inside this block."""
        with self._days:
            yield

    def step(self) -> None:
        super().step()
        # the day just run: the grid workers' posts of that day, as the daily log's by street
        g = self.grid
        self.serving_days += np.bincount(g.community[g.case_hours > 0],
                                         minlength=self.district.n_communities)
