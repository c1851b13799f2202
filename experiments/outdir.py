"""Output paths (输出目录), checked before any simulation starts, so that a bad ``--out`` costs
nothing and writes nothing: not a file, not under a file, not a dangling link, writable,
with room for the outputs, and not holding another command's (or, for ``run``, another
run's) outputs unless ``--force`` says to replace them.

Every command writes into one output directory whose kind is recognised by its identifying
files (``KINDS``; the reports read directories by the same table). Resuming a sweep into its
own directory is the store's normal use and is allowed, as is resuming an ABC calibration;
writing a sweep into a directory of runs or a sensitivity analysis is refused.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from model.params import shorten

from .executors import ExperimentError

# Kind of output directory -> the files that identify it, in the order they are tested (a
# staffing directory also holds a sweep's files, a sensitivity one a sweep-like store). An
# ABC calibration is known by its settings file, written before its first generation, so
# that an unfinished one (which the same command resumes) is not taken for an empty directory.
KINDS: dict[str, tuple[str, ...]] = {
    "sensitivity": ("indices.csv",),
    "staffing": ("staffing.csv",),
    "sweep": ("manifest.json", "aggregate.csv"),
    "compare": ("compare.csv",),
    "calibrate": ("abc_config.json",),
    "validate": ("validation.csv",),
    "discover": ("discovery.json",),
    "run": ("summary.json",),
}
# The command that writes a kind, where it is more than the kind's name (`calibrate` writes
# a directory only with --method abc).
WRITTEN_BY = {"calibrate": "calibrate --method abc"}

MiB = 1 << 20
# Room asked for before anything runs: a full-scale run's files take about 25 MiB
# (cases.parquet most of it; measured on the baseline year), a stored sweep run about 40 KiB.
# These are engineering margins, not model parameters.
FREE_SPACE_NEEDED = {"run": 64 * MiB, "report": 8 * MiB}
FREE_SPACE_DEFAULT = 16 * MiB


def command(kind: str) -> str:
    """The command (after ``run.py``) that writes a kind of directory."""
    return WRITTEN_BY.get(kind, kind)


def kind_of(directory: str | Path) -> str | None:
    """The kind of output directory ``directory`` holds, or None."""
    d = Path(directory)
    for kind, files in KINDS.items():
        if all((d / f).is_file() for f in files):
            return kind
    return None


def check_out_dir(path: str | Path, kind: str, *, force: bool = False,
                  same_run: dict[str, Any] | None = None, option: str = "--out") -> Path:
    """Check that ``path`` can take the outputs of a ``kind`` command, before any work; raise
    ExperimentError (one line: the path, what is wrong, what is allowed) otherwise.

    For ``run``, an existing run's outputs are replaced only with ``force`` or when they are
    the outputs of the same run (``same_run``: scenario parameters and seed), which a
    reproducible model would write identically."""
    out = _path(path, option, "a directory")
    with _one_line(out, option, "a directory path"):
        _check_not_file(out, option, "a directory")
        _check_not_code(out, option)
        _check_writable(out, option)
        _check_space(out, option, FREE_SPACE_NEEDED.get(kind, FREE_SPACE_DEFAULT))
        if out.is_dir() and not force:
            _check_kind(out, kind, same_run, option)
    return out


@contextmanager
def _one_line(out: Path, option: str, allowed: str) -> Iterator[None]:
    """An OSError of the checks (e.g. a name too long for the file system) as one line."""
    try:
        yield
    except OSError as e:
        raise ExperimentError(f"{option} '{shorten(str(out))}': {e.strerror or e}; allowed: "
                              f"{allowed} the file system accepts") from None


def _path(path: str | Path, option: str, allowed: str) -> Path:
    """``path`` as a Path; an empty one (which Path would read as '.') is refused."""
    if not str(path).strip():
        raise ExperimentError(f"{option} is empty; allowed: {allowed} path")
    return Path(path)


# The folder that holds the installed code (a checkout's root, or site-packages): outputs
# written there would mix with the code.
CODE_HOME = Path(__file__).resolve().parent.parent
CODE_PACKAGES = ("model", "agents", "experiments", "analysis", "yanzhou_governance")


def _check_not_code(out: Path, option: str) -> None:
    target = out.resolve()
    inside_code = any(target.is_relative_to(CODE_HOME / pkg) for pkg in CODE_PACKAGES)
    if target == Path(target.anchor) or target == CODE_HOME or inside_code:
        raise ExperimentError(f"{option} '{out}' is the file system's root or holds the model's "
                              "code; allowed: a directory of its own, e.g. results/")


def check_out_file(path: str | Path, option: str = "--out") -> Path:
    """Check that the file ``path`` can be written (its folder may not exist yet)."""
    out = _path(path, option, "a file")
    with _one_line(out, option, "a file path"):
        if out.is_dir():
            raise ExperimentError(f"{option} '{out}' is a directory; allowed: a file path, e.g. "
                                  f"{out / 'report.html'}")
        _check_not_dangling(out, option, "a file path")
        _check_parents(out, option, "a file in a directory")
        _check_writable(out.parent, option, shown=out)
        _check_space(out.parent, option, FREE_SPACE_NEEDED["report"])
    return out


def _check_not_dangling(out: Path, option: str, allowed: str) -> None:
    if out.is_symlink() and not out.exists():
        raise ExperimentError(f"{option} '{out}' is a dangling symbolic link (to "
                              f"'{os.readlink(out)}'); allowed: {allowed} that exists or can "
                              "be created")


def _check_not_file(out: Path, option: str, allowed: str) -> None:
    _check_not_dangling(out, option, allowed)
    if out.exists() and not out.is_dir():
        raise ExperimentError(f"{option} '{out}' is an existing file; allowed: {allowed}")
    _check_parents(out, option, allowed)


def _check_parents(out: Path, option: str, allowed: str) -> None:
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise ExperimentError(f"{option} '{out}' lies under '{parent}', which is a file; "
                                  f"allowed: {allowed}")
        if parent.is_symlink() and not parent.exists():
            raise ExperimentError(f"{option} '{out}' lies under '{parent}', a dangling symbolic "
                                  f"link; allowed: {allowed}")


def _existing(out: Path) -> Path:
    """``out`` or its nearest ancestor that exists (where a new directory would be made)."""
    for p in (out, *out.parents):
        if p.exists():
            return p
    return Path(".")


def _check_writable(out: Path, option: str, shown: Path | None = None) -> None:
    """A real write probe: permission bits do not tell (root ignores them; a read-only mount
    does not show in them). ``shown``: the path the user gave, when ``out`` is its folder."""
    base = _existing(out)
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=base)
    except OSError as e:
        named = shown or out
        where = f"'{named}'" if base == named else f"'{named}' (cannot create it in '{base}')"
        raise ExperimentError(f"{option} {where} is not writable: {e.strerror or e}; allowed: "
                              "a directory you can write to") from None
    os.close(fd)
    os.unlink(probe)


def _check_space(out: Path, option: str, needed: int) -> None:
    base = _existing(out)
    free = shutil.disk_usage(base).free
    if free < needed:
        raise ExperimentError(f"{option} '{out}': only {free / MiB:.1f} MiB free on its disk, "
                              f"{needed / MiB:.0f} MiB needed; free space or choose another "
                              f"{option}")


def _check_kind(out: Path, kind: str, same_run: dict[str, Any] | None, option: str) -> None:
    found = kind_of(out)
    if found is None:
        return
    if found != kind:
        raise ExperimentError(f"{option} '{out}' holds the outputs of `{command(found)}`, not "
                              f"`{command(kind)}`; allowed: an empty or new directory, or one "
                              f"of `{command(kind)}`"
                              + (" (or add --force to replace them)" if kind == "run" else ""))
    if kind == "run" and not _is_same_run(out, same_run):
        raise ExperimentError(f"{option} '{out}' holds another run's outputs "
                              f"({_describe_run(out)}); add --force to replace them, or choose "
                              f"another {option}")


def _is_same_run(out: Path, same_run: dict[str, Any] | None) -> bool:
    if same_run is None:
        return False
    try:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        params = json.loads((out / "params.json").read_text(encoding="utf-8"))["params"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return summary.get("seed") == same_run["seed"] and params == same_run["params"]


def _describe_run(out: Path) -> str:
    try:
        s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        return f"scenario {s['scenario']}, seed {s['seed']}, scale {s['scale']}, {s['days']} days"
    except (OSError, ValueError, KeyError, TypeError):
        return "an unreadable summary.json"


def write_error(path: Path, error: OSError, option: str = "--out") -> ExperimentError:
    """A failed write as one line: a full disk says so (nothing half-written is left)."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return ExperimentError(f"{option} '{path}': the disk is full; nothing was written. Free "
                               "space and run the same command again")
    return ExperimentError(f"cannot write to {option} '{path}': {error.strerror or error}")
