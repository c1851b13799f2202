"""Report on a validation (``python run.py validate``): the patterns of the study that the
calibration did not use, PASS or FAIL over replicate seeds, each seed's statistic against the
pattern's threshold, and how far each result lies from it.

model.figstyle is imported where the figure is drawn: it loads matplotlib's pyplot, which a
report of any other kind does not need."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from model import validation

from .bottom import caveats
from .common import FEW_REPLICATES, csv_or_none, written
from .html import Page, Raw, ci_cell, ci_text, details, embedded, missing, num, section, table

FIGURE = "validation_runs.png"


class Check(NamedTuple):
    """A row of validation.csv with what the reading needs: the seeds in which the pattern
    holds and those it needs to pass, and its threshold (None when the model's rule for the
    pattern is no longer the one the file records)."""

    row: pd.Series
    holding: int
    needed: int
    threshold: float | None

    @property
    def passed(self) -> bool:
        return self.row["result"] == "PASS"

    @property
    def gap(self) -> float:
        """How far the mean over seeds lies above (+) or below (−) the threshold."""
        return float(self.row["mean"]) - float(self.threshold)


def build(d: Path) -> Page:
    result = pd.read_csv(d / "validation.csv")
    runs = pd.read_csv(d / "validation_runs.csv")
    checks = [check(r) for _, r in result.iterrows()]
    passed = sum(c.passed for c in checks)
    fit = csv_or_none(d / "targets.csv")  # written since the targets were added to validate
    sections = [_patterns_section(checks), _runs_section(checks, runs)]
    reading = _reading(checks)
    if fit is not None:
        sections.append(_targets_section(fit))
        reading.append(_targets_point(fit))
    return Page(f"Validation: {passed} of {len(checks)} patterns pass",
                reading, _settings(d, result, runs), sections, _bottom_line(checks))


def check(row: pd.Series) -> Check:
    seeds = int(row["seeds"])
    pattern = validation.BY_NAME.get(row["pattern"])
    same_rule = pattern is not None and pattern.tolerance == row["tolerance"]
    return Check(row, round(float(row["share_holding"]) * seeds), needed(seeds),
                 pattern.threshold if same_rule else None)


def needed(seeds: int) -> int:
    """The fewest of ``seeds`` seeds in which a pattern must hold to pass, by the comparison
    validation.pattern_table makes."""
    return next(k for k in range(seeds + 1) if k / seeds >= validation.SHARE_OF_SEEDS)


def _title(path: Path) -> str | None:
    """The first heading of validation.md: the command's own description of the run (scenario,
    seeds, scale, posterior), which validation.csv does not record."""
    if not path.is_file():
        return None
    heading = next((line for line in path.read_text(encoding="utf-8").splitlines()
                    if line.startswith("# ")), None)
    return heading[2:].strip() if heading else None


def _seeds(checks: list[Check]) -> int:
    return max(int(c.row["seeds"]) for c in checks)


# --- sections -------------------------------------------------------------------------------

def _settings(d: Path, result: pd.DataFrame, runs: pd.DataFrame) -> list[tuple[str, Any]]:
    return [("validation", _title(d / "validation.md")), ("patterns", num(len(result))),
            ("seeds", num(int(result["seeds"].max()))),
            ("replicate seeds", ", ".join(str(s) for s in dict.fromkeys(runs["seed"]))),
            ("a pattern passes when it holds in", f"at least {validation.SHARE_OF_SEEDS:.0%} "
                                                   "of the seeds"),
            ("written", written(d / "validation.csv"))]


def _patterns_section(checks: list[Check]) -> Raw:
    rows = []
    for c in checks:
        r = c.row
        rows.append([r["pattern"], r["source"], r["statement"], r["tolerance"],
                     ci_cell("", r["mean"], r["ci_low"], r["ci_high"]),
                     f"{c.holding} of {int(r['seeds'])} ({c.needed} needed)",
                     Raw(f"<b>{r['result']}</b>"), _note(r)])
    return section("Patterns", table(
        ["pattern", "source", "what the study says", "rule (per seed)", "mean [95 % interval]",
         "seeds holding", "result", "note"], rows,
        "Mean of each pattern's statistic over the seeds, with its 95 % interval", numeric_from=4))


def _targets_section(fit: pd.DataFrame) -> Raw:
    rows = [[r.target, r.source, num(r.study), f"{num(r.mean)} [{num(r.low)}, {num(r.high)}]",
             f"[{num(r.accepted_low)}, {num(r.accepted_high)}]", Raw(f"<b>{r.result}</b>")]
            for r in fit.itertuples()]
    return section("The calibration's targets on these seeds", table(
        ["target", "source", "study", f"mean [central {validation.PREDICTIVE:.0%} of the runs]",
         "accepted band", "result"], rows,
        "F3 and F4 on seeds the calibration did not use (with a posterior: posterior-predictive)",
        numeric_from=2))


def _targets_point(fit: pd.DataFrame) -> str:
    """One sentence: how many of the calibration's targets the runs meet, and which not."""
    failed = fit[fit["result"] != "PASS"]
    text = (f"The calibration's targets on these seeds: {len(fit) - len(failed)} of {len(fit)} "
            "means lie in the bands accepted on held-out seeds")
    if len(failed):
        text += " — not " + "; nor ".join(
            f"{r.target} ({r.source}: {num(r.mean)}, accepted [{num(r.accepted_low)}, "
            f"{num(r.accepted_high)}])" for r in failed.itertuples())
    return text + "."


