"""Sensitivity problems (敏感性分析问题): which parameters vary over which ranges, which outputs
are analysed, and the run settings, read from a TOML file under ``analysis/problems/``.

    name = "staffing_funding_influx"
    scenario = "baseline"            # base scenario: every other parameter comes from it
    outputs = ["mean_satisfaction", "disputes_per_1000_per_month"]
    scale = 0.1
    days = 365
    replicates = 2                   # seeds per sample, averaged
    n = 64                           # base sample size (optional; --n overrides)
    [fixed]                          # optional overrides of the scenario, not varied
    [parameters.staffing_per_10k]
    bounds = [18.0, 43.9]            # the support of the factor, within the schema's range
    dist = "unif"                    # unif (default), triang (peak), truncnorm (mean, sd), logunif
    source = "F6 .. F7"

``priors = "all"`` (or a list of parameter groups, the headings of ``run.py params``, and
parameter names) adds a uniform factor for every real-valued parameter with a prior in the
schema (in those groups, or named) on the central 90 % of its prior: from its 5 % to its 95 %
quantile, the prior truncated to the schema's range as ABC draws it. The shares of a
composition (they must sum to 1) are left out; two shares of one whole whose upper ends would
sum above 1 have both upper ends scaled down alike to sum to 1. A ``[parameters.NAME]`` table
or a ``[fixed]`` value takes precedence.

Everything is checked against the parameter schema when the file is read, before any run:
unknown keys, unknown parameters or outputs, lower >= upper, bounds outside the schema's
range, a parameter both fixed and varied.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from experiments.runner import measure_names
from model import kpis, priors, scenarios
from model.params import (
    COMPOSITIONS,
    FIELDS,
    GROUP_OF,
    PRIORS,
    SHARE_PAIRS,
    TYPES,
    ParameterError,
    Params,
    allowed_text,
    check_keys,
    coerce,
    did_you_mean,
    plain,
    shorten,
)

PROBLEM_DIR = Path(__file__).resolve().parent / "problems"
TOP_KEYS = ("name", "description", "scenario", "outputs", "scale", "days", "replicates", "n",
            "seed", "fixed", "parameters", "priors")
FACTOR_KEYS = ("bounds", "dist", "peak", "mean", "sd", "source")
DISTS = {"unif": (), "logunif": (), "triang": ("peak",), "truncnorm": ("mean", "sd")}
RUN_SETTINGS = ("scale", "days")  # top-level settings, not factors
ALL_PRIORS = "all"
# assumption: the central 90 % of each prior. The automatic priors are weakly informative, so
# their far tails are values no one holds plausible; screening over them would rank parameters
# by their tails rather than by what is uncertain.
PRIOR_QUANTILES = (0.05, 0.95)
# Shares that must sum to 1 with others: one cannot vary alone, so priors = ... leaves them out.
COMPOSITION_SHARES = frozenset(f"{prefix}_{part}" for prefix, parts in COMPOSITIONS.items()
                               for part in parts)


@dataclass(frozen=True)
class Factor:
    """One varied parameter: its support [lower, upper] and distribution on it."""

    name: str
    lower: float
    upper: float
    dist: str = "unif"
    peak: float | None = None
    mean: float | None = None
    sd: float | None = None
    source: str = ""

    @property
    def kind(self) -> type:
        return TYPES.get(self.name, float)

    def salib_bounds(self, grid: bool = False) -> list[float]:
        """Bounds in SALib's convention for the distribution. An integer factor is sampled
        on [lower - 0.5, upper + 0.5] and rounded, so every whole value is equally likely,
        except on Morris' grid (``grid``), whose levels are whole values already."""
        widen = 0.5 if self.kind is int and not grid else 0.0
        lower, upper = self.lower - widen, self.upper + widen
        if self.dist == "triang":  # SALib: [start, end, peak as a fraction of the width]
            return [lower, upper, (self.peak - lower) / (upper - lower)]
        if self.dist == "truncnorm":
            return [lower, upper, self.mean, self.sd]
        return [lower, upper]

    def to_values(self, column: np.ndarray) -> list[Any]:
        """Sampled numbers as parameter values: integers rounded (within the bounds),
        switches on from 0.5."""
        if self.kind is bool:
            return [bool(v >= 0.5) for v in column]
        if self.kind is int:
            return [int(min(max(round(v), self.lower), self.upper)) for v in column]
        return [float(v) for v in column]


