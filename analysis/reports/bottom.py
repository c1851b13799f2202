"""The bottom line at the top of every report: one to three plain sentences a policymaker can
act on, with their uncertainty and the caveats that matter, before the detailed reading.

Where sets share their replicate seeds (sweep, compare, staffing) a comparison rests on the
paired differences of experiments.aggregate.paired_differences; this module words them and
shows them as a table."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import pandas as pd

from experiments.aggregate import FEW_REPLICATES
from model import kpis

from .common import short
from .html import Raw, measure, missing, num, section, table

REPRESENTATIVE_SCALE = kpis.REPRESENTATIVE_SCALE
FULL_YEAR = 365
POINTS = " percentage points"


class Contrast(NamedTuple):
    """One set against the reference: who ('raising x from 1 to 2', 'staffing_18 instead of
    baseline') and its paired differences (rows of paired_differences, indexed by measure)."""

    subject: str
    rows: pd.DataFrame
    group: str = ""     # what is varied (a sweep's parameter), when a report has several
    value: Any = None   # its value in the set compared


def contrasts(paired: pd.DataFrame, by: str, subject: Any) -> list[Contrast]:
    """A paired_differences frame split by value of ``by``; ``subject(value)`` names each."""
    return [Contrast(subject(v), g.set_index("measure"), by, v)
            for v, g in paired.groupby(by, sort=False)]


# --- numbers -------------------------------------------------------------------------------------

def amount(m: str, x: float, signed: bool = False) -> str:
    """A difference of measure ``m`` in its display precision; shares in percentage points
    (the unit is added by :func:`unit_of`)."""
    spec = kpis.fmt(m) or "{:.3g}"
    pct = kpis.PERCENT_FORMAT.fullmatch(spec)
    sign = "+" if signed else ""
    text = (f"{{:{sign}.{pct.group(1)}f}}".format(x * 100) if pct
            else spec.replace("{:", "{:" + sign, 1).format(x))
    return re.sub(r"^[-+](?=0(\.0*)?$)", "", text)   # no signed zero


def unit_of(m: str) -> str:
    """What follows an amount of ``m`` in running text ('' or ' percentage points')."""
    return POINTS if kpis.PERCENT_FORMAT.fullmatch(kpis.fmt(m) or "") else ""


def amount_in_units(m: str, x: float) -> str:
    """An amount of ``m`` with its unit in words: '0.42 days', '3.1 percentage points',
    '0.012 on the 0–1 scale'."""
    unit = kpis.unit(m)
    words = unit_of(m) or (" on the " + unit if unit == kpis.SCALE else f" {unit}" if unit else "")
    return amount(m, x) + words


def clear(r: pd.Series) -> bool:
    """Whether the paired interval excludes 0 (a Python bool). An interval of zero width from
    fewer than FEW_REPLICATES pairs (two seeds that happened to differ equally) is no
    evidence of a clear difference."""
    if missing(r["ci_low"]):
        return False
    degenerate = r["ci_high"] <= r["ci_low"] and r["pairs"] < FEW_REPLICATES
    return bool(not degenerate and (r["ci_low"] > 0 or r["ci_high"] < 0))


def pairs_word(r: pd.Series) -> str:
    """What a paired row's pairs are: seeds, or with plausible worlds (world, seed) pairs."""
    return "(world, seed) pairs" if "worlds" in r.index else "seeds"


def clause(m: str, r: pd.Series) -> tuple[str, str]:
    """The paired difference of one measure in words, and which group of :data:`GROUPS` it
    belongs to (a sentence lists each group once)."""
    name, n, d, u = short(m), int(r["pairs"]), r["difference"], unit_of(m)
    if n == 0:
        return "none", name
    if n == 1:
        return "single", f"{name} by {amount(m, d, True)}{u}"
    if not clear(r):
        return "unclear", (f"{name} ({amount(m, d, True)}{u}, 95 % CI {amount(m, r['ci_low'], True)}"
                           f" to {amount(m, r['ci_high'], True)}{u}, higher in "
                           f"{int(r['higher'])} of {n} {pairs_word(r)})")
    up = d > 0
    lo, hi = (r["ci_low"], r["ci_high"]) if up else (-r["ci_high"], -r["ci_low"])
    sign = kpis.better(m)
    verdict = "" if not sign else ("better, " if (sign > 0) == up else "worse, ")
    return "clear", (f"{'raises' if up else 'cuts'} {name} by {amount(m, abs(d))}{u} ({verdict}95 % "
                     f"CI {amount(m, lo)} to {amount(m, hi)}{u}, {'higher' if up else 'lower'} in "
                     f"{int(r['higher'] if up else r['lower'])} of {n} {pairs_word(r)})")


# How each group of clauses is worded: clear changes one by one, then the others together
# ({one}: a seed, or with plausible worlds a (world, seed) pair).
GROUPS = {"clear": "{}", "unclear": "makes no clear difference to {}",
          "single": "changes {} on the one {one} with a value in both (no interval)",
          "none": "cannot be compared on {} (no {one} with a value in both)"}


def effect_sentence(c: Contrast, measures: list[str], seeds: int) -> str:
    """'With 5 replicate seeds (the same for each), <subject> cuts …; raises … . It makes no
    clear difference to …' — one part per group of :data:`GROUPS` that has measures. With
    plausible worlds, the seeds are in each of the worlds and the counts are of (world,
    seed) pairs."""
    found: dict[str, list[str]] = {g: [] for g in GROUPS}
    for m in (m for m in measures if m in c.rows.index):
        group, text = clause(m, c.rows.loc[m])
        found[group].append(text)
    worlds = int(c.rows["worlds"].max()) if "worlds" in c.rows else None
    one = "seed" if worlds is None else "(world, seed) pair"
    parts = [GROUPS[g].format("; ".join(found[g]), one=one) for g in GROUPS if found[g]]
    if not parts:
        return f"{c.subject[0].upper()}{c.subject[1:]}: no key measure to compare."
    where = ("" if worlds is None else
             f" in each of {worlds} plausible world{'s' if worlds != 1 else ''}")
    lead = (f"With {seeds} replicate seed{'s' if seeds != 1 else ''}{where} (the same for each), "
            f"{c.subject}")
    return f"{lead} {parts[0]}." + "".join(f" It {p}." for p in parts[1:])


def worlds_sentence(c: Contrast, measures: list[str], source: str) -> str:
    """'Across 3 plausible worlds drawn from FILE, <subject> is better on a in 2 of 3 (67 %);
    …': per measure with a better direction, the share of worlds whose mean paired
    difference is better, and a warning below FEW_REPLICATES worlds ('' without worlds)."""
    if "world_probability" not in c.rows:
        return ""
    rows = [(m, c.rows.loc[m]) for m in measures if m in c.rows.index and kpis.better(m)]
    parts = [f"{short(m)} in {int(r['worlds_better'])} of {int(r['worlds'])} "
             f"({r['world_probability']:.0%})" for m, r in rows if int(r["worlds"])]
    if not parts:
        return ""
    worlds = max(int(r["worlds"]) for _, r in rows)
    return (f"Across {worlds} plausible world{'s' if worlds != 1 else ''} drawn from {source}, "
            f"{c.subject} is better on " + "; ".join(parts) + ": the probability, over the "
            "posterior, that it beats the reference." + (
                f" With fewer than {FEW_REPLICATES} worlds these shares and the intervals over "
                "worlds are coarse." if worlds < FEW_REPLICATES else ""))


def robust_sentences(robust: dict[str, Any]) -> list[str]:
    """The robust choice in words, from the summary of experiments.regret.robust_summary:
    the policy best on average against the one with the smallest regret that ``robust["lead"]``
    names (agreeing or not), then the other kind of regret, and a warning when few worlds
    rank the policies."""
    from experiments.regret import ROBUST
    from experiments.worlds import worlds_counted

    m, rows, k = robust["measure"], robust["policies"], robust["worlds"]
    if not rows:
        return [f"No plausible world has a value of {short(m)} for every rule, so the rules "
                "cannot be ranked by regret."]
    lead, other = (robust["lead"], next(r for r in ROBUST if r != robust["lead"]))
    avg, safe = robust["best_on_average"], robust[f"min_{lead}_regret"]

    def regret(p: str, kind: str) -> str:
        return amount_in_units(m, rows[p][f"{kind}_regret"])

    head = (f"Across {worlds_counted(k, robust.get('particles'))}, {avg} is best on average "
            f"({short(m)} {measure(m, rows[avg]['mean'])})")
    first = (f"{head} and has the smallest {ROBUST[lead]}, {regret(avg, lead)}" if safe == avg
             else f"{head}, but {safe} has the smallest {ROBUST[lead]}: {regret(safe, lead)} "
                  f"against {regret(avg, lead)} for {avg}")
    first += (f" (regret: how much worse a rule's {short(m)} is than the best rule's in the same "
              "world).")
    third = robust[f"min_{other}_regret"]
    sentences = [first, f"The smallest {ROBUST[other]} is {third}'s, {regret(third, other)}."]
    if k < robust["worlds_drawn"]:
        sentences.append(f"Only {k} of the {robust['worlds_drawn']} worlds have a value for "
                         "every rule; the others are left out of the regret.")
    if k < FEW_REPLICATES:
        sentences.append(f"With fewer than {FEW_REPLICATES} worlds the worst case is over few "
                         "worlds: draw more before relying on it.")
    return sentences


# --- caveats -------------------------------------------------------------------------------------

def caveats(replicates: int | None, scale: float | None, days: float | None,
            extra: tuple[str, ...] = ()) -> str:
    """The warnings that change how far to trust the bottom line, as one sentence ('' if none):
    ``extra`` ones of the report's own first, then too few replicates (None: not applicable),
    a small scale and a short run."""
    found = list(extra)
    if replicates == 1:
        found.append("it rests on a single seed, so there are no intervals and a difference may "
                     "be chance")
    elif replicates is not None and replicates < FEW_REPLICATES:
        found.append(f"only {replicates} replicate seeds, so the intervals are wide (use at "
                     f"least {FEW_REPLICATES})")
    if scale is not None and scale < REPRESENTATIVE_SCALE:
        found.append(f"at scale {num(scale)} each street has only one or two communities, so "
                     "per-street and per-community results are not representative (district-"
                     f"wide rates are; use scale ≥ {REPRESENTATIVE_SCALE})")
    if days is not None and days < FULL_YEAR:
        found.append(f"{num(days)} days from 1 January (inside the heating season), not a year, "
                     "so yearly and monthly rates are extrapolated")
    if not found:
        return ""
    return ("Caveat: " if len(found) == 1 else "Caveats: ") + "; ".join(found) + "."


def number(value: Any) -> float | None:
    """A scale or day count from a file (None when absent or not one number)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if missing(x) else x


# How the readings, which compare intervals side by side, refer to the paired table.
PRIMARY = ("common random numbers: the paired differences against {}, in a table below, are the "
           "primary comparison; comparing 95 % intervals side by side, as here, is more cautious")


# --- table ---------------------------------------------------------------------------------------

def paired_section(found: list[Contrast], measures: list[str], reference: str) -> Raw | None:
    """'Paired differences against <reference>': per contrast and measure, the difference
    [95 % CI], the pairs and the seeds in which the set is better."""
    if not found:
        return None
    worlds = all("world_probability" in c.rows for c in found)
    rows = []
    for c in found:
        for m in (m for m in measures if m in c.rows.index):
            r = c.rows.loc[m]
            rows.append([c.subject, kpis.label(m), POINTS.strip() if unit_of(m) else kpis.unit(m),
                         _difference_cell(m, r), int(r["pairs"]), _better_cell(m, r),
                         *([_worlds_cell(m, r)] if worlds else [])])
    return section(f"Paired differences against {reference}", table(
        ["comparison", "measure", "unit", "difference [95 % CI]", "pairs",
         "(world, seed) pairs better" if worlds else "seeds better",
         *(["worlds better"] if worlds else [])], rows,
        "Mean over the replicate seeds run in both of (set − reference): each seed's shared "
        "randomness cancels. An interval that includes 0 is no clear difference; no interval "
        "with fewer than two pairs." + (" With plausible worlds, pairs match on (world, seed), "
        "the interval is over the worlds' mean differences, and 'worlds better' counts the "
        "worlds whose mean difference is better." if worlds else ""), numeric_from=3))


def _worlds_cell(m: str, r: pd.Series) -> str:
    if not kpis.better(m) or not int(r["worlds"]):
        return "n/a"
    return f"{int(r['worlds_better'])} of {int(r['worlds'])} ({r['world_probability']:.0%})"


def _difference_cell(m: str, r: pd.Series) -> str:
    if missing(r["difference"]):
        return "n/a"
    text = amount(m, r["difference"], True)
    if missing(r["ci_low"]):
        return text
    return f"{text} [{amount(m, r['ci_low'], True)}, {amount(m, r['ci_high'], True)}]"


def _better_cell(m: str, r: pd.Series) -> str:
    if not kpis.better(m):
        return f"n/a: neither side is better (higher in {int(r['higher'])} of {int(r['pairs'])})"
    if not int(r["pairs"]):
        return "n/a"
    side = "higher" if kpis.better(m) > 0 else "lower"
    return f"{int(r['better'])} of {int(r['pairs'])} ({r['better_share']:.0%}; {side} is better)"
