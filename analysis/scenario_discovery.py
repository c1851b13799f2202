"""Scenario discovery (情景发现): which assumptions decide the ranking of two policies
(docs/experiments.md, "Which assumptions decide the ranking").

An experiment run in plausible worlds (``compare``, ``sweep`` or ``staffing`` with
``--posterior FILE --worlds K``, experiments/worlds.py) gives every policy's measure in every
world on the same seeds. For policies A and B and one measure, each world gets A's paired
difference against B (mean over the world's seeds) and the outcome "A beats B here" (better
by model/kpis.py's direction). PRIM (the Patient Rule Induction Method, Friedman & Fisher
1999, as implemented by EMA Workbench for scenario discovery, Bryant & Lempert 2010) then
looks for boxes — ranges of the worlds' parameters — that hold the worlds in which A does
not beat B: "A beats B unless X > … and Y < …". Each box is judged by

- **density**: the share of the worlds in the box in which A loses (how sure the rule is), and
- **coverage**: the share of all worlds in which A loses that the box holds (how much of the
  problem the rule explains).

    python run.py discover DIR --policy A --against B [--measure M] --out DIR2

writes discovery.json (settings, the boxes, the sentences), discovery.csv (one row per world:
its parameters, the difference, the outcome, the box it falls in), trajectory.csv (PRIM's
peeling trajectories) and discovery.png into DIR2, a directory of its own (DIR stays as its
command wrote it, and one experiment can be read for several pairs of policies).
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.outdir import check_out_dir, kind_of, write_error
from experiments.store import atomic_write, write_json
from experiments.worlds import draws_note
from model import kpis
from model.params import ParameterError, checked, did_you_mean, shorten

# Method settings of the analysis, not model parameters (so not in model/params.py); they
# change what the reading concludes, so discovery.json records them all (settings "prim").
MIN_WORLDS = 10      # below this PRIM's steps (one world or more each) leave no box to judge
FEW_WORLDS = 50      # below this a note says the box's limits are rough
FEW_LOSING = 5       # a box holding fewer losing worlds describes them rather than a pattern
DENSITY = 0.8        # default --threshold: a box's minimum density (Bryant & Lempert 2010)
MIN_COVERAGE = 0.25  # default --min-coverage of each box
MAX_BOXES = 3        # boxes looked for, one after the other (more would not read as a sentence)
MAX_LIMITS = 3       # parameters a box may restrict: more fit noise and do not read as a rule
PEEL_ALPHA = 0.05    # EMA Workbench's defaults: the share peeled or pasted per step and
PASTE_ALPHA = 0.05   # the smallest box, as a share of the worlds
MASS_MIN = 0.05
QP_LIMIT = 0.05      # a limit whose quasi-p-value is above this is dropped when the box still
#                      meets the thresholds without it (Bryant & Lempert 2010)

# The per-run table and the column naming the policy, by kind of experiment directory; a
# sweep's policies are its parameter sets, named KEY=VALUE.
RUNS_FILE = {"compare": "compare_runs.csv", "sweep": "summary.parquet",
             "staffing": "summary.parquet"}
POLICY_COLUMN = {"compare": "scenario", "staffing": "rule"}
WORLDS_FILE = {"compare": "worlds.json", "sweep": "manifest.json", "staffing": "manifest.json"}
COMMAND = {"compare": "compare", "sweep": "sweep", "staffing": "staffing"}

TRAJECTORY = ("box", "id", "coverage", "density", "mass", "res_dim", "n", "k", "chosen")


@dataclass(frozen=True)
class Experiment:
    """An experiment directory read for discovery: finished runs with a ``policy`` column."""

    directory: Path
    kind: str
    runs: pd.DataFrame
    policies: dict[str, dict[str, Any]]   # name -> the values that define it (sweeps)
    worlds: pd.DataFrame                  # index: world; columns: the posterior's parameters
    posterior: str


@dataclass(frozen=True)
class Discovery:
    """What ``discover`` finds: its settings, one row per world and PRIM's boxes."""

    setup: dict[str, Any]
    table: pd.DataFrame          # world, parameters, a_mean, b_mean, difference, pairs, a_beats_b, box
    boxes: list[dict[str, Any]]
    trajectory: pd.DataFrame     # box, id, coverage, density, mass, res_dim, n, k, chosen

    @property
    def outcome(self) -> str:
        """'no_loss' (A beats B in every world), 'all_loss' (in none), 'boxes' (PRIM found
        at least one box meeting the thresholds) or 'no_box'."""
        losing = int((~self.table["a_beats_b"]).sum())
        if losing == 0:
            return "no_loss"
        if losing == len(self.table):
            return "all_loss"
        return "boxes" if self.boxes else "no_box"