@dataclass(frozen=True)
class Space:
    """What SALib needs: factors and output names (also used with test functions)."""

    factors: tuple[Factor, ...]
    outputs: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.factors]

    def salib(self, grid: bool = False) -> dict[str, Any]:
        """SALib's problem dict (``grid``: for Morris' grid of levels)."""
        return {"num_vars": len(self.factors), "names": self.names,
                "bounds": [f.salib_bounds(grid) for f in self.factors],
                "dists": [f.dist for f in self.factors], "outputs": list(self.outputs)}


@dataclass(frozen=True)
class Problem(Space):
    """A sensitivity problem on the model: a space plus the base scenario and run settings."""

    name: str = "problem"
    description: str = ""
    scenario: str = "baseline"
    scale: float = 0.1     # assumption: district-wide rates hold at 0.1 (docs/calibration.md)
    days: int = 365        # the study's year
    replicates: int = 2    # assumption: the least that measures seed noise per sample
    n: int | None = None
    seed: int = 2021       # the year of the study's figures, as everywhere in the tool
    fixed: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    def with_settings(self, **settings: Any) -> Problem:
        """The command line's --scale, --days, --replicates, --n, --seed (None: keep the
        file's)."""
        given = {k: coerce(k, v) if k in RUN_SETTINGS else plain(v)
                 for k, v in settings.items() if v is not None}
        problem = replace(self, **given)
        _check_settings(problem, where="command line")
        return problem

    def run_values(self) -> dict[str, Any]:
        """Overrides applied to the base scenario in every run."""
        return {**self.fixed, "scale": self.scale, "days": self.days}

    def extremes(self) -> list[Params]:
        """The scenario with the fixed values and each factor at each bound (validated)."""
        return [scenarios.load(self.scenario, {**self.run_values(),
                                               f.name: f.to_values(np.array([bound]))[0]}).params
                for f in self.factors for bound in (f.lower, f.upper)]

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "scenario": self.scenario,
                "outputs": list(self.outputs), "fixed": self.fixed, "path": self.path,
                "parameters": [{"name": f.name, "lower": f.lower, "upper": f.upper,
                                "dist": f.dist, "peak": f.peak, "mean": f.mean, "sd": f.sd,
                                "source": f.source} for f in self.factors]}


def available() -> list[str]:
    return sorted(p.stem for p in PROBLEM_DIR.glob("*.toml"))


def resolve(name_or_path: str | Path) -> Path:
    """A shipped problem name or a path to a TOML file."""
    if not str(name_or_path).strip():
        raise ParameterError(f"problem is empty; allowed: a shipped problem "
                             f"({', '.join(available())}) or a path to a .toml file")
    path = Path(name_or_path)
    if path.exists():  # a directory or an unreadable file is refused when read
        return path
    shipped = PROBLEM_DIR / f"{name_or_path}.toml"
    if shipped.is_file():
        return shipped
    hint = did_you_mean(name_or_path, available())
    raise ParameterError(f"problem file '{name_or_path}' not found{hint}; shipped problems: "
                         f"{', '.join(available())}, or a path to a .toml file")


def load(name_or_path: str | Path) -> Problem:
    """Read and check a problem file; every error names the file and the bad key or value."""
    path = resolve(name_or_path)
    data = scenarios.read_toml(path, "problem file", "a TOML file with outputs and "
                               "[parameters.NAME] tables (docs/sensitivity.md)")
    try:
        return _build(data, path)
    except ParameterError as e:
        raise ParameterError(f"problem file '{path}': {e}") from None


def _build(data: dict[str, Any], path: Path) -> Problem:
    _refuse_unknown(data, TOP_KEYS, "key")
    raw = data.get("parameters", {})
    if not isinstance(raw, dict) or not (raw or "priors" in data):
        raise ParameterError("[parameters] is missing or empty; give at least one "
                             "[parameters.NAME] table with bounds = [lower, upper], or "
                             f"priors = \"{ALL_PRIORS}\"")
    fixed = data.get("fixed", {})
    if not isinstance(fixed, dict):
        raise ParameterError("[fixed] must be a table of parameter = value")
    check_keys(fixed, where="[fixed]")
    for key in RUN_SETTINGS:
        if key in fixed:
            raise ParameterError(f"[fixed]: '{key}' is a run setting; give it as top-level "
                                 f"{key} = ...")
    check_keys(raw, where="[parameters]")
    factors = tuple(_factor(name, spec, fixed) for name, spec in raw.items())
    if "priors" in data:
        factors += prior_factors([n for n in screened(data["priors"])
                                  if n not in raw and n not in fixed])
    if not factors:
        raise ParameterError("nothing to vary: every parameter priors = ... selects is in "
                             "[fixed]")
    settings = {k: _typed(k, data[k], "top level") for k in RUN_SETTINGS if k in data}
    problem = Problem(
        factors=factors, outputs=_outputs(data.get("outputs")),
        name=str(data.get("name", path.stem)), description=str(data.get("description", "")),
        scenario=str(data.get("scenario", "baseline")), path=str(path),
        fixed={k: _typed(k, v, "[fixed]") for k, v in fixed.items()}, **settings,
        **{k: data[k] for k in ("replicates", "n", "seed") if k in data})
    _check_settings(problem, where="file")
    return problem