def _note(row: pd.Series) -> str:
    return "" if missing(row.get("note")) else str(row["note"])


def _runs_section(checks: list[Check], runs: pd.DataFrame) -> Raw:
    png = embedded(_strip_figure(checks, runs), FIGURE,
                   "each seed's statistic (drawn by the report from validation_runs.csv): "
                   "green dots hold, vermillion crosses do not; dashed: the threshold, the "
                   "shaded side fails the rule; below, the mean with its 95 % interval")
    names = [c.row["pattern"] for c in checks]
    rows = []
    for seed, mine in runs.groupby("seed", sort=False):
        cell = {r.pattern: f"{num(r.statistic)} {'holds' if r.holds else 'fails'}"
                for r in mine.itertuples()}
        rows.append([str(seed), *(cell.get(n, "") for n in names)])
    return section("Each seed", png, details(f"The statistic in each of the {len(rows)} seeds",
                                             table(["seed", *names], rows)))


def _strip_figure(checks: list[Check], runs: pd.DataFrame) -> bytes:
    """One panel per pattern: the seeds' statistics as dots against the threshold."""
    from model.figstyle import plt, save, style

    with style():
        fig, axes = plt.subplots(len(checks), 1, figsize=(9, 1.7 * len(checks) + 0.8),
                                 squeeze=False, layout="constrained")
        for ax, c in zip(axes[:, 0], checks, strict=True):
            _strip(ax, c, runs[runs["pattern"] == c.row["pattern"]])
        # one legend for all panels, each entry once (a panel may lack some)
        shown = {label: h for ax in axes[:, 0] for h, label in zip(*ax.get_legend_handles_labels(),
                                                                    strict=True)}
        axes[0, 0].legend(shown.values(), shown.keys(), loc="upper left",
                          bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=10)
        fig.suptitle("Each pattern's statistic per seed against its threshold")
        buffer = io.BytesIO()
        save(fig, buffer)
    return buffer.getvalue()