# --- reading the experiment --------------------------------------------------------------

def load_experiment(directory: str | Path) -> Experiment:
    """The finished runs, policies and worlds of a compare, sweep or staffing directory run
    with plausible worlds; ParameterError (one line) otherwise."""
    d = Path(directory)
    if not d.is_dir():
        raise ParameterError(f"'{shorten(str(d))}' is not a directory; allowed: the output "
                             "directory of compare, sweep or staffing run with --posterior "
                             "FILE --worlds K")
    kind = kind_of(d)
    if kind not in RUNS_FILE:
        found = f"holds the outputs of `{kind}`" if kind else "is not an output directory"
        raise ParameterError(f"'{d}' {found}; allowed: the output directory of compare, sweep "
                             "or staffing run with --posterior FILE --worlds K")
    path = d / RUNS_FILE[kind]
    if not path.is_file():
        raise ParameterError(f"'{path}' is missing; run `{COMMAND[kind]}` again to write it")
    try:
        runs = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        meta_path = d / WORLDS_FILE[kind]
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    except (OSError, ValueError) as e:  # a file cut short or not as the command writes it
        raise ParameterError(f"cannot read '{d}' ({type(e).__name__}: {shorten(str(e), 80)}); "
                             f"run `{COMMAND[kind]}` again to rewrite it") from None
    if "world" not in runs or not meta.get("worlds"):
        raise ParameterError(f"'{d}' has no plausible worlds; allowed: the output of "
                             f"`{COMMAND[kind]} --posterior FILE --worlds K` (K of at least "
                             f"{MIN_WORLDS})")
    if "status" in runs:
        runs = runs[runs["status"] == "done"]
    names, policies = _policy_names(kind, runs, meta)
    worlds = pd.DataFrame(meta["worlds"]).rename_axis("world")
    if not runs["world"].isin(worlds.index).all():
        raise ParameterError(f"'{d}': the runs name worlds that {WORLDS_FILE[kind]} does not "
                             f"hold; run `{COMMAND[kind]}` again to rewrite it")
    return Experiment(d, kind, runs.assign(policy=names), policies, worlds, str(meta["posterior"]))


def _policy_names(kind: str, runs: pd.DataFrame,
                  meta: dict[str, Any]) -> tuple[pd.Series, dict[str, dict[str, Any]]]:
    """Each run's policy name, and every name with the values that define it: a scenario
    (compare), a rule (staffing), ``KEY=VALUE[,KEY=VALUE]`` of the varied parameters (sweep)."""
    if kind in POLICY_COLUMN:
        names = runs[POLICY_COLUMN[kind]].astype(str)
        return names, {n: {} for n in dict.fromkeys(names)}
    varied = list(meta.get("varied", []))
    if not varied:
        raise ParameterError("this sweep varies no parameter: it has one policy, nothing to rank")
    names = runs[varied].apply(lambda r: ",".join(f"{k}={_value_text(r[k])}" for k in varied),
                               axis=1)
    first = runs.assign(policy=names).drop_duplicates("policy")
    return names, {r["policy"]: {k: r[k] for k in varied} for _, r in first.iterrows()}