def screened(selection: Any) -> list[str]:
    """The parameters ``priors = selection`` adds, in the schema's order: every real-valued
    parameter with a prior but composition shares ("all"), or those among them in the listed
    groups or named in the list."""
    eligible = [n for n in priors.calibratable() if n not in COMPOSITION_SHARES]
    groups = list(dict.fromkeys(GROUP_OF[n] for n in eligible))
    if selection == ALL_PRIORS:
        return eligible
    allowed = (f"allowed: \"{ALL_PRIORS}\", or a list of groups ({', '.join(map(repr, groups))}) "
               "and real-valued parameters with a prior (`run.py params`)")
    if (not isinstance(selection, list) or not selection
            or not all(isinstance(item, str) for item in selection)):
        raise ParameterError(f"priors = {shorten(repr(selection))}; {allowed}")
    for item in selection:
        if item not in groups and item not in eligible:
            raise ParameterError(f"priors: '{shorten(item)}' {_not_screened(item)}"
                                 f"{did_you_mean(item, groups + eligible)}; {allowed}")
    return [n for n in eligible if n in selection or GROUP_OF[n] in selection]


def _not_screened(item: str) -> str:
    """Why ``item`` cannot be in a priors = [...] list."""
    if item in GROUP_OF.values():
        return "is a group without real-valued parameters with a prior"
    if item in COMPOSITION_SHARES:
        return "is a share of a composition that must sum to 1, so it cannot vary alone"
    if item in PRIORS:
        return "takes whole numbers; give it a [parameters.NAME] table"
    if item in FIELDS:
        return "has no prior (an input, a run setting, a policy lever or a switch)"
    return "is neither a parameter group nor a parameter"


def prior_factors(names: list[str]) -> tuple[Factor, ...]:
    """A uniform factor per parameter on the PRIOR_QUANTILES of its truncated prior. Two shares
    of one whole whose upper ends would sum above 1 get both upper ends scaled by the same
    factor to sum to 1, so that every corner of the space is a valid parameter set."""
    bounds = {n: list(priors.quantiles(n, PRIOR_QUANTILES)) for n in names}
    notes = dict.fromkeys(names, "")
    for a, b in SHARE_PAIRS:
        if a in bounds and b in bounds and bounds[a][1] + bounds[b][1] > 1.0:
            cut = 1.0 / (bounds[a][1] + bounds[b][1])
            for name, other in ((a, b), (b, a)):
                bounds[name][1] *= cut
                notes[name] = f"; upper end cut with {other}'s so that the two sum to 1"
    return tuple(Factor(n, *_bounds(f"priors: {n}", n, bounds[n]),
                        source=_prior_source(n) + notes[n]) for n in names)


def _prior_source(name: str) -> str:
    kind, a, b = PRIORS[name]
    meta = FIELDS[name].metadata
    low, high = (100 * q for q in PRIOR_QUANTILES)
    return (f"{meta['source']}; {low:g}-{high:g} % quantiles of its prior {kind}({a:.4g}, "
            f"{b:.4g}) on [{meta['lo']:g}, {meta['hi']:g}] ({meta['prior_why']})")


def _typed(key: str, value: Any, where: str) -> Any:
    """A value read from TOML as the parameter's type: TOML has types, so text for a number
    or a switch is refused rather than parsed."""
    if isinstance(value, str) and TYPES[key] is not str:
        raise ParameterError(f"{where}: {key} = {value!r} is text; write the "
                             f"{TYPES[key].__name__} without quotes (allowed: "
                             f"{allowed_text(key)})")
    return coerce(key, value)


