"""Report on an ABC calibration (``python run.py calibrate --method abc``): what the observed
statistics (F3, F4, property leading) say about each calibrated parameter, measured against
its own prior; how the generations converged; the posterior figures.

model.abc_calibration is imported where it is used: it loads pyabc (about 2 s), which a
report of any other kind would otherwise wait for."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from model.params import FIELDS, PRIORS

from .bottom import caveats, number
from .common import param_value, read_json, written
from .html import Page, Raw, figures, frame_table, num, para, section, table

FIGURES = {
    "posterior_marginals.png": "each parameter's posterior (weighted histogram) over the density "
                               "of its truncated prior; dashed: the posterior mean",
    "posterior_pairs.png": "the last generation's particles, two parameters at a time (marker "
                           "area: weight); a slanted cloud is a combination the data constrain "
                           "more than either parameter alone",
}

# The statistics of model/abc_calibration.py in words (short, long), with the study's code
# they stand for.
STATISTICS = {
    "tickets_per_10k": ("tickets per 10,000", "hotline tickets per 10,000 residents per year",
                        "F3"),
    "property_share": ("property share", "property management's share of hotline tickets",
                       "F4"),
    "property_shortfall": ("property leading", "how far property's share falls short of the "
                           "largest other category's (0: property leads)", "F4"),
}

# Width of a parameter's posterior credible interval over its prior's interval at the same
# level (the prior truncated to the allowed range, as the calibration used it):
IDENTIFIED = 0.5   # below: narrowed to less than half, the data identify the parameter
NEAR_PRIOR = 0.8   # at or above: the data leave most of the prior's uncertainty
VERDICTS = ("identified", "partly narrowed", "close to the prior")
# epsilon changes by less than this share between the last two generations: levelled off
FLAT = 0.05
# Effective particles wanted beyond each end of a credible interval: fewer, and the end is
# set by one or two heavy particles (with 90 % intervals: an effective sample size of 100).
TAIL_PARTICLES = 5

PRIOR_HELP = ("Prior: the schema's (model/params.py), truncated to the allowed range — "
              "uniform(lowest, highest), beta(a, b), lognormal(μ, σ) of the natural log, "
              "normal(mean, sd). Width ratio: the posterior interval's width over the truncated "
              "prior's interval at the same level; below 0.5 the data identify the parameter, "
              "0.8 or more leaves it close to its prior.")


class Parameter(NamedTuple):
    """One calibrated parameter: its record in abc_summary.json, the level of its credible
    interval in per cent, its prior's interval at that level (None when the schema's prior is
    no longer the one the run used) and the width ratio."""

    name: str
    record: dict[str, Any]
    level: int
    prior_interval: tuple[float, float] | None
    ratio: float | None

    @property
    def interval(self) -> tuple[float, float]:
        return tuple(self.record[interval_key(self.record)])

    @property
    def verdict(self) -> str | None:
        """One of VERDICTS by the width ratio (None without one)."""
        if self.ratio is None:
            return None
        if self.ratio < IDENTIFIED:
            return "identified"
        return "close to the prior" if self.ratio >= NEAR_PRIOR else "partly narrowed"


def build(d: Path) -> Page:
    summary = read_json(d / "abc_summary.json")
    conv = pd.read_csv(d / "convergence.csv").sort_values("generation")
    params = [parameter(name, summary["parameters"][name]) for name in summary["params"]]
    sections = [_observed_section(summary.get("observed", {})), _parameters_section(params),
                _convergence_section(conv), _predictive_section(summary),
                section("Figures", *figures(d, FIGURES)
                        or [para("No figures in this directory.", "note")])]
    title = (f"ABC calibration: {len(params)} parameter{'s' if len(params) != 1 else ''}, "
             f"{num(summary['particles'])} particles, {num(summary['generations'])} generations")
    return Page(title, _reading(summary, params, conv), _settings(d, summary),
                [s for s in sections if s], _bottom_line(summary, params, conv))


# --- the numbers ----------------------------------------------------------------------------

def interval_key(record: dict[str, Any]) -> str:
    """The credible interval's key in a parameter's record ('ci90': the 90 % interval)."""
    return next(k for k in record if re.fullmatch(r"ci\d+", k))


def parameter(name: str, record: dict[str, Any]) -> Parameter:
    level = int(interval_key(record)[2:])
    prior = _prior_interval(name, record, level)
    low, high = record[interval_key(record)]
    ratio = None if prior is None or prior[1] <= prior[0] else (high - low) / (prior[1] - prior[0])
    return Parameter(name, record, level, prior, ratio)


def _prior_interval(name: str, record: dict[str, Any],
                    level: int) -> tuple[float, float] | None:
    """The central ``level`` % interval of the truncated prior the run used: the schema's, when
    its prior and range are still those recorded (else None: the run used another prior)."""
    from model.abc_calibration import TruncatedRV

    if PRIORS.get(name) is None:
        return None
    meta = FIELDS[name].metadata
    if list(PRIORS[name]) != list(record["prior"]) or [meta["lo"], meta["hi"]] != list(record["range"]):
        return None
    rv = TruncatedRV(name)
    return rv.ppf(tail_share(level)), rv.ppf(1 - tail_share(level))


def tail_share(level: int) -> float:
    """The share beyond each end of a central ``level`` % interval (in per cent first, so
    that 90 gives 0.05 exactly)."""
    return (100 - level) / 200


def last_ess(conv: pd.DataFrame) -> float:
    """The effective sample size of the last generation."""
    return float(conv["effective_sample_size"].iloc[-1])


def enough(level: int) -> float:
    """The effective sample size that puts TAIL_PARTICLES beyond each end of a ``level`` %
    interval."""
    return TAIL_PARTICLES / tail_share(level)


def _level(params: list[Parameter]) -> int:
    """The level of the credible intervals, in per cent."""
    from model.abc_calibration import CREDIBLE

    return params[0].level if params else round(CREDIBLE * 100)


# --- sections -------------------------------------------------------------------------------

def _settings(d: Path, s: dict[str, Any]) -> list[tuple[str, Any]]:
    return [("parameters calibrated", ", ".join(s["params"])),
            ("particles per generation", num(s["particles"])),
            ("generations", num(s["generations"])),
            ("simulations", num(s.get("total_simulations"))),
            ("scale", num(s.get("scale"))), ("days per simulation", num(s.get("days"))),
            ("seed", str(s["seed"]) if "seed" in s else None),
            ("wall time of the command that wrote it (s)", num(s.get("wall_time_seconds"))),
            ("written", written(d / "abc_summary.json"))]


def _observed_section(obs: dict[str, Any]) -> Raw:
    from model.abc_calibration import observed

    study = observed()
    rows = []
    for key, value in obs.items():
        _, what, code = STATISTICS.get(key, (key, key, ""))
        source = code if study.get(key) == value else (
            f"not the study's {num(study[key])} ({code})" if key in study else "")
        rows.append([key, what, num(value), source])
    return section("Observed statistics", table(
        ["statistic", "what it is", "observed", "source"], rows,
        "What each simulation is compared with (adaptive distance: each statistic divided by "
        "its spread in the previous generation)", numeric_from=2))


def _parameters_section(params: list[Parameter]) -> Raw:
    pct = f"{_level(params)}%"
    rows = [[p.name, _prior_text(p.record["prior"]),
             f"{param_value(p.record['range'][0])} – {param_value(p.record['range'][1])}",
             _interval_text(p.prior_interval), num(p.record["mean"]), _interval_text(p.interval),
             num(p.ratio), p.verdict or "n/a: the schema's prior or range has changed since the run"]
            for p in params]
    return section("Parameters: posterior against prior", para(PRIOR_HELP, "note"), table(
        ["parameter", "prior", "allowed range", f"prior {pct} interval", "posterior mean",
         f"posterior {pct} interval", "width ratio", "reading"], rows, numeric_from=3))


def _prior_text(prior: list[Any]) -> str:
    kind, a, b = prior
    return f"{kind}({param_value(a)}, {param_value(b)})"


def _interval_text(interval: tuple[float, float] | None) -> str:
    return "n/a" if interval is None else f"[{num(interval[0])}, {num(interval[1])}]"


def _convergence_section(conv: pd.DataFrame) -> Raw:
    shown = conv.rename(columns={"effective_sample_size": "effective sample size",
                                 "acceptance_rate": "acceptance rate"})
    return section("Convergence by generation", para(
        "ε: the acceptance threshold of the generation (the median distance of the one before, "
        "recomputed with the distance's new weights); acceptance rate: accepted particles over "
        "simulations; effective sample size: 1 / Σ w² of the normalised weights.", "note"),
        frame_table(shown, numeric_from=0, formats={
            "acceptance rate": lambda v: f"{v:.1%}",
            "effective sample size": lambda v: f"{v:.1f}"}))


def _predictive_section(summary: dict[str, Any]) -> Raw | None:
    """Posterior-predictive results, when abc_summary.json holds any (under a key naming
    them): shown as they are recorded."""
    found = {k: v for k, v in summary.items() if "predictive" in k}
    if not found:
        return None
    return section("Posterior predictive check", *(_any_table(k, v) for k, v in found.items()))


def _any_table(name: str, value: Any) -> Raw:
    """A JSON value as a table: a mapping of mappings with a column per inner key, anything
    else as (key path, value) rows."""
    if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
        cols = list(dict.fromkeys(c for v in value.values() for c in v))
        rows = [[k, *(_cell(v.get(c)) for c in cols)] for k, v in value.items()]
        return table(["", *cols], rows, name)
    return table(None, _flat(name, value), numeric_from=1)


def _flat(path: str, value: Any) -> list[list[str]]:
    if isinstance(value, dict):
        return [row for k, v in value.items() for row in _flat(f"{path}.{k}", v)]
    return [[path, _cell(value)]]


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    return value if isinstance(value, str) else num(value)


# --- the reading ----------------------------------------------------------------------------

def _reading(s: dict[str, Any], params: list[Parameter], conv: pd.DataFrame) -> list[str]:
    """A lead sentence (what was run), then what the data identify, how ε moved and how far
    the last generation's weights can be trusted."""
    stats = ", ".join(_short(k, v) for k, v in s.get("observed", {}).items())
    lead = (f"ABC-SMC of {len(params)} parameter(s) against {stats or 'the observed statistics'}"
            f": {num(s['particles'])} particles per generation, {num(s['generations'])} "
            f"generation(s), {num(s.get('total_simulations'))} simulations"
            + (f" at scale {num(s['scale'])} for {num(s['days'])} days each" if "scale" in s
               and "days" in s else "") + ".")
    return [lead, *_identification(params), _epsilon_sentence(conv),
            _sample_sentence(conv, _level(params), s["particles"])]