def _value_text(v: Any) -> str:
    """A varied value as a policy's name shows it: 18.0 as 18."""
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v.item() if isinstance(v, np.generic) else v)


def find_policy(exp: Experiment, text: str, option: str) -> str:
    """The policy named ``text`` (a sweep's also as KEY=VALUE in any order and spelling the
    schema accepts); ParameterError naming the option and the policies otherwise."""
    if text in exp.policies:
        return text
    if exp.kind == "sweep":
        wanted = _parse_set(text, option)
        for name, values in exp.policies.items():
            if wanted is not None and wanted == values:
                return name
    listed = ", ".join(exp.policies)
    raise ParameterError(f"{option} '{shorten(text)}' is not a policy of '{exp.directory}'"
                         f"{did_you_mean(text, exp.policies)}; allowed: {listed}")


def _parse_set(text: str, option: str) -> dict[str, Any] | None:
    """``KEY=VALUE,KEY=VALUE`` as typed values; None when it is not of that form."""
    out = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep:
            return None
        try:
            out[key.strip()] = checked(key.strip(), value.strip(), where=option)
        except ParameterError:
            return None
    return out


def check_measure(exp: Experiment, measure: str) -> str:
    """``measure`` when the runs hold it and it has a better direction (model/kpis.py)."""
    allowed = [c for c in exp.runs.columns if kpis.better(c) and kpis.declared(c)]
    if measure not in allowed:
        why = ("has no better direction" if measure in exp.runs.columns and kpis.declared(measure)
               else "is not a measure of these runs")
        raise ParameterError(f"--measure '{shorten(measure)}' {why}"
                             f"{did_you_mean(measure, allowed)}; allowed: {', '.join(allowed)}")
    return measure


def check_share(name: str, value: float) -> float:
    """A threshold in (0, 1]."""
    if not (isinstance(value, int | float) and 0 < value <= 1):
        raise ParameterError(f"{name} {value!r}: allowed: a share above 0 and at most 1 (e.g. 0.8)")
    return float(value)


# --- the outcome per world ---------------------------------------------------------------

def world_outcomes(exp: Experiment, a: str, b: str, measure: str) -> pd.DataFrame:
    """One row per world in which A and B have a value of ``measure`` on a common seed: the
    world's parameters, each policy's mean over those seeds, the mean paired difference
    A − B, the pairs, and whether A beats B (the difference better by the measure's
    direction; a tie is not a win)."""
    own, ref = (exp.runs[exp.runs["policy"] == p].set_index(["world", "seed"])[measure]
                .astype(float) for p in (a, b))
    if own.index.duplicated().any() or ref.index.duplicated().any():
        raise ParameterError(f"'{exp.directory}': a policy has two runs of one (world, seed); "
                             "the runs are not paired")
    both = own.index.intersection(ref.index)
    pairs = pd.DataFrame({"a": own.loc[both].to_numpy(), "b": ref.loc[both].to_numpy()},
                         index=both)
    pairs = pairs[np.isfinite(pairs["a"]) & np.isfinite(pairs["b"])]
    pairs["difference"] = pairs["a"] - pairs["b"]
    per = pairs.groupby(level="world").agg(a_mean=("a", "mean"), b_mean=("b", "mean"),
                                           difference=("difference", "mean"),
                                           pairs=("difference", "size"))
    per["a_beats_b"] = kpis.better(measure) * per["difference"] > 0
    return exp.worlds.loc[per.index].join(per).reset_index()


def inputs(table: pd.DataFrame, parameters: list[str]) -> pd.DataFrame:
    """The worlds' numeric parameters that differ between them, as floats (PRIM's inputs)."""
    numeric = [p for p in parameters if pd.api.types.is_numeric_dtype(table[p])
               or pd.api.types.is_bool_dtype(table[p])]
    x = table[numeric].astype(float)
    return x.loc[:, x.nunique() > 1]


# --- PRIM ----------------------------------------------------------------------------------

