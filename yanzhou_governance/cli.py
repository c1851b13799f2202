"""Command line of the Yanzhou community-governance model: ``yanzhou-governance`` once
installed, ``python run.py`` in a checkout (the same commands).

    python run.py                      the baseline year at full scale, outputs in results/
    python run.py run --scenario NAME|PATH --set KEY=VALUE ... --seed N --days N --scale F --out DIR
    python run.py compare --scenarios a,b --seeds 3 --scale 0.25   scenarios side by side
    python run.py sweep --vary staffing_per_10k=18,24.5,43.9 --replicates 5 --out DIR
    python run.py staffing --total 598 --rules uniform,proportional,demand,optimized --out DIR
    python run.py budget --budget 5000000 --step 0.25 --out DIR   staff vs funding vs seasonal staff
    python run.py sensitivity --problem staffing_funding_influx --method sobol --n 64 --out DIR
    python run.py discover DIR --policy A --against B --out DIR2   where the ranking flips
    python run.py report DIR [--out FILE]   one self-contained HTML report of an output directory
    python run.py calibrate [--write]  fit the free base rates to F3 and F4 (docs/calibration.md)
    python run.py calibrate --method abc --particles 100 --generations 5 --out DIR   ABC posterior
    python run.py validate --seeds 5 --scale 0.25 --out DIR   patterns not used in calibration
    python run.py dashboard [--port P] the what-if dashboard on 127.0.0.1 (the [dashboard] extra)
    python run.py params               every parameter with its default, range and source
    python run.py scenarios            the shipped scenarios
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from analysis import problem as analysis_problems
from analysis.scenario_discovery import DENSITY, MIN_COVERAGE
from experiments import plan_limits
from experiments.budget import DEFAULT_OBJECTIVES as BUDGET_OBJECTIVES
from experiments.executors import ExperimentError
from experiments.interrupt import exit_status, stopping_signals_interrupt
from experiments.lock import locked
from experiments.outdir import check_out_dir, check_out_file, write_error
from experiments.regret import ROBUST
from experiments.store import atomic_write
from experiments.sweep import with_run_settings
from model import scenarios, study
from model.kpis import REPRESENTATIVE_SCALE, fmt, kpi_keys, kpis, label, objectives
from model.params import FIELDS, GROUP_OF, ParameterError, checked, describe, shorten

DEFAULT_OUT = Path("results")

def kpi_table(summary: dict[str, Any]) -> str:
    """The KPI rows of model/kpis.py, one measure a line: label and value in its format."""
    values = kpis(summary)
    width = max(len(label(key)) for key in values)
    lines = [f"{summary['scenario']} (seed {summary['seed']}, scale {summary['scale']}, "
             f"{summary['days']} days)"]
    for key, v in values.items():
        lines.append(f"  {label(key):<{width}}  {'n/a' if v is None else fmt(key).format(v)}")
    return "\n".join(lines)


class StoreOnce(argparse.Action):
    """Store an option's value, refusing the option given twice (argparse would silently keep
    the last one, as a repeated ``--set`` key is refused)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        given = namespace.__dict__.setdefault("_given", set())
        if self.dest in given:
            parser.error(f"argument {option_string}: given twice; give it once")
        given.add(self.dest)
        setattr(namespace, self.dest, values)


class OneLineParser(argparse.ArgumentParser):
    """argparse with the project's one-line errors: the message and where to find help,
    without the usage block (exit status 2, as argparse); no abbreviated options (``--sca``
    is refused, not taken for ``--scale``); a single-valued option given twice is refused."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        if kwargs.get("action") is None and args and args[0].startswith("-"):
            kwargs["action"] = StoreOnce
        return super().add_argument(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def _at_least(lowest: int) -> Callable[[str], int]:
    """An argparse type: an integer not below ``lowest``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
        if value < lowest:
            raise argparse.ArgumentTypeError(f"{value} is too small; allowed: {lowest} or more")
        return value
    return parse


MAX_SEED = 2**64 - 1  # numpy's SeedSequence takes more, but a seed is shown in titles and names


def _seed(text: str) -> int:
    """An argparse type: a seed, 0 to 2**64 - 1."""
    value = _at_least(0)(text)
    if value > MAX_SEED:
        raise argparse.ArgumentTypeError(f"{value} is too large; allowed: 0 to {MAX_SEED}")
    return value


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1024 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not allowed; allowed: a port from 1024 "
                                         "to 65535")
    return port


def _setting(name: str) -> Callable[[str], Any]:
    """An argparse type: a value of parameter ``name`` (``--scale``, ``--days``) checked
    against the schema's type and range as it is read, before anything runs."""
    def parse(text: str) -> Any:
        try:
            return checked(name, text)
        except ParameterError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    return parse


def _names(text: str) -> list[str]:
    """An argparse type: a comma-separated list of distinct, non-empty names."""
    names = [n.strip() for n in text.split(",")]
    if "" in names:
        raise argparse.ArgumentTypeError(f"empty name in '{text}'; expected NAME,NAME,...")
    twice = next((n for n in names if names.count(n) > 1), None)
    if twice:
        raise argparse.ArgumentTypeError(f"'{twice}' is listed twice in '{text}'")
    return names