def _short(key: str, value: Any) -> str:
    """'tickets per 10,000 (F3)': a statistic's short name, with the study's code when the
    observed value is the study's (a run against synthetic data cites none)."""
    from model.abc_calibration import observed

    short, _, code = STATISTICS.get(key, (key, key, ""))
    return f"{short} ({code})" if code and observed().get(key) == value else short


def _named(params: list[Parameter]) -> str:
    """'a (0.282), b (0.653)': the parameters with their width ratios."""
    return ", ".join(f"{p.name} ({num(p.ratio)})" for p in params)


def _identification(params: list[Parameter]) -> list[str]:
    """One sentence per group of VERDICTS that has parameters, and one for those without a
    prior interval."""
    pct = f"{_level(params)}%"
    by = {v: [p for p in params if p.verdict == v] for v in VERDICTS}
    out = []
    if by["identified"]:
        out.append(f"The data identify {_named(by['identified'])}: the {pct} interval is "
                   f"narrowed to less than half the width of the prior's (a width ratio below "
                   f"{num(IDENTIFIED)}, in brackets).")
    else:
        out.append(f"The data identify none of the parameters: no {pct} interval is narrowed "
                   "to less than half the width of its prior's.")
    if by["partly narrowed"]:
        out.append(f"Partly narrowed (a width ratio from {num(IDENTIFIED)} to below "
                   f"{num(NEAR_PRIOR)}): {_named(by['partly narrowed'])}.")
    near = by["close to the prior"]
    if near:
        wider = [p.name for p in near if p.ratio > 1]
        out.append(f"Close to the prior (a width ratio of {num(NEAR_PRIOR)} or more): {_named(near)}; "
                   "the data say little about them, so results that depend on them rest on "
                   "their priors" + (f" ({', '.join(wider)}: wider than the prior's own interval)"
                                  if wider else "") + ".")
    unknown = [p.name for p in params if p.verdict is None]
    if unknown:
        out.append(f"No width ratio for {', '.join(unknown)}: the schema's prior or range is "
                   "no longer the one the run recorded.")
    return out