@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """EMA Workbench warns about optional extras it does not find and sets seaborn's palette
    as it is imported: neither may leak into this process's other output or figures."""
    import matplotlib

    with warnings.catch_warnings(), matplotlib.rc_context():
        warnings.simplefilter("ignore")
        yield


def prim_boxes(x: pd.DataFrame, loses: np.ndarray, threshold: float = DENSITY,
               min_coverage: float = MIN_COVERAGE) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """PRIM's boxes around the worlds where ``loses``: up to :data:`MAX_BOXES`, each found
    among the worlds outside the boxes before it. On each peeling trajectory the box taken is
    the one of highest coverage among those restricting some parameter with density at least
    ``threshold`` (ties: fewer parameters, then higher density); it must cover at least
    ``min_coverage`` of all the worlds where A loses, else the search stops. Returns the boxes
    (limits with None for an open side, quasi-p-values, coverage, density, mass, the worlds
    in it and those where A loses, the indices of its worlds) and the trajectories."""
    with _quiet():  # its own deprecation warnings are none of the user's business
        return _prim_boxes(x, np.asarray(loses, dtype=int), threshold, min_coverage)


def _prim_boxes(x: pd.DataFrame, y: np.ndarray, threshold: float,
                min_coverage: float) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    from ema_workbench.analysis import prim

    p = prim.Prim(x.reset_index(drop=True), y, peel_alpha=PEEL_ALPHA, paste_alpha=PASTE_ALPHA,
                  mass_min=MASS_MIN)
    boxes, trajectories = [], []
    for number in range(1, MAX_BOXES + 1):
        found = p.find_box()
        if found is None or found.peeling_trajectory["k"].sum() == 0:
            break
        chosen = _choose(found, threshold, min_coverage)
        if chosen is not None:
            boxes.append(_box(found, chosen, p.box_init, number))
        trajectories.append(found.peeling_trajectory.assign(
            box=number, chosen=found.peeling_trajectory["id"] == chosen))
        if chosen is None or y.sum() == sum(b["losing"] for b in boxes):
            break
    trajectory = (pd.concat(trajectories, ignore_index=True)[list(TRAJECTORY)] if trajectories
                  else pd.DataFrame(columns=list(TRAJECTORY)))
    return boxes, trajectory


def _choose(found: Any, threshold: float, min_coverage: float) -> int | None:
    """The trajectory entry taken as the box (selected in ``found``), or None: the steps that
    restrict some parameter and meet both thresholds, by coverage (then fewer parameters,
    higher density, earlier), each with its insignificant limits dropped
    (:func:`_without_noise`); the first restricting at most :data:`MAX_LIMITS` parameters."""
    traj = found.peeling_trajectory
    ok = traj[(traj["density"] >= threshold) & (traj["coverage"] >= min_coverage)
              & (traj["res_dim"] > 0)]
    order = ok.sort_values(["coverage", "res_dim", "density", "id"],
                           ascending=[False, True, False, True]).index
    for i in order:
        found.select(int(i))
        j = _without_noise(found, int(i), threshold, min_coverage)
        if found.peeling_trajectory.loc[j, "res_dim"] <= MAX_LIMITS:
            return j
    return None


def _without_noise(found: Any, i: int, threshold: float, min_coverage: float) -> int:
    """Box ``i`` with its least significant limits dropped, one at a time, while their
    quasi-p-value is above :data:`QP_LIMIT` and the box without them still meets the
    thresholds (PRIM trims edges that hold no losing world at no cost, whatever the
    parameter). Returns the trajectory entry finally selected."""
    while True:
        qp = {name: max((v for v in sides if v != -1), default=0.0)
              for name, sides in found.p_values[i].items()}
        noisy = [name for name, v in sorted(qp.items(), key=lambda kv: -kv[1]) if v > QP_LIMIT]
        if not noisy or len(qp) == 1:
            return i
        found.drop_restriction(noisy[0], i)
        j = len(found.peeling_trajectory) - 1
        row = found.peeling_trajectory.iloc[j]
        if row["density"] < threshold or row["coverage"] < min_coverage:
            found.select(i)
            return i
        i = j