def _strip(ax: Any, c: Check, mine: pd.DataFrame) -> None:
    from model.figstyle import GREY, OKABE_ITO, wrap

    holds, fails = OKABE_ITO[2], OKABE_ITO[3]   # bluish green and vermillion
    x = mine["statistic"].to_numpy(float)
    ok = mine["holds"].astype(bool).to_numpy()
    y = 0.3 + np.linspace(-0.12, 0.12, len(x)) if len(x) > 1 else np.full(len(x), 0.3)
    ax.scatter(x[ok], y[ok], color=holds, marker="o", s=40, label="seed: holds", zorder=3)
    ax.scatter(x[~ok], y[~ok], color=fails, marker="X", s=50, label="seed: fails", zorder=3)
    r = c.row
    if not missing(r["ci_low"]):
        ax.errorbar([r["mean"]], [-0.2], xerr=[[r["mean"] - r["ci_low"]],
                                               [r["ci_high"] - r["mean"]]],
                    color="black", marker="D", ms=5, capsize=4, label="mean, 95 % interval")
    if c.threshold is not None:
        ax.axvline(c.threshold, color=GREY, ls="--", label="threshold")
        low, high = ax.get_xlim()
        low, high = min(low, c.threshold), max(high, c.threshold)
        ax.axvspan(low - (high - low), c.threshold, color=GREY, alpha=0.12, lw=0,
                   label="fails the rule")
        ax.set_xlim(low - 0.05 * (high - low), high + 0.05 * (high - low))
    ax.set_ylim(-0.55, 0.65)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    note = f"; {_note(r)}" if _note(r) else ""
    ax.set_title(f"{r['pattern']} ({r['source']}): {r['result']}, holds in {c.holding} of "
                 f"{int(r['seeds'])} seeds{note}", loc="left", fontsize=11)
    ax.set_xlabel(wrap(str(r["tolerance"]), 90), fontsize=10)


# --- the reading ----------------------------------------------------------------------------

def _reading(checks: list[Check]) -> list[str]:
    """A lead sentence (how many pass, by what rule), then one point per pattern, the failed
    ones first."""
    seeds = _seeds(checks)
    passed = sum(c.passed for c in checks)
    lead = (f"{passed} of {len(checks)} patterns of the study that the calibration did not use "
            f"pass: a pattern passes when its rule holds in at least "
            f"{validation.SHARE_OF_SEEDS:.0%} of the {seeds} seeds ({needed(seeds)} of "
            f"{seeds} here).")
    if seeds < FEW_REPLICATES:
        lead += (f" With only {seeds} seeds the 95 % intervals are wide (use at least "
                 f"{FEW_REPLICATES}).")
    ordered = [c for c in checks if not c.passed] + [c for c in checks if c.passed]
    return [lead, *(_point(c) for c in ordered)]


def _point(c: Check) -> str:
    r = c.row
    verdict = "passes" if c.passed else "fails"
    text = (f"{r['pattern']} ({r['source']}) {verdict}: it holds in {c.holding} of "
            f"{int(r['seeds'])} seeds ({c.needed} needed)")
    if missing(r["mean"]):
        text += "; its statistic is undefined in every seed"
    elif c.threshold is None:
        text += (f"; its statistic averages {ci_text('', r['mean'], r['ci_low'], r['ci_high'])} "
                 f"(rule: {r['tolerance']})")
    else:
        text += (f"; its statistic averages {num(r['mean'])}, {num(abs(c.gap))} "
                 f"{'above' if c.gap > 0 else 'below' if c.gap < 0 else 'at'} the threshold "
                 f"of {num(c.threshold)}" + _interval_side(c))
    note = _note(r)
    return text + (f". Note: it {note}, so the result says little." if note else ".")


def _interval_side(c: Check) -> str:
    """Where the 95 % interval of the mean lies against the threshold."""
    low, high = c.row["ci_low"], c.row["ci_high"]
    if missing(low) or missing(high):
        return " (no interval)"
    if low > c.threshold:
        return f", its whole 95 % interval [{num(low)}, {num(high)}] above it"
    if high < c.threshold:
        return f", its whole 95 % interval [{num(low)}, {num(high)}] below it"
    return f"; its 95 % interval [{num(low)}, {num(high)}] spans the threshold"


def _bottom_line(checks: list[Check]) -> list[str]:
    """How many patterns the model reproduces, which it does not; the caveats."""
    failed = [c.row for c in checks if not c.passed]
    lead = f"The model reproduces {len(checks) - len(failed)} of {len(checks)} patterns"
    lead += ("." if not failed else "; it does not reproduce that " + "; nor that ".join(
        f"{r['statement']} ({r['source']})" for r in failed) + ".")
    notes = tuple(f"{r['pattern']} {_note(r)}" for r in (c.row for c in checks) if _note(r))
    last = caveats(_seeds(checks), None, None, notes)
    return [lead, last] if last else [lead]
