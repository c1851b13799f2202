"""Memoised reductions over the resident arrays.

The daily log reads a handful of totals over all residents every day (who is present, per
street, the mean satisfaction of present adults, the volunteers), which at full scale means
several passes over 260,000 rows a day. The arrays behind them change far less often:
presence at the two season changes, volunteers monthly, satisfaction at each influence step.
The processes replace these arrays rather than write into them, so a total is recomputed only
when one of its arrays is a new object. To keep that promise checked, an array a memo has
read is made read-only: writing into it in place raises instead of leaving a stale total.
The one sanctioned in-place write, a resident's own row (``Resident.satisfaction = ...``),
unlocks the array and calls ``forget``.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import is_
from typing import Any


class ArrayMemo:
    """``memo(model)`` is ``fn(model)``, recomputed only when one of the model attributes
    ``names`` has been replaced since the last call (or after ``forget``)."""

    def __init__(self, fn: Callable[[Any], Any], *names: str) -> None:
        self.fn = fn
        self.names = names
        self._inputs: list | None = None  # the arrays last seen (held, so ids stay unique)
        self._value: Any = None

    def __call__(self, model: Any) -> Any:
        inputs = [getattr(model, name) for name in self.names]
        last = self._inputs
        if last is None or not all(map(is_, inputs, last)):
            self._value = self.fn(model)
            self._inputs = inputs
            for array in inputs:  # an in-place write would now go unnoticed: forbid it
                array.flags.writeable = False
        return self._value

    def forget(self) -> None:
        self._inputs = None