def _box(found: Any, i: int, init: pd.DataFrame, number: int) -> dict[str, Any]:
    """One chosen box as plain data: per restricted parameter [low or None, high or None]."""
    lims, qp = found.box_lims[i], found.p_values[i]
    limits = {}
    for name in lims.columns:
        low, high = float(lims[name].iloc[0]), float(lims[name].iloc[1])
        lo_cut, hi_cut = low > float(init[name].iloc[0]), high < float(init[name].iloc[1])
        if lo_cut or hi_cut:
            limits[name] = [low if lo_cut else None, high if hi_cut else None]
    row = found.peeling_trajectory.iloc[i]
    return {"box": number, "limits": limits,
            "qp": {k: [None if v == -1 else float(v) for v in qp[k]] for k in limits},
            "coverage": float(row["coverage"]), "density": float(row["density"]),
            "mass": float(row["mass"]), "worlds": int(row["n"]), "losing": int(row["k"]),
            "rows": [int(r) for r in found.yi]}


# --- the whole analysis ------------------------------------------------------------------

def discover(directory: str | Path, policy: str, against: str, measure: str | None = None,
             threshold: float = DENSITY, min_coverage: float = MIN_COVERAGE) -> Discovery:
    """Scenario discovery on the worlds of an experiment directory: where does ``policy``
    not beat ``against`` on ``measure`` (default the first measure of a report's bottom
    line)? Every input is checked before PRIM runs (ParameterError, one line)."""
    threshold = check_share("--threshold", threshold)
    min_coverage = check_share("--min-coverage", min_coverage)
    exp = load_experiment(directory)
    a, b = find_policy(exp, policy, "--policy"), find_policy(exp, against, "--against")
    if a == b:
        raise ParameterError(f"--policy '{policy}' and --against '{against}' are the same "
                             "policy; allowed: two different policies")
    measure = check_measure(exp, measure or kpis.leads()[0])
    table = world_outcomes(exp, a, b, measure)
    if len(table) < MIN_WORLDS:
        raise ParameterError(f"'{exp.directory}' has {len(table)} world(s) in which {a} and {b} "
                             f"both have a value of {measure}; PRIM needs at least {MIN_WORLDS}: "
                             f"run `{COMMAND[exp.kind]}` again with --worlds {MIN_WORLDS} or more")
    parameters = list(exp.worlds.columns)
    x = inputs(table, parameters)
    if x.empty:
        raise ParameterError(f"'{exp.directory}': the {len(table)} worlds have the same value of "
                             f"every parameter ({', '.join(parameters)}); PRIM needs worlds that "
                             "differ (a posterior of more than one particle)")
    loses = ~table["a_beats_b"].to_numpy()
    boxes, trajectory = (([], pd.DataFrame(columns=list(TRAJECTORY))) if loses.all() or not loses.any()
                         else prim_boxes(x, loses, threshold, min_coverage))
    box_of = np.zeros(len(table), dtype=int)
    for box in boxes:
        box_of[box.pop("rows")] = box["box"]
    table = table.assign(box=box_of)
    seeds = int(exp.runs.groupby("world")["seed"].nunique().max())
    setup = {"source": str(exp.directory.resolve()), "kind": exp.kind, "posterior": exp.posterior,
             "policy": a, "against": b, "measure": measure, "better": kpis.better(measure),
             "threshold": threshold, "min_coverage": min_coverage,
             "worlds": len(table), "worlds_drawn": len(exp.worlds), "seeds": seeds,
             "parameters": list(x.columns),
             "constant": [p for p in parameters if p not in x.columns
                          and table[p].astype(str).nunique() <= 1],
             "not_numeric": [p for p in parameters if p not in x.columns
                             and table[p].astype(str).nunique() > 1],
             "particles": int(len(exp.worlds.loc[table["world"]].astype(str).drop_duplicates())),
             "ranges": {p: [float(x[p].min()), float(x[p].max())] for p in x.columns},
             "prim": {"peel_alpha": PEEL_ALPHA, "paste_alpha": PASTE_ALPHA,
                      "mass_min": MASS_MIN, "max_boxes": MAX_BOXES, "max_limits": MAX_LIMITS,
                      "quasi_p_limit": QP_LIMIT, "min_worlds": MIN_WORLDS,
                      "few_worlds": FEW_WORLDS, "few_losing": FEW_LOSING}}
    return Discovery(setup, table, boxes, trajectory)


