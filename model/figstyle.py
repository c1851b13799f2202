"""What every figure of the project shares: colour-blind-safe colours, font sizes that stay
readable when a report embeds a PNG at ~800 px wide, month ticks, and the axis text of a
measure taken from the one measure registry (model/kpis.py)."""

from __future__ import annotations

import calendar
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from . import kpis  # noqa: E402
from .calendar import MONTH_STARTS  # noqa: E402

# Okabe & Ito (2008): distinguishable with the common colour-vision deficiencies.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
             "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")  # a second cue besides colour
SEASON_COLOUR = "#56B4E9"
GREY = "#7F7F7F"
DPI = 110

# Figures are 9-11 inches wide at 110 dpi (~1000-1200 px) and shrink to ~800 px in reports:
# 12 pt text there is about 9 pt on the page.
RC = {
    "font.size": 12, "axes.titlesize": 12, "axes.labelsize": 12, "xtick.labelsize": 11,
    "ytick.labelsize": 11, "legend.fontsize": 11, "figure.titlesize": 14,
    "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
    "axes.spines.top": False, "axes.spines.right": False,
}


def style():
    """The context every figure is drawn in: ``with style(): fig = ...``."""
    return plt.rc_context(RC)


def save(fig, path) -> None:
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def sentence(text: str) -> str:
    """``text`` with its first letter upper-case (str.capitalize would lower 'F3' to 'f3')."""
    return text[:1].upper() + text[1:]


def wrap(text: str, width: int = 40) -> str:
    return "\n".join(textwrap.wrap(text, width))


def percent(key: str) -> bool:
    """Whether a measure is a share shown in per cent (its unit is a '%' one)."""
    return kpis.unit(key).startswith("%")


def factor(key: str) -> float:
    """What the stored value of a measure is multiplied by on an axis: shares are stored as
    0..1 and drawn in per cent, to match their unit."""
    return 100.0 if percent(key) else 1.0


def unit_label(key: str) -> str:
    """The y-axis text of a measure: its unit, or its label when it has no unit."""
    return kpis.unit(key) or kpis.label(key)


def bounded_axis(ax, key: str) -> None:
    """A y range that does not exaggerate differences: a share or score on its whole 0..1
    range, a count or rate from zero (the measure's bounds in model/kpis.py)."""
    low, high = kpis.bounds(key)
    if (low, high) == kpis.UNIT_INTERVAL:
        ax.set_ylim(low * factor(key), high * factor(key))
    elif low == 0:
        from_zero(ax)


def from_zero(ax) -> None:
    """The y axis from zero, with headroom so the highest point is not cut by the frame."""
    ax.set_ylim(0, max(ax.get_ylim()[1], 0) * 1.08 or 1)


def month_ticks(ax, days: int) -> None:
    """Month names at the first day of each month on a day axis (day 0 = 1 January)."""
    starts = [365 * year + int(m) for year in range(days // 365 + 1) for m in MONTH_STARTS]
    starts = [s for s in starts if s < days] or [0]
    ax.set_xticks(starts, [month_name(s) for s in starts])
    ax.set_xlim(0, max(days, 1))


def _month(day: int) -> int:
    """1 .. 12: the month of a day of the run (day 0 = 1 January, years of 365 days)."""
    return sum(1 for m in MONTH_STARTS if m <= day % 365)


def month_name(day: int) -> str:
    """'Jan' .. 'Dec' of a day of the run."""
    return calendar.month_abbr[_month(day)]


def date_name(day: int) -> str:
    """'15 Nov' for a day of the run."""
    month = _month(day)
    return f"{day % 365 - int(MONTH_STARTS[month - 1]) + 1} {calendar.month_abbr[month]}"