def parse_sets(items: list[str], option: str = "--set") -> dict[str, Any]:
    """``--set KEY=VALUE`` options (or another ``option`` of that form) as typed values, each
    key and value checked against the schema at once; a key given twice is refused rather
    than the last one silently kept."""
    texts: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(f"{option} expects KEY=VALUE, got '{item}'")
        if key in texts:
            raise ParameterError(f"{option}: parameter '{key}' is given twice ('{texts[key]}', "
                                 f"then '{value.strip()}'); give it once")
        texts[key] = value.strip()
    return {key: checked(key, text, where=option) for key, text in texts.items()}


def overrides_from(args: argparse.Namespace) -> dict[str, Any]:
    """``--set`` values plus ``--scale`` and ``--days``; a setting given both ways is refused."""
    return with_run_settings(parse_sets(args.set), args.scale, args.days)


def scale_note(scale: float | None) -> None:
    """Warn (stderr) when the scale leaves each street one or two communities."""
    if scale is not None and scale < REPRESENTATIVE_SCALE:
        print(f"note: at scale {scale} each street has only one or two communities; "
              "district-wide rates are comparable with scale 1.0, per-street and per-community "
              f"results need scale >= {REPRESENTATIVE_SCALE}", file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    from model import GovernanceModel
    from model.outputs import write

    scenario = scenarios.load(args.scenario, overrides_from(args))
    plan_limits.check_memory([scenario.params], workers=1)
    check_out_dir(args.out, "run", force=args.force,
                  same_run={"seed": args.seed, "params": scenario.params.to_dict()})
    with locked(args.out):  # no other process writes there meanwhile
        scale_note(scenario.params.scale)  # once every check passed: an error stays one line
        model = GovernanceModel(scenario.params, seed=args.seed)
        model.run(progress=not args.quiet)
        summary = {**model.summary, "scenario": scenario.name}  # summarised as the run ended
        try:
            out = write(model, summary, Path(args.out), scenario.values)
        except OSError as e:
            raise write_error(Path(args.out), e) from None
    print(kpi_table(summary))
    print(f"outputs written to {out}/")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Scenarios side by side: mean, sd and 95 % CI of the KPIs over replicate seeds, one set
    per scenario given (kept apart by position even when two files share a name)."""
    from itertools import combinations

    import pandas as pd

    from experiments import run_sets
    from experiments.aggregate import group_table, paired_differences, paired_text, table
    from experiments.worlds import draw_worlds, in_k_worlds, in_worlds, worlds_meta
    from model.calibration import replicate_seeds

    entries = _reference_first(args.scenarios, args.reference)  # non-empty, distinct (_names)
    overrides = overrides_from(args)
    loaded = [scenarios.load(n, overrides) for n in entries]  # validate all before running any
    drawn = draw_worlds(args.posterior, args.worlds, args.seed, args.replace)
    if drawn:
        in_worlds([s.params for s in loaded], drawn)  # a clash refused before anything runs
    k = len(drawn or [None])
    for j, i in combinations(range(len(loaded)), 2):
        if loaded[i].params == loaded[j].params:  # the same runs twice would count double
            raise ParameterError(f"--scenarios: '{entries[i]}' (entry {i + 1}) has the same "
                                 f"parameters as '{entries[j]}' (entry {j + 1}); give each "
                                 "scenario once")
    names = [s.name for s in loaded]
    labels = [f"{s.name} ({e})" if names.count(s.name) > 1 else s.name
              for s, e in zip(loaded, entries, strict=True)]
    runs_planned = len(loaded) * k * args.seeds
    plan_limits.check_runs(runs_planned, f"{len(loaded)} scenarios{in_k_worlds(drawn)} × "
                           f"{args.seeds:,} seeds", "lower --seeds" + (" or --worlds" if drawn
                                                                       else ""))
    plan_limits.check_memory([s.params for s in loaded], plan_limits.local_workers(args.workers, None),
                             runs_planned)
    out = check_out_dir(args.out, "compare")
    with locked(out):  # one process at a time, from the first run to the last file
        runs = run_sets([s.params for s in loaded], replicate_seeds(args.seeds, args.seed), out,
                        workers=args.workers, progress=not args.quiet, worlds=drawn)
        if (runs["status"] != "done").any():
            raise ExperimentError(f"some runs failed: see {out}/failed/")
        summaries = [json.loads(text) for text in runs["summary_json"]]
        worlds = runs["world"] if drawn else [None] * len(runs)
        df = pd.DataFrame([{"set_id": i, "scenario": labels[i], "source": entries[i],
                            **({"world": w} if drawn else {}), "seed": seed, **kpis(summary)}
                           for i, w, seed, summary in zip(runs["set_id"], worlds, runs["seed"],
                                                          summaries, strict=True)])
        measures = list(kpi_keys())
        per_set = group_table(df, "set_id", measures)
        per_set.insert(1, "scenario", [labels[i] for i in per_set["set_id"]])
        per_set.insert(2, "source", [entries[i] for i in per_set["set_id"]])
        paired = paired_differences(df, "scenario", labels[0], measures)
        atomic_write(out / "compare_runs.csv", lambda tmp: df.to_csv(tmp, index=False))
        atomic_write(out / "compare.csv", lambda tmp: per_set.to_csv(tmp, index=False))
        atomic_write(out / "paired.csv", lambda tmp: paired.to_csv(tmp, index=False))
        if drawn:
            atomic_write(out / "worlds.json", lambda tmp: tmp.write_text(
                json.dumps(worlds_meta(args.posterior, drawn, args.replace), indent=1), encoding="utf-8"))
    print(paired_text(paired, "scenario", drawn=drawn))
    print(table(per_set, ["scenario"], measures))
    scale_note(min(sc.params.scale for sc in loaded))
    print(f"written to {out}/compare.csv")
    return 0


def _drawn(out: str | Path) -> list[dict[str, Any]] | None:
    """The plausible worlds an experiment directory's manifest lists (None without)."""
    return json.loads((Path(out) / "manifest.json").read_text(encoding="utf-8")).get("worlds")


def cmd_sweep(args: argparse.Namespace) -> int:
    """A factorial and/or design-table sweep with replicates (docs/experiments.md)."""
    import experiments
    from experiments.aggregate import paired_text, table

    runs = experiments.sweep(
        args.scenario, vary=args.vary, design=args.design, replicates=args.replicates,
        workers=args.workers, dask=args.dask, scale=args.scale, days=args.days, seed=args.seed,
        fixed=parse_sets(args.set), series=args.series, out=args.out, progress=not args.quiet,
        posterior=args.posterior, worlds=args.worlds, replace=args.replace,
        reference=parse_sets(args.reference, "--reference"))
    import pandas as pd

    varied = runs.attrs["varied"]
    paired = pd.read_csv(Path(args.out) / "paired.csv")
    print(paired_text(paired.assign(  # each side named by its parameter's value
        set=paired["parameter"] + " = " + paired["value"].astype(str),
        reference=paired["parameter"] + " = " + paired["reference"].astype(str)), "set",
        drawn=_drawn(args.out)))
    print(table(pd.read_csv(Path(args.out) / "aggregate.csv"), varied))  # as written
    failed = int((runs["status"] != "done").sum())
    if not args.vary and not args.design:  # said after the checks: an error stays one line
        print("note: no --vary or --design: the scenario alone, with replicates", file=sys.stderr)
    scale_note(float(runs["scale"].min()))
    print(f"{len(runs)} runs, {failed} failed; written to {args.out}/ "
          "(summary.parquet, aggregate.csv, manifest.json, sweep_*.png)")
    return 1 if failed else 0


def cmd_staffing(args: argparse.Namespace) -> int:
    """Allocation rules for a fixed headcount, side by side (docs/experiments.md)."""
    from experiments.aggregate import paired_text, table
    from experiments.staffing_allocation import compare_staffing

    result = compare_staffing(
        total=args.total, rules=args.rules, replicates=args.replicates, objective=args.objective,
        scenario=args.scenario, scale=args.scale, days=args.days, seed=args.seed,
        workers=args.workers, dask=args.dask, step=args.step, out=args.out,
        progress=not args.quiet, reference=args.reference, posterior=args.posterior,
        worlds=args.worlds, replace=args.replace, robust=args.robust or "max")
    import pandas as pd

    from analysis.reports.bottom import robust_sentences

    print(paired_text(pd.read_csv(Path(args.out) / "paired.csv"), "rule",
                      drawn=_drawn(args.out)))
    print(table(result, ["rule"]))
    robust = Path(args.out) / "robust.json"
    if robust.is_file():
        print(" ".join(robust_sentences(json.loads(robust.read_text()))))
    elif args.robust:
        print(f"note: --robust {args.robust}: no regret without plausible worlds (--posterior "
              "FILE --worlds K): in one world the rule best on average has no regret",
              file=sys.stderr)
    scale_note(args.scale)  # after the checks: an error stays one line
    print(f"written to {args.out}/staffing.csv, staffing_allocation.csv, staffing.png"
          + (", regret.csv and robust.json" if robust.is_file() else ""))
    return 1 if result["failed"].any() else 0


def cmd_budget(args: argparse.Namespace) -> int:
    """A fixed extra budget split over staff, funding and seasonal staff (docs/experiments.md)."""
    from experiments.aggregate import paired_text, table
    from experiments.budget import compare_budget, measured, name

    result = compare_budget(
        args.budget, mixes=args.mixes, step=args.step, objectives=args.objective,
        reference=args.reference, replicates=args.replicates, scenario=args.scenario,
        scale=args.scale, days=args.days, seed=args.seed, workers=args.workers, dask=args.dask,
        out=args.out, progress=not args.quiet, posterior=args.posterior, worlds=args.worlds,
        replace=args.replace)
    import pandas as pd

    best = pd.read_csv(Path(args.out) / "best.csv")
    print(paired_text(pd.read_csv(Path(args.out) / "paired.csv"), "mix",
                      list(best["objective"]), drawn=_drawn(args.out)))
    print(table(result, ["mix"], measured(list(best["objective"]))))
    for b in best.itertuples():  # no best mix when no run gave the objective a value
        print(f"no mix has a value for {label(b.objective)}" if pd.isna(b.best_mix) else
              f"best on {b.objective}: {name(b.best_mix)} ({b.best_mix})")
    scale_note(args.scale)  # after the checks: an error stays one line
    print(f"written to {args.out}/budget.csv, best.csv, paired.csv and budget.png")
    return 1 if result["failed"].any() else 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """SALib sensitivity analysis of a problem file (docs/sensitivity.md)."""
    from analysis import sensitivity

    problem = analysis_problems.load(args.problem).with_settings(
        scale=args.scale, days=args.days, replicates=args.replicates, n=args.n, seed=args.seed)
    if problem.n is None:
        raise ParameterError(f"no N: give --n or n = ... in {problem.path}")
    result = sensitivity.run(problem, args.method, problem.n, args.out, workers=args.workers,
                             dask=args.dask, progress=not args.quiet)
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_rows", 200):
        print(result.indices.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(result.noise.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    for output, share in zip(result.noise["output"], result.noise["seed_noise_share"], strict=True):
        if share >= sensitivity.NOISE_WARNING:
            print(f"warning: seed noise is {share:.0%} of the variance of {output}: its indices "
                  "partly measure noise; raise --replicates or --scale", file=sys.stderr)
    print(f"written to {args.out}/ (indices.csv, convergence.csv, noise.csv, samples.csv, "
          "manifest.json, figures); `python run.py report` makes it a page")
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    """Which assumptions decide the ranking of two policies: PRIM on the plausible worlds
    (analysis/scenario_discovery.py)."""
    from analysis import scenario_discovery as sd

    check_out_dir(args.out, "discover")
    disc = sd.discover(args.dir, args.policy, args.against, args.measure, args.threshold,
                       args.min_coverage)
    out = sd.write(disc, args.out)
    print("\n".join(sd.sentences(disc)))
    print(f"written to {out}/ (discovery.json, discovery.csv, trajectory.csv, discovery.png); "
          "`python run.py report` makes it a page")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """One self-contained HTML report of an output directory (docs/experiments.md)."""
    from analysis import write_report

    if args.out is not None:
        check_out_file(args.out)
    print(f"report written to {write_report(args.dir, args.out)}")
    return 0


ABC_ONLY = ("particles", "generations", "days", "seed", "params", "out", "dask")
FIXED_POINT_ONLY = ("seeds", "write")
ABC_DEFAULTS = {"particles": 100, "generations": 5, "scale": 0.1, "days": 365, "seed": 2021,
                "out": "results/abc"}


def cmd_calibrate(args: argparse.Namespace) -> int:
    own, other = ((FIXED_POINT_ONLY, "abc") if args.method == "fixed-point"
                  else (ABC_ONLY, "fixed-point"))
    for name in ABC_ONLY + FIXED_POINT_ONLY:
        if name in getattr(args, "_given", set()) and name not in own:
            allowed = ", ".join(f"--{n}" for n in (*own, "scale", "workers"))
            raise ParameterError(f"--{name} applies to --method {other} only, not "
                                 f"--method {args.method}; allowed with it: {allowed}")
    if args.method == "abc":
        return calibrate_abc(args)
    from model import calibration

    scale = 1.0 if args.scale is None else args.scale
    params = scenarios.load("baseline", {"scale": scale}).params
    runs = args.seeds * calibration.MAX_ROUNDS
    plan_limits.check_runs(runs, f"calibrate: up to {calibration.MAX_ROUNDS} rounds × "
                           f"{args.seeds:,} seeds", "lower --seeds")
    plan_limits.check_memory([params], args.workers, runs)
    calibration.main(seeds=args.seeds, scale=scale, workers=args.workers, write=args.write)
    return 0


def calibrate_abc(args: argparse.Namespace) -> int:
    """ABC-SMC of the calibrated parameters with pyabc (docs/calibration.md), resumable."""
    from model import abc_calibration

    settings = {k: ABC_DEFAULTS[k] if getattr(args, k) is None else getattr(args, k)
                for k in ABC_DEFAULTS}
    names = abc_calibration.check_names(args.params or list(abc_calibration.DEFAULT_PARAMS))
    params = scenarios.load("baseline", {"scale": settings["scale"],
                                         "days": settings["days"]}).params
    plan_limits.check_memory([params], args.workers)
    out = check_out_dir(settings["out"], "calibrate")
    abc_calibration.check_resume(out, abc_calibration.run_config(
        names, *(settings[k] for k in ("particles", "scale", "days", "seed"))))
    args.resumable = True  # an interrupted run keeps its finished generations
    with locked(out):
        scale_note(settings["scale"])  # once every check passed: an error stays one line
        history = abc_calibration.run(out, names, settings["particles"], settings["generations"],
                                      settings["scale"], settings["days"], settings["seed"],
                                      workers=args.workers, dask=args.dask)
    info = json.loads((out / "abc_summary.json").read_text())
    for name, p in info["parameters"].items():
        lo, hi = p["ci90"]
        print(f"{name:<24} mean {p['mean']:.5g}  90 % interval [{lo:.5g}, {hi:.5g}]")
    print(f"{history.n_populations} generation(s), {info['total_simulations']} simulations; "
          f"written to {out}/ ({', '.join(abc_calibration.OUTPUTS)}, {abc_calibration.DB_NAME})")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Patterns of the study not used in calibration, PASS/FAIL over replicate seeds
    (model/validation.py; docs/calibration.md)."""
    from model import posterior, validation
    from model.calibration import replicate_seeds
    from model.params import Params

    seeds = replicate_seeds(args.seeds, args.seed)
    base = scenarios.load(args.scenario, {"scale": args.scale})
    if args.posterior is None:
        param_sets = [base.params] * len(seeds)
    else:
        post = posterior.load_posterior(args.posterior)
        drawn = posterior.draw(post, len(seeds), args.seed)
        values = base.params.to_dict()
        try:
            param_sets = [Params(**{**values, **d}) for d in drawn]
        except ParameterError as e:
            raise ParameterError(f"--posterior '{args.posterior}': a drawn particle with "
                                 f"scenario '{args.scenario}' is not allowed: {e}") from None
    plan_limits.check_memory(param_sets[:1], plan_limits.local_workers(args.workers, None),
                             len(seeds))
    out = check_out_dir(args.out, "validate")
    with locked(out):
        scale_note(args.scale)  # once every check passed: an error stays one line
        result, per_run, fit = validation.run_patterns(param_sets, seeds, workers=args.workers)
        title = (f"Validation of '{base.name}' ({len(seeds)} seeds, scale {args.scale:g}"
                 + (f", parameters drawn from {args.posterior}" if args.posterior else "") + ")")
        out.mkdir(parents=True, exist_ok=True)
        try:
            atomic_write(out / "validation_runs.csv", lambda tmp: per_run.to_csv(tmp, index=False))
            atomic_write(out / "validation.csv", lambda tmp: result.to_csv(tmp, index=False))
            atomic_write(out / "targets.csv", lambda tmp: fit.to_csv(tmp, index=False))
            atomic_write(out / "validation.md",
                         lambda tmp: tmp.write_text(validation.markdown(result, title, fit),
                                                    encoding="utf-8"))
        except OSError as e:
            raise write_error(out, e) from None
    print(title)
    print(validation.text_table(result))
    print("The calibration's targets on these seeds:")
    print(validation.fit_text(fit))
    print(f"written to {out}/ (validation.csv, targets.csv, validation.md, validation_runs.csv)")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    from dashboard import server  # Solara is imported only here: the rest works without it

    return server.serve(args.port)


def cmd_params(args: argparse.Namespace) -> int:
    print("Every parameter: default (type, allowed values; source): meaning. Sources F1-F19, "
          "P1-P12 and policies 1-8 are the Yanzhou study's figures, problems and policies, "
          f"restated in {study.FACTS_PAGE}.")
    group = None
    for name in FIELDS:
        if GROUP_OF[name] != group:
            group = GROUP_OF[name]
            print(f"\n[{group}]")
        print(describe(name))
    return 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    for name in scenarios.available():
        s = scenarios.load(name)
        print(f"{name:<20} {s.description}")
    return 0


def _reference_first(entries: list[str], reference: str | None) -> list[str]:
    """The scenarios with the one the others are paired against first (the first by default)."""
    if reference is None:
        return entries
    if reference not in entries:
        raise ParameterError(f"--reference '{reference}' is not among --scenarios; allowed: "
                             f"{', '.join(entries)}")
    return [reference, *(e for e in entries if e != reference)]


def _worlds_options(cmd: argparse.ArgumentParser) -> None:
    """--posterior FILE and --worlds K: every policy run in K plausible worlds."""
    cmd.add_argument("--posterior", default=None, metavar="FILE",
                     help="particles: 'baseline' (the shipped calibration's), posterior.parquet "
                     "of `calibrate --method abc`, or any parquet of parameter columns and "
                     "'weight'; needs --worlds")
    cmd.add_argument("--worlds", type=_at_least(1), default=None, metavar="K",
                     help="plausible worlds drawn from --posterior by weight, distinct particles "
                     "(at most as many as it has): every policy runs in each on the same seeds "
                     "(docs/experiments.md)")
    cmd.add_argument("--replace", action="store_true",
                     help="draw the worlds with replacement (a particle may be drawn more than "
                     "once; allows more worlds than particles)")


def _experiment_options(cmd: argparse.ArgumentParser, replicates: int, out: str) -> None:
    cmd.add_argument("--replicates", type=_at_least(1), default=replicates,
                     help=f"replicate seeds per parameter set (default {replicates})")
    cmd.add_argument("--seed", type=_seed, default=2021,
                     help="base seed; replicate seeds are SeedSequence(seed).spawn(R) (default 2021)")
    _engine_options(cmd, out)


def _engine_options(cmd: argparse.ArgumentParser, out: str,
                    defaults: tuple[str, str] = ("1.0", "365")) -> None:
    """Where and how runs execute: --workers, --dask, --scale, --days, --out, --quiet."""
    cmd.add_argument("--workers", type=_at_least(1), default=2,
                     help="local processes, or LocalCluster workers with --dask local (default 2)")
    cmd.add_argument("--dask", default=None, metavar="ADDRESS|local",
                     help="run on a Dask scheduler at ADDRESS, or 'local' for a LocalCluster")
    cmd.add_argument("--scale", type=_setting("scale"), default=None,
                     help=f"population scale (default {defaults[0]})")
    cmd.add_argument("--days", type=_setting("days"), default=None,
                     help=f"days per run (default {defaults[1]})")
    cmd.add_argument("--out", default=out, help=f"output directory (default {out})")
    cmd.add_argument("--quiet", action="store_true", help="no progress bar")


def program_name() -> str:
    """How the user called us, for help and error messages."""
    called = Path(sys.argv[0]).name
    return called if called == "yanzhou-governance" else "run.py"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=program_name(), description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="simulate one scenario and write its outputs",
                         description="Simulate one scenario and write summary.json, "
                         "timeseries.parquet, cases.parquet and PNG plots to --out.")
    run.add_argument("--scenario", default="baseline",
                     help="scenario name in model/scenario_files/ or path to a .toml file "
                     f"(shipped: {', '.join(scenarios.available())})")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a parameter (repeatable); `python run.py params` lists them")
    run.add_argument("--seed", type=_seed, default=1, help="random seed (default 1)")
    run.add_argument("--days", type=_setting("days"), default=None,
                     help="days to simulate (default 365)")
    run.add_argument("--scale", type=_setting("scale"), default=None,
                     help="population scale; 1.0 = 244,000 residents (default 1.0)")
    run.add_argument("--out", default=str(DEFAULT_OUT), help="output directory (default results)")
    run.add_argument("--force", action="store_true",
                     help="replace another run's outputs in --out (the same run is replaced "
                     "without it)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)

    cal = sub.add_parser("calibrate", help="fit case_rate_scale, rate_property and case_time_share "
                         "to F3, F4 and the assumed utilisation (fixed point), or approximate "
                         "their posterior by ABC-SMC (--method abc)",
                         description="--method fixed-point (default): fit the three free base "
                         "rates and, with --write, write them to baseline.toml. --method abc: "
                         "ABC-SMC (pyabc) of the calibrated parameters against F3 and F4 into "
                         "--out (abc.db, posterior.parquet, convergence.csv, figures, "
                         "abc_summary.json); the same command on the same --out resumes.")
    cal.add_argument("--method", choices=("fixed-point", "abc"), default="fixed-point",
                     help="fixed-point (default) or abc")
    cal.add_argument("--seeds", type=_at_least(2), default=5,
                     help="fixed-point: seeds averaged (default 5)")
    cal.add_argument("--scale", type=_setting("scale"), default=None,
                     help="population scale (default 1.0; abc: 0.1)")
    cal.add_argument("--workers", type=_at_least(1), default=2, help="parallel processes (default 2)")
    cal.add_argument("--write", action="store_true",
                     help="fixed-point: write the fitted values into model/scenario_files/baseline.toml and "
                     "docs/calibration.md (tracked files); without it, fit and print only")
    cal.add_argument("--particles", type=_at_least(2), default=None,
                     help=f"abc: particles per generation (default {ABC_DEFAULTS['particles']})")
    cal.add_argument("--generations", type=_at_least(1), default=None,
                     help=f"abc: generations in all, those already in --out included (default "
                     f"{ABC_DEFAULTS['generations']})")
    cal.add_argument("--days", type=_setting("days"), default=None,
                     help="abc: days per simulation (default 365)")
    cal.add_argument("--seed", type=_seed, default=None,
                     help="abc: seed of the whole run (default 2021)")
    cal.add_argument("--params", type=_names, default=None, metavar="NAME,NAME,...",
                     help="abc: parameters to calibrate (default: the ten that move F3 and F4 "
                     "most, with case_time_share and patience_days; docs/calibration.md)")
    cal.add_argument("--dask", default=None, metavar="ADDRESS|local",
                     help="abc: run the particles on a Dask scheduler at ADDRESS, or 'local' for "
                     "a LocalCluster of --workers processes (same posterior as local processes)")
    cal.add_argument("--out", default=None, help="abc: output directory (default results/abc)")
    cal.set_defaults(func=cmd_calibrate)

    cmp = sub.add_parser("compare", help="run scenarios over replicate seeds and tabulate KPIs")
    # cmd_compare splits the text itself: the names are checked here and passed on joined
    cmp.add_argument("--scenarios", default=",".join(scenarios.available()),
                     type=_names,
                     help="comma-separated scenario names or paths (default: all shipped)")
    cmp.add_argument("--seeds", type=_at_least(1), default=3, help="replicates per scenario (default 3)")
    cmp.add_argument("--seed", type=_seed, default=2021,
                     help="base seed; replicate seeds come from SeedSequence(seed).spawn(n)")
    cmp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    cmp.add_argument("--days", type=_setting("days"), default=None)
    cmp.add_argument("--scale", type=_setting("scale"), default=None)
    cmp.add_argument("--workers", type=_at_least(1), default=2)
    cmp.add_argument("--reference", default=None, metavar="SCENARIO",
                     help="the scenario (as given in --scenarios) the others are paired "
                     "against (default the first)")
    _worlds_options(cmp)
    cmp.add_argument("--out", default="results/compare")
    cmp.add_argument("--quiet", action="store_true")
    cmp.set_defaults(func=cmd_compare, resumable=True)

    swp = sub.add_parser("sweep", help="parameter sweep with replicates, resumable, local or Dask",
                         description="Run a scenario over a full factorial (--vary) and/or a "
                         "design table (--design), R replicates per parameter set; finished runs "
                         "in --out are reused, so the same command resumes a killed sweep.")
    swp.add_argument("--scenario", default="baseline", help="base scenario name or path")
    swp.add_argument("--vary", action="append", default=[], metavar="KEY=V1,V2,...",
                     help="values of one parameter (repeatable; full factorial)")
    swp.add_argument("--design", default=None, metavar="FILE.csv",
                     help="design table: a header of parameter names, one row per set")
    swp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="fixed override for every run (repeatable)")
    _experiment_options(swp, replicates=3, out="results/sweep")
    swp.add_argument("--series", action="store_true", help="also store each run's daily series")
    swp.add_argument("--reference", action="append", default=[], metavar="KEY=VALUE",
                     help="the value of a varied parameter its other values are paired against "
                     "(repeatable; default each parameter's lowest)")
    _worlds_options(swp)
    swp.set_defaults(func=cmd_sweep, resumable=True)

    stf = sub.add_parser("staffing", help="compare staff allocation rules for a fixed headcount",
                         description="Compare how a fixed headcount of community staff is split "
                         "over communities: uniform (F9), proportional, demand, optimized.")
    stf.add_argument("--total", type=_at_least(1), default=598,
                     help="community staff at scale 1.0 (default 598 = 24.5 per 10,000, F5)")
    stf.add_argument("--rules", type=_names, default="uniform,proportional,demand,optimized",
                     help="comma-separated rules (default all four)")
    stf.add_argument("--objective", default="mean_days_to_close",
                     choices=objectives(), metavar="OBJECTIVE",
                     help="what the optimized rule minimises or maximises: "
                     f"{', '.join(objectives())}")
    stf.add_argument("--step", type=float, default=0.25,
                     help="initial step of the weight search (halved once; default 0.25)")
    stf.add_argument("--scenario", default="baseline", help="base scenario name or path")
    stf.add_argument("--reference", default=None, metavar="RULE",
                     help="the rule the others are paired against (default uniform, else the "
                     "first rule)")
    _worlds_options(stf)
    stf.add_argument("--robust", default=None, choices=tuple(ROBUST), metavar="{max,p90}",
                     help="with worlds: which regret across worlds the statement leads with, "
                     "the worst case (max, default) or the 90th percentile (p90)")
    _experiment_options(stf, replicates=5, out="results/staffing")
    stf.set_defaults(func=cmd_staffing, resumable=True)

    bud = sub.add_parser("budget", help="split a fixed extra budget over more staff, more "
                         "funding and seasonal staff for Longqiao's winter",
                         description="An extra yearly budget (yuan, at scale 1.0) split over "
                         "more community staff, more funding per community and seasonal staff "
                         "for Longqiao's heating season, on a lattice of shares (--step) or as "
                         "listed (--mixes); every mix and no extra spending on the same seeds, "
                         "paired differences and the best mix per objective "
                         "(docs/experiments.md, 'Budget').")
    bud.add_argument("--budget", type=float, required=True, metavar="YUAN",
                     help="extra yuan a year on top of today's spending")
    bud.add_argument("--mixes", default=None, metavar="S:F:W,...",
                     help="mixes as staff:funding:seasonal shares summing to 1, e.g. "
                     "1:0:0,0.5:0.5:0 (default: the lattice of --step)")
    bud.add_argument("--step", type=float, default=None,
                     help="lattice of shares in steps of STEP (default 0.25: 15 mixes)")
    bud.add_argument("--objective", default=BUDGET_OBJECTIVES, metavar="OBJECTIVE,...",
                     help=f"measures to find the best mix on (default {BUDGET_OBJECTIVES}): "
                     f"{', '.join(objectives())}")
    bud.add_argument("--reference", default=None, metavar="MIX",
                     help="the mix the others are paired against (default none: no extra "
                     "spending)")
    bud.add_argument("--scenario", default="baseline", help="base scenario name or path")
    _worlds_options(bud)
    _experiment_options(bud, replicates=5, out="results/budget")
    bud.set_defaults(func=cmd_budget, resumable=True)

    sen = sub.add_parser("sensitivity", help="SALib sensitivity analysis (Sobol, Morris, FAST) of "
                         "a problem file, resumable, local or Dask",
                         description="Sample the problem's parameters with SALib, run every "
                         "sample R times through the experiments engine (finished runs in "
                         "--out/runs are reused), and write indices.csv, convergence.csv "
                         "(N/2 and N), noise.csv (seed-noise share) and figures. Flags override "
                         "the problem file.")
    sen.add_argument("--problem", required=True, metavar="NAME|FILE.toml",
                     help="a problem in analysis/problems/ "
                     f"({', '.join(analysis_problems.available())}) or a path")
    sen.add_argument("--method", choices=("sobol", "morris", "fast"), default="sobol",
                     help="sobol (S1, ST, S2), morris (mu*, sigma) or fast (S1, ST); default sobol")
    sen.add_argument("--n", type=_at_least(1), default=None,
                     help="base sample size: Sobol N (power of 2), Morris trajectories, FAST "
                     "points per parameter (default: the problem file's n)")
    sen.add_argument("--replicates", type=_at_least(1), default=None,
                     help="seeds per sample, averaged (default: the problem file's)")
    sen.add_argument("--seed", type=_seed, default=None,
                     help="seed of the sample, the replicate seeds and the bootstrap "
                     "(default: the problem file's)")
    _engine_options(sen, out="results/sensitivity", defaults=("the problem's", "the problem's"))
    sen.set_defaults(func=cmd_sensitivity, resumable=True)

    dis = sub.add_parser("discover", help="which assumptions decide the ranking of two policies "
                         "(PRIM on the plausible worlds of compare, sweep or staffing)",
                         description="For each plausible world of DIR (run with --posterior "
                         "FILE --worlds K), whether --policy beats --against on --measure (mean "
                         "paired difference over the world's seeds); PRIM (EMA Workbench) finds "
                         "the ranges of the worlds' parameters where it does not. Writes "
                         "discovery.json, discovery.csv, trajectory.csv and discovery.png to --out.")
    dis.add_argument("dir", metavar="DIR", help="an output directory of compare, sweep or "
                     "staffing run with --posterior FILE --worlds K")
    dis.add_argument("--policy", required=True, metavar="A", help="the policy whose wins are "
                     "examined: a scenario (compare), a rule (staffing), KEY=VALUE (sweep)")
    dis.add_argument("--against", required=True, metavar="B", help="the policy it is compared with")
    dis.add_argument("--measure", default=None, metavar="MEASURE",
                     help="a measure with a better direction (default mean_days_to_close)")
    dis.add_argument("--threshold", type=float, default=DENSITY, metavar="DENSITY",
                     help="a box's minimum density: share of its worlds where A does not beat B "
                     f"(default {DENSITY})")
    dis.add_argument("--min-coverage", type=float, default=MIN_COVERAGE, metavar="SHARE",
                     help="a box's minimum coverage: share of all such worlds it holds "
                     f"(default {MIN_COVERAGE})")
    dis.add_argument("--out", default="results/discover", help="output directory (default "
                     "results/discover)")
    dis.set_defaults(func=cmd_discover)

    rep = sub.add_parser("report", help="one self-contained HTML report of an output directory",
                         description="Write one HTML file (figures embedded, no external links) "
                         "reading the results of a run, compare, sweep, staffing, budget, "
                         "sensitivity, calibrate --method abc, validate or discover output "
                         "directory; the kind is recognised by its files.")
    rep.add_argument("dir", metavar="DIR", help="an output directory of run, compare, sweep, "
                     "staffing, budget, sensitivity, calibrate --method abc, validate or "
                     "discover")
    rep.add_argument("--out", default=None, metavar="FILE",
                     help="the HTML file to write (default DIR/report.html)")
    rep.set_defaults(func=cmd_report)

    val = sub.add_parser("validate", help="check patterns of the study not used in calibration "
                         "(PASS/FAIL over replicate seeds)",
                         description="Run a scenario over replicate seeds (each with a parameter "
                         "set drawn from --posterior, if given) and check the patterns of "
                         "model/validation.py, none of them a calibration target; write "
                         "validation.csv, validation.md and validation_runs.csv to --out.")
    val.add_argument("--scenario", default="baseline",
                     help="scenario name or path to a .toml file (default baseline)")
    val.add_argument("--seeds", type=_at_least(2), default=5,
                     help="replicate seeds (default 5; at least 2)")
    val.add_argument("--seed", type=_seed, default=2021,
                     help="base seed; replicate seeds are SeedSequence(seed).spawn(n), the "
                     "posterior draws use it too (default 2021)")
    val.add_argument("--scale", type=_setting("scale"), default=0.25,
                     help="population scale (default 0.25: per-street patterns need it)")
    val.add_argument("--workers", type=_at_least(1), default=1,
                     help="local processes (default 1)")
    val.add_argument("--posterior", default=None, metavar="FILE",
                     help="particles ('baseline' for the shipped calibration's, or "
                     "posterior.parquet of `calibrate --method abc`): each seed runs with a "
                     "parameter set drawn from them by weight")
    val.add_argument("--out", default="results/validate", help="output directory (default "
                     "results/validate)")
    val.add_argument("--quiet", action="store_true", help="no progress output")
    val.set_defaults(func=cmd_validate)

    dash = sub.add_parser("dashboard", help="the what-if dashboard in the browser, on 127.0.0.1",
                          description="Start the what-if dashboard (Mesa SolaraViz) on "
                          "127.0.0.1 and print its address; Ctrl-C stops it. Needs the "
                          "[dashboard] extra (make dashboard).")
    dash.add_argument("--port", type=_port, default=8765, help="port (default 8765)")
    dash.set_defaults(func=cmd_dashboard)
    sub.add_parser("params", help="list every parameter with default, range and source"
                   ).set_defaults(func=cmd_params)
    sub.add_parser("scenarios", help="list the shipped scenarios").set_defaults(func=cmd_scenarios)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]  # `python run.py [options]` runs the (baseline) scenario
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse's one-line errors (2) and --help (0), returned as codes
        return int(e.code or 0)
    try:
        with stopping_signals_interrupt():  # SIGTERM, SIGHUP: as Ctrl-C
            return args.func(args)
    except (ParameterError, ExperimentError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a path the checks could not foresee (name too long, I/O error)
        where = f" '{shorten(str(e.filename))}'" if e.filename else ""
        print(f"error:{where} {e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        print("interrupted; finished runs are kept: run the same command again to resume"
              if getattr(args, "resumable", False) else "interrupted; nothing was written",
              file=sys.stderr)
        return exit_status(e)


if __name__ == "__main__":
    sys.exit(main())