# --- sentences (the command prints them, the report shows them) ---------------------------

def condition(name: str, limits: list[float | None]) -> str:
    """One parameter's range in a box: 'X > a', 'X < b' or 'a < X < b'; without a ``name``,
    the limits alone: '> a', '< b' or 'a to b'."""
    low, high = limits
    if low is not None and high is not None:
        return f"{low:.3g} < {name} < {high:.3g}" if name else f"{low:.3g} to {high:.3g}"
    side, value = (">", low) if low is not None else ("<", high)
    return f"{name} {side} {value:.3g}" if name else f"{side} {value:.3g}"


def box_text(box: dict[str, Any]) -> str:
    return " and ".join(condition(n, lim) for n, lim in box["limits"].items())


def sentences(disc: Discovery) -> list[str]:
    """The reading of a discovery, from its table (counts) and boxes (PRIM's statistics)."""
    s, t = disc.setup, disc.table
    prim = s["prim"]   # the settings it was found with (discovery.json)
    a, b, what = s["policy"], s["against"], kpis.declared(s["measure"]).label
    n, losing = len(t), int((~t["a_beats_b"]).sum())
    ties = int((t["difference"] == 0).sum())
    seeds = f"{s['seeds']} seed" + ("s" if s["seeds"] != 1 else "")
    draws = draws_note(n, s.get("particles"))
    where = f"the {n} plausible worlds (each a mean over {seeds}{'; ' + draws if draws else ''})"
    if disc.outcome == "no_loss":
        out = [f"{a} beats {b} on {what} in all {where}: the ranking never flips, so there is "
               "nothing to discover."]
    elif disc.outcome == "all_loss":
        out = [f"{a} loses to {b} on {what} in all {where}: no range of the parameters makes "
               f"{a} the better policy, so there is nothing to discover."]
    else:
        overall = (f"Across {where}, {a} loses to {b} on {what} in {losing} ({losing / n:.0%})"
                   + (f"; {ties} of them {'is a tie' if ties == 1 else 'are ties'}, counted as "
                      "losses" if ties else "") + ".")
        if disc.outcome == "no_box":
            out = [overall, f"PRIM finds no box of at most {prim['max_limits']} parameters "
                   f"with density of at least {s['threshold']:.0%} and coverage of at least "
                   f"{s['min_coverage']:.0%}: no ranges of "
                   f"{', '.join(s['parameters'])} set apart the worlds where {a} loses: they "
                   "are scattered (seed noise, or parameters the worlds do not vary), or lie in "
                   "several regions that PRIM's peeling cannot tell apart."]
        else:
            rule = ", or ".join(box_text(bx) for bx in disc.boxes)
            out = [f"{a} beats {b} on {what} unless {rule}.", overall,
                   *(_box_sentence(bx, t, a, losing) for bx in disc.boxes)]
            out += [f"Box {bx['box']} rests on {bx['losing']} losing world(s): it describes "
                    "them rather than shows a pattern; more worlds would tell."
                    for bx in disc.boxes if bx["losing"] < prim.get("few_losing", FEW_LOSING)]
            out += [f"Box {bx['box']}'s limit on {' and on '.join(weak)} is not significant on "
                    f"its own (quasi-p-value above {prim['quasi_p_limit']}): that part of the box "
                    "may fit noise." for bx in disc.boxes if (weak := insignificant(bx))]
    few = prim.get("few_worlds", FEW_WORLDS)
    if n < few and disc.outcome in ("boxes", "no_box"):
        out.append(f"Only {n} worlds: each world moves coverage and density by several points, "
                   f"so a box's limits are rough and a weak one may be missed; {few} or "
                   "more worlds make them firmer.")
    return out