def _epsilon_sentence(conv: pd.DataFrame) -> str:
    accepted = f"{conv['acceptance_rate'].iloc[-1]:.1%}"
    if len(conv) < 2:
        return (f"Only one generation was run ({accepted} of simulations accepted), so there is "
                "no trend in ε to judge convergence by.")
    before, last = (float(x) for x in conv["epsilon"].iloc[-2:])
    # a threshold of zero (every distance zero) cannot fall further
    change = last / before - 1 if before > 0 else (0.0 if last <= before else math.inf)
    moved = f"from {num(before)} to {num(last)} ({change:+.0%}; {accepted} of simulations accepted)"
    if change <= -FLAT:
        return (f"ε still fell in the last generation, {moved}: more generations may narrow the "
                "posterior further (the same command with a larger --generations resumes).")
    if change < FLAT:
        return (f"ε levelled off in the last generation, {moved}: the last generation hardly "
                "tightened the acceptance threshold.")
    return (f"ε rose in the last generation, {moved}: the adaptive distance re-weights the "
            "statistics every generation, so successive thresholds are not on one scale, but "
            "the last generation did not tighten the acceptance threshold.")


def _sample_sentence(conv: pd.DataFrame, level: int, particles: int) -> str:
    ess = last_ess(conv)
    text = (f"The last generation's effective sample size is {ess:.1f} of {num(particles)} "
            "particles")
    each = ess * tail_share(level)
    if ess < enough(level):
        return (f"{text}, below the {num(enough(level))} that put {TAIL_PARTICLES} beyond each "
                f"end of a {level}% interval (here about {each:.1f} beyond each end): the "
                "intervals' ends rest on a few heavy particles and are themselves uncertain; "
                "more particles would steady them.")
    return f"{text}, about {each:.1f} beyond each end of a {level}% interval."


def _bottom_line(s: dict[str, Any], params: list[Parameter], conv: pd.DataFrame) -> list[str]:
    """What the data pin down and what stays an assumption; the caveats."""
    found = [p.name for p in params if p.verdict == "identified"]
    rest = [p.name for p in params if p.verdict in VERDICTS[1:]]
    lead = (f"The observed statistics identify {', '.join(found)}" if found
            else "The observed statistics identify none of the calibrated parameters")
    lead += (f"; {', '.join(rest)} keep half or more of their prior's interval width, so what "
             "depends on them rests largely on the priors, not on the data." if rest else ".")
    level = _level(params)
    extra = (() if last_ess(conv) >= enough(level) else
             (f"the last generation's effective sample size ({last_ess(conv):.1f}) leaves the "
              f"{level}% intervals' ends uncertain",))
    last = caveats(None, None, number(s.get("days")), extra)
    return [lead, last] if last else [lead]