def _refuse_unknown(table: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    for key in table:
        if key not in allowed:
            raise ParameterError(f"unknown {what} '{key}'{did_you_mean(key, allowed)}; allowed: "
                                 f"{', '.join(allowed)}")


def _factor(name: str, spec: Any, fixed: dict[str, Any]) -> Factor:
    where = f"[parameters.{name}]"
    if not isinstance(spec, dict):
        raise ParameterError(f"{where} must be a table with bounds = [lower, upper]")
    _refuse_unknown(spec, FACTOR_KEYS, f"key in {where}")
    if name in RUN_SETTINGS:
        raise ParameterError(f"{where}: '{name}' is a run setting (top-level {name} = ...), "
                             "not a factor")
    if name in fixed:
        raise ParameterError(f"parameter '{name}' is both in [fixed] and [parameters]; "
                             "give it in one place")
    kind = TYPES[name]
    if kind is str:
        raise ParameterError(f"{where}: '{name}' takes a name ({allowed_text(name)}), not a "
                             "number; compare its choices with `run.py sweep --vary`")
    lower, upper = _bounds(where, name, spec.get("bounds", [0, 1] if kind is bool else None))
    dist = spec.get("dist", "unif")
    shape = _shape(where, dist, spec, lower, upper)
    return Factor(name, lower, upper, dist, source=str(spec.get("source", "")), **shape)


def _bounds(where: str, name: str, bounds: Any) -> tuple[float, float]:
    """[lower, upper] as numbers inside what the parameter allows."""
    kind = TYPES[name]
    if (not isinstance(bounds, list) or len(bounds) != 2
            or not all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)):
        raise ParameterError(f"{where}: bounds must be [lower, upper] (two numbers), got "
                             f"{bounds!r}")
    lower, upper = float(bounds[0]), float(bounds[1])
    if not lower < upper:
        raise ParameterError(f"{where}: lower bound {bounds[0]} must be below upper bound "
                             f"{bounds[1]}")
    meta = FIELDS[name].metadata
    if kind is int and not (lower.is_integer() and upper.is_integer()):
        raise ParameterError(f"{where}: '{name}' takes whole numbers; its bounds must be whole "
                             f"numbers, got {bounds!r}")
    if kind is bool and (lower, upper) != (0.0, 1.0):
        raise ParameterError(f"{where}: '{name}' is a switch; its bounds are [0, 1] (on from "
                             "0.5)")
    if kind is not bool and not (meta["lo"] <= lower and upper <= meta["hi"]):
        raise ParameterError(f"{where}: bounds [{bounds[0]}, {bounds[1]}] leave the range the "
                             f"model allows; allowed: {allowed_text(name)}")
    return lower, upper


def _shape(where: str, dist: str, spec: dict[str, Any], lower: float,
           upper: float) -> dict[str, float]:
    """The distribution's own numbers (peak; mean and sd), checked against the bounds."""
    if dist not in DISTS:
        raise ParameterError(f"{where}: unknown dist '{dist}'; allowed: {', '.join(DISTS)}")
    needed = DISTS[dist]
    extra = [k for k in ("peak", "mean", "sd") if k in spec and k not in needed]
    if extra:
        raise ParameterError(f"{where}: '{extra[0]}' does not apply to dist '{dist}'")
    shape = {}
    for key in needed:
        value = spec.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ParameterError(f"{where}: dist '{dist}' needs {key} = NUMBER")
        shape[key] = float(value)
    if dist == "triang" and not lower <= shape["peak"] < upper:
        raise ParameterError(f"{where}: peak {shape['peak']} must lie in [lower, upper) "
                             "(SALib's triangle cannot peak at its upper end)")
    if dist == "triang" and upper < 0:
        raise ParameterError(f"{where}: dist 'triang' needs an upper bound >= 0 (SALib's "
                             "triangle); use unif or truncnorm for negative ranges")
    if dist == "truncnorm" and shape["sd"] <= 0:
        raise ParameterError(f"{where}: sd must be positive, got {shape['sd']}")
    if dist == "logunif" and lower <= 0:
        raise ParameterError(f"{where}: dist 'logunif' needs a positive lower bound")
    return shape


def _outputs(raw: Any) -> tuple[str, ...]:
    allowed = [m for m in measure_names() if not kpis.declared(m).timing]  # not wall times
    if not isinstance(raw, list) or not raw or not all(isinstance(o, str) for o in raw):
        raise ParameterError("outputs must be a non-empty list of summary measures, e.g. "
                             "[\"mean_satisfaction\", \"disputes_per_1000_per_month\"]")
    for name in raw:
        if name not in allowed:
            raise ParameterError(f"unknown output '{name}'{did_you_mean(name, allowed)}; allowed: "
                                 "the measures of "
                                 f"summary.json: {', '.join(allowed)}")
    if len(set(raw)) != len(raw):
        raise ParameterError("an output is listed twice in outputs")
    return tuple(raw)


def _check_settings(p: Problem, where: str) -> None:
    for key, lowest in (("replicates", 1), ("seed", 0), ("n", 1)):
        value = getattr(p, key)
        if value is None and key == "n":
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < lowest:
            raise ParameterError(f"{where}: {key} must be an integer >= {lowest}, got {value!r}")
    try:
        p.extremes()
    except ParameterError as e:
        raise ParameterError(f"{where}: {e}") from None