def insignificant(box: dict[str, Any]) -> list[str]:
    """The parameters whose limit in ``box`` has a quasi-p-value above :data:`QP_LIMIT`."""
    return [name for name, sides in box["qp"].items()
            if max((v for v in sides if v is not None), default=0.0) > QP_LIMIT]


def _box_sentence(box: dict[str, Any], t: pd.DataFrame, a: str, losing: int) -> str:
    inside = t[t["box"] == box["box"]]
    lost = int((~inside["a_beats_b"]).sum())
    after = " (outside the boxes before it)" if box["box"] > 1 else ""
    return (f"Box {box['box']} ({box_text(box)}) holds {len(inside)} worlds{after}; {a} loses in "
            f"{lost} of them (density {box['density']:.0%}), which are {lost} of the {losing} "
            f"worlds where it loses (coverage {box['coverage']:.0%}).")


# --- writing -----------------------------------------------------------------------------

def write(disc: Discovery, out: str | Path) -> Path:
    """discovery.csv, trajectory.csv, discovery.png, then discovery.json (it identifies the
    directory, so a directory cut short is not taken for a finished one), each atomically.
    An earlier discovery's discovery.json and report.html in ``out`` are removed first: a
    write cut short leaves no directory that reads as finished or a report of another."""
    from experiments.lock import locked
    from model.figstyle import DPI, plt  # matplotlib only where the figure is drawn

    out = Path(out)
    check_out_dir(out, "discover")
    fig = figure(disc)
    record = {**disc.setup, "outcome": disc.outcome, "losing": int((~disc.table["a_beats_b"]).sum()),
              "boxes": disc.boxes, "sentences": sentences(disc)}
    try:
        with locked(out):
            for old in ("discovery.json", "report.html"):  # an earlier discovery's
                (out / old).unlink(missing_ok=True)
            atomic_write(out / "discovery.csv", lambda tmp: disc.table.to_csv(tmp, index=False))
            atomic_write(out / "trajectory.csv",
                         lambda tmp: disc.trajectory.to_csv(tmp, index=False))
            atomic_write(out / "discovery.png",
                         lambda tmp: fig.savefig(tmp, format="png", dpi=DPI))
            write_json(out / "discovery.json", record)
    except OSError as e:
        raise write_error(out, e) from None
    finally:
        plt.close(fig)
    return out


def read(directory: str | Path) -> Discovery:
    """A discovery as ``write`` left it in ``directory``."""
    d = Path(directory)
    record = json.loads((d / "discovery.json").read_text())
    trajectory = pd.read_csv(d / "trajectory.csv")
    setup = {k: v for k, v in record.items() if k not in ("outcome", "losing", "boxes", "sentences")}
    return Discovery(setup, pd.read_csv(d / "discovery.csv"), record["boxes"], trajectory)


# --- the figure ----------------------------------------------------------------------------

SHOWN_PARAMETERS = 10   # rows of the left panel at most: the boxes' parameters first


def figure(disc: Discovery) -> Any:
    """Left: every world on each parameter's range (A loses: vermilion crosses; A beats B:
    blue dots) with the boxes' limits shaded. Right: PRIM's peeling trajectories, coverage
    against density, with the thresholds and the boxes taken."""
    from model.figstyle import GREY, OKABE_ITO, plt, style

    s, t = disc.setup, disc.table
    restricted = list(dict.fromkeys(n for bx in disc.boxes for n in bx["limits"]))
    shown = (restricted + [p for p in s["parameters"] if p not in restricted])[:SHOWN_PARAMETERS]
    with style():
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 1.0 + 0.55 * max(len(shown), 5)),
                                          width_ratios=[3, 2], layout="constrained")
        _worlds_panel(left, disc, shown[::-1], OKABE_ITO, GREY)
        _trajectory_panel(right, disc, OKABE_ITO, GREY)
        fig.suptitle(f"Where {s['policy']} does not beat {s['against']} on "
                     f"{kpis.declared(s['measure']).label} ({len(t)} plausible worlds)")
    return fig


