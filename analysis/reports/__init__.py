"""Reports (报告): any output directory of the tool as one self-contained HTML file — a reading
of the main results written from the numbers, the run settings, the parameters, the key tables
and every figure embedded, with inline CSS only (nothing fetched from elsewhere), readable on
screen and printable.

    python run.py report DIR [--out FILE]      # default DIR/report.html

The kind of directory is recognised by its files, in the order of ``KINDS`` (a staffing
directory also holds sweep files, so it is tested first): a run, a comparison, a sweep, a
staffing allocation, a sensitivity analysis, an ABC calibration, a validation or a scenario
discovery. Each kind has its module here (``build(directory) -> Page``); shared helpers are
in common.py, the HTML in html.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from experiments.executors import ExperimentError
from experiments.outdir import KINDS as OUTPUT_KINDS
from experiments.outdir import command, kind_of
from experiments.store import atomic_write
from model import kpis
from model.params import ParameterError

from . import calibration, compare, discovery, run, sensitivity, staffing, sweep, validation
from .html import Page, render


@dataclass(frozen=True)
class Kind:
    name: str
    files: tuple[str, ...]   # all must exist (experiments.outdir.KINDS, which commands check)
    command: str
    build: Callable[[Path], Page]


_BUILD = {"sensitivity": sensitivity.build, "staffing": staffing.build, "sweep": sweep.build,
          "compare": compare.build, "calibrate": calibration.build,
          "validate": validation.build, "discover": discovery.build, "run": run.build}
KINDS = tuple(Kind(name, files, f"python run.py {command(name)}", _BUILD[name])
              for name, files in OUTPUT_KINDS.items())
BUILDERS: dict[str, Callable[[Path], Page]] = {k.name: k.build for k in KINDS}
COMMANDS = {k.name: k.command for k in KINDS}

# What each kind's files must hold for a report to be read from them (a file cut short or
# written by something else would otherwise give a confident report of nothing):
# file -> (JSON: required keys | CSV: required columns); CSVs need at least one row. Each
# file must be there, except those of OPTIONAL (checked only when present).
REQUIRED = {
    "run": {"summary.json": ("scenario", "seed", "days", "scale", "category_shares")},
    "compare": {"compare.csv": ("scenario", "runs")},
    "sweep": {"manifest.json": ("scenario", "replicates", "varied", "runs"),
              "aggregate.csv": ("set_id", "runs")},
    "staffing": {"staffing.csv": ("rule", "runs")},
    "sensitivity": {"indices.csv": ("output", "parameter"),
                    "manifest.json": ("method",)},
    "calibrate": {"abc_summary.json": ("params", "particles", "generations", "parameters"),
                  "convergence.csv": ("generation", "epsilon", "acceptance_rate",
                                      "effective_sample_size")},
    "validate": {"validation.csv": ("pattern", "source", "statement", "mean", "ci_low",
                                    "ci_high", "share_holding", "seeds", "tolerance", "result"),
                 "validation_runs.csv": ("pattern", "seed", "statistic", "holds")},
    "discover": {"discovery.json": ("policy", "against", "measure", "worlds", "boxes"),
                 "discovery.csv": ("world", "difference", "a_beats_b", "box")},
}
OPTIONAL = {"sensitivity": ("manifest.json",)}


def check_inputs(kind: str, d: Path) -> None:
    """Refuse, in one line naming the file, an input that is not as the tool writes it."""
    for name, keys in REQUIRED[kind].items():
        if name == "summary.json":  # and every measure of the KPI table stored at top level
            keys = (*keys, *kpis.keys(lambda m: m.kpi_row and m.same_as is None and not m.family))
        path = d / name
        if not path.is_file():
            if name in OPTIONAL.get(kind, ()):
                continue
            raise ParameterError(f"{path} is missing; `{COMMANDS[kind]}` writes it: run the "
                                 "command again (into the same directory) to write it")
        why = _missing(path, keys)
        if why:
            raise ParameterError(f"{path} is not as `{COMMANDS[kind]}` writes it ({why}); run "
                                 "the command again to rewrite it")


def _missing(path: Path, keys: tuple[str, ...]) -> str | None:
    """What is wrong with ``path`` against its required keys or columns, or None."""
    import json

    import pandas as pd

    try:
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                return f"a JSON {type(data).__name__}, not an object"
            absent = [k for k in keys if k not in data]
        else:
            data = pd.read_csv(path)
            if data.empty:
                return "no rows"
            absent = [k for k in keys if k not in data.columns]
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        return f"unreadable: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
    return f"missing {', '.join(absent)}" if absent else None


def recognised() -> str:
    """The kinds of directory and the files that identify them, for messages."""
    return "; ".join(f"{k.name} ({' + '.join(k.files)}, from `{k.command}`)" for k in KINDS)


def detect(directory: str | Path) -> str:
    """The kind of output directory; ParameterError if it does not exist or is not one."""
    d = Path(directory)
    if not d.exists():
        raise ParameterError(f"'{d}' does not exist; give an output directory of the tool. "
                             f"Recognised: {recognised()}")
    if not d.is_dir():
        raise ParameterError(f"'{d}' is not a directory. Recognised: {recognised()}")
    kind = kind_of(d)
    if kind is not None:
        return kind
    raise ParameterError(f"'{d}' is not a recognised output directory (none of the identifying "
                         f"files found). Recognised: {recognised()}")


def build_report(directory: str | Path) -> str:
    """The HTML text of the report on ``directory``."""
    d = Path(directory)
    kind = detect(d)
    try:
        check_inputs(kind, d)
        page = BUILDERS[kind](d)
    except ParameterError:
        raise
    except (KeyError, ValueError, TypeError, AttributeError, IndexError, OSError) as e:
        raise ParameterError(f"cannot read the {kind} directory '{d}' ({type(e).__name__}: {e}); "
                             f"allowed: a directory as `{COMMANDS[kind]}` writes it — run it "
                             "again to rewrite the files") from e
    return render(page, str(d.resolve()), datetime.now().isoformat(timespec="seconds"))


def write_report(directory: str | Path, out: str | Path | None = None) -> Path:
    """Write the report on ``directory`` to ``out`` (default ``directory/report.html``)
    atomically; returns the path written."""
    text = build_report(directory)
    path = Path(out) if out is not None else Path(directory) / "report.html"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    except OSError as e:
        raise ExperimentError(f"cannot write {path}: {e.strerror or e}; "
                              "choose another file with --out") from e
    return path


__all__ = ["KINDS", "Kind", "build_report", "detect", "recognised", "write_report"]
