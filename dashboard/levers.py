"""The dashboard's controls, built from the parameter schema (model/params.py): each lever is
a schema parameter, its caption the schema's description, its choices and the limits of a
slider inside the schema's range; settings are checked by the schema itself, so an invalid
combination is refused with the schema's own message (with plain names for the keys)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from model import scenarios
from model.model import checked_seed
from model.params import FIELDS, ParameterError, Params

from .watched import WatchedModel


@dataclass(frozen=True)
class Lever:
    """One control: ``kind`` is slider, select or switch; ``lo``/``hi``/``step`` are the
    slider's (a display range inside the schema's)."""

    key: str
    title: str
    unit: str = ""
    kind: str = "slider"
    lo: float = 0.0
    hi: float = 0.0
    step: float = 1.0

    @property
    def caption(self) -> str:
        """The schema's description, with plain names for the parameters it mentions."""
        return plain_names(FIELDS[self.key].metadata["doc"])

    @property
    def choices(self) -> tuple[tuple[str, str], ...]:
        """(value, what it means) of a select, the meanings read from the schema's
        description ('uniform: ...; proportional: ...')."""
        doc = FIELDS[self.key].metadata["doc"]
        meaning = dict(part.split(": ", 1) for part in doc.split("; "))
        return tuple((c, plain_names(meaning.get(c, c))) for c in self.allowed)

    def shown(self, value: Any) -> str:
        """'Staffing 18 staff per 10,000 residents', 'Policy 2 on'."""
        if self.kind == "switch":
            return f"{self.title} {'on' if value else 'off'}"
        text = f"{value:,g}" if self.kind == "slider" else str(value)
        return f"{self.title} {text} {self.unit}".strip()

    @property
    def allowed(self) -> tuple[str, ...]:
        # 'mix' needs the two staff_weight_* weights, which are not levers here
        return tuple(c for c in FIELDS[self.key].metadata["choices"] if c != "mix")


def _policy_title(key: str) -> str:
    """'Policy 3a' from the parameter's source ('policy 3a (F16)', 'policy 8; ...')."""
    number = re.match(r"policy (\w+)", FIELDS[key].metadata["source"])
    return f"Policy {number.group(1)}"


# The policy switches of the study (section 4 of docs/source.md): the schema's booleans whose
# source is a policy, in the schema's order.
POLICIES = tuple(name for name, f in FIELDS.items()
                 if isinstance(f.default, bool) and f.metadata["source"].startswith("policy"))

LEVERS: tuple[Lever, ...] = (
    Lever("staffing_per_10k", "Staffing", "staff per 10,000 residents", lo=10.0, hi=60.0,
          step=0.5),
    Lever("welfare_posts_per_10k", "Public-welfare posts", "posts per 10,000 residents",
          lo=0.0, hi=40.0, step=0.5),
    Lever("staff_allocation", "Allocation rule", kind="select"),
    Lever("funding_per_community_yuan", "Funding per community", "yuan per year", lo=0.0,
          hi=1_000_000.0, step=20_000.0),
    Lever("winter_influx", "Winter influx into Longqiao", "residents at full scale", lo=0,
          hi=60_000, step=1_000),
    *(Lever(key, _policy_title(key), kind="switch") for key in POLICIES),
)
LEVER = {lever.key: lever for lever in LEVERS}

# Run settings: scale (for speed; the study's district is 1.0) and seed.
SCALE = Lever("scale", "Population scale", "× 244,000 residents", lo=0.1, hi=0.25, step=0.05)
SEED, SCENARIO = "seed", "scenario"
SHORT_NAMES = {**{lever.key: lever.title.lower() for lever in LEVERS if lever.kind != "switch"},
               "scale": "population scale", SEED: "seed"}


def plain_names(text: str) -> str:
    """``text`` with every parameter name in it (``staffing_per_10k``, ``staff_weight_*``)
    given in words: the control's title, or the name's words."""
    def words(match: re.Match) -> str:
        name = match.group(0)
        return SHORT_NAMES.get(name, name.replace("_*", "").replace("_", " "))

    return re.sub(r"\b[a-z]+(?:_[a-z0-9]+)+(?:_\*)?", words, text)


@dataclass(frozen=True)
class Settings:
    """What the controls say: a shipped scenario, the value of each lever, scale and seed."""

    scenario: str = "baseline"
    seed: int = 1
    scale: float = 0.1
    levers: dict[str, Any] = field(default_factory=dict)

    def with_value(self, key: str, value: Any) -> Settings:
        """These settings with one control changed (a scenario brings its own lever values)."""
        if key == SCENARIO:
            return for_scenario(value, self.seed, self.scale)
        if key in (SEED, SCALE.key):
            return Settings(self.scenario, **{SEED: self.seed, SCALE.key: self.scale, key: value},
                            levers=self.levers)
        return Settings(self.scenario, self.seed, self.scale, {**self.levers, key: value})

    def changes(self) -> list[str]:
        """The levers set away from the scenario's values, in words."""
        own = for_scenario(self.scenario).levers
        return [lever.shown(self.levers[lever.key]) for lever in LEVERS
                if self.levers[lever.key] != own[lever.key]]

    def model_kwargs(self) -> dict[str, Any]:
        """GovernanceModel's keywords for these settings."""
        return {"scenario": self.scenario, "seed": self.seed, "scale": self.scale, **self.levers}

    def key(self) -> tuple[tuple[str, Any], ...]:
        """These settings as a hashable key (of cached runs)."""
        return tuple(sorted(self.model_kwargs().items()))


def for_scenario(name: str, seed: int = 1, scale: float = 0.1) -> Settings:
    """The settings of a shipped scenario: its lever values."""
    return Settings(name, seed, scale, dict(_scenario_levers(name)))


@cache
def _scenario_levers(name: str) -> tuple[tuple[str, Any], ...]:
    p = scenarios.load(name).params
    return tuple((key, getattr(p, key)) for key in LEVER)


@lru_cache(maxsize=1)
def scenario_choices() -> dict[str, str]:
    """Name -> description of each shipped scenario, the baseline first (read once: the
    page asks at every render)."""
    names = sorted(scenarios.available(), key=lambda n: n != "baseline")
    return {n: scenarios.load(n).description for n in names}


def check(settings: Settings) -> Params:
    """The parameter set of ``settings``, checked by the schema (ParameterError if refused,
    with the schema's message)."""
    checked_seed(settings.seed)  # the model's own check of a seed, with its message
    kwargs = settings.model_kwargs()
    name = kwargs.pop("scenario")
    del kwargs[SEED]
    return scenarios.load(name).params.with_updates(**kwargs)


def build(settings: Settings) -> WatchedModel:
    """The model of ``settings`` (checked first: nothing is built from refused settings)."""
    check(settings)
    return WatchedModel(**settings.model_kwargs())


def refused(settings: Settings) -> tuple[str, tuple[str, ...]] | None:
    """None when the schema accepts ``settings``; else its message in plain names and the
    controls it names (where the page shows it)."""
    try:
        check(settings)
    except ParameterError as e:
        message = str(e)
        named = tuple(k for k in (*LEVER, SCALE.key, SEED) if re.search(rf"\b{k}\b", message))
        return plain_names(message), named or (SEED,)
    return None
