"""The model's Mesa DataCollector: the daily series, and the run's summary measures where
``mesa.batch_run`` reads them."""

from __future__ import annotations

from typing import Any

import mesa
import pandas as pd

SUMMARY_PREFIX = "summary."


class RunCollector(mesa.DataCollector):
    """Collects the daily model reporters, as Mesa's DataCollector does. When the run is over,
    ``record_summary`` adds every number of the run's summary (the top-level numbers of
    summary.json) as ``model_vars["summary.<key>"]``: ``None`` on every day but the last, where
    ``mesa.batch_run`` reads its rows (``data_collection_period=-1``). They are prefixed
    because two daily reporters share their names with summary measures (``mean_satisfaction``
    and ``utilisation``: of that day, or of the run).

    ``get_model_vars_dataframe()`` stays the daily series (timeseries.parquet): the summary
    is ``model.summary``.
    """

    def record_summary(self, summary: dict[str, Any]) -> None:
        days = len(next(iter(self.model_vars.values())))
        for key, value in summary.items():
            if value is None or isinstance(value, int | float):
                self.model_vars[SUMMARY_PREFIX + key] = [None] * (days - 1) + [value]

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """The daily series: one column per model reporter, one row per day."""
        return pd.DataFrame({name: self.model_vars[name] for name in self.model_reporters})