def _worlds_panel(ax: Any, disc: Discovery, rows: list[str], colours: tuple[str, ...],
                  grey: str) -> None:
    s, t = disc.setup, disc.table
    jitter = np.random.default_rng(0).uniform(-0.18, 0.18, len(t))  # display only
    loses = ~t["a_beats_b"].to_numpy()
    for y, name in enumerate(rows):
        low, high = s["ranges"][name]
        pos = (t[name].to_numpy(float) - low) / (high - low)
        ax.plot([0, 1], [y, y], color=grey, lw=0.8, zorder=1)
        for bx in disc.boxes:
            lim = bx["limits"].get(name)
            if lim is not None:
                lo = 0.0 if lim[0] is None else (lim[0] - low) / (high - low)
                hi = 1.0 if lim[1] is None else (lim[1] - low) / (high - low)
                ax.fill_between([lo, hi], y - 0.32, y + 0.32, color=colours[1], alpha=0.35,
                                lw=0, zorder=0)
                ax.text((lo + hi) / 2, y + 0.36, f"box {bx['box']}: {condition('', lim)}",
                        ha="center", va="bottom", fontsize=9)
        ax.scatter(pos[~loses], y + jitter[~loses], s=16, color=colours[0], zorder=2,
                   label=f"{s['policy']} beats {s['against']}" if y == 0 else None)
        ax.scatter(pos[loses], y + jitter[loses], s=26, marker="x", color=colours[3], zorder=3,
                   label=f"{s['policy']} does not" if y == 0 else None)
        ax.text(-0.02, y, f"{low:.3g}", ha="right", va="center", fontsize=9)
        ax.text(1.02, y, f"{high:.3g}", ha="left", va="center", fontsize=9)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlim(-0.12, 1.12)
    ax.set_xticks([])
    ax.set_xlabel("position in the range of the worlds' values (lowest … highest)")
    ax.set_title("Worlds and the boxes' limits (shaded)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False)


def _trajectory_panel(ax: Any, disc: Discovery, colours: tuple[str, ...], grey: str) -> None:
    s, traj = disc.setup, disc.trajectory
    if traj.empty:
        ax.text(0.5, 0.5, "PRIM not run:\n" + {"no_loss": "A beats B in every world",
                                                "all_loss": "A beats B in no world"}.get(
                    disc.outcome, "no worlds"), ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    for number, part in traj.groupby("box"):
        colour = colours[(int(number) - 1) % len(colours)]
        ax.plot(part["coverage"], part["density"], marker="o", ms=3, lw=1, color=colour,
                label=f"trajectory of box {int(number)}")
        chosen = part[part["chosen"].astype(bool)]
        if len(chosen):
            ax.scatter(chosen["coverage"], chosen["density"], s=140, marker="*", color=colour,
                       edgecolor="black", zorder=3, label=f"box {int(number)} taken")
    ax.axhline(s["threshold"], color=grey, ls="--", lw=1)
    ax.axvline(s["min_coverage"], color=grey, ls=":", lw=1)
    ax.text(0.02, s["threshold"], f" density ≥ {s['threshold']:.0%}", va="bottom", fontsize=9)
    ax.text(s["min_coverage"], 0.35, f" coverage ≥ {s['min_coverage']:.0%}", rotation=90,
            va="bottom", ha="right", fontsize=9)
    ax.set_xlim(0, 1.03)
    ax.set_ylim(0, 1.03)
    ax.set_xlabel("coverage (share of losing worlds inside)")
    ax.set_ylabel("density (share of box lost)")
    ax.set_title("PRIM's peeling trajectories")
    ax.legend(loc="lower left", fontsize=9)
