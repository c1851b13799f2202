"""What a run's result depends on besides its parameters and seed: the model's source code as
installed and the versions of the libraries that draw its random numbers and build its
structures. The result store keys runs by it, so a changed model never reuses stale runs,
whether or not MODEL_VERSION was raised."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.metadata import version
from pathlib import Path

# The packages whose code runs inside a model run. model/scenario_files/ is not among them: a task
# carries every parameter value, so a scenario file only matters through those values.
PACKAGES = ("model", "agents")
# Libraries whose upgrade can change a run's numbers: numpy (Generator streams and
# distribution algorithms may change between releases), mesa (agent and step order),
# networkx (seeded graph generators), scipy (sparse network operations) and pandas (the
# daily series and the summary's group-bys). Others (pyarrow, tqdm, dask) only move results.
LIBRARIES = ("numpy", "mesa", "networkx", "scipy", "pandas")


def source_files(root: Path) -> list[Path]:
    """Every .py of the model's packages under ``root``, in sorted relative-path order."""
    return sorted((p for pkg in PACKAGES for p in (root / pkg).rglob("*.py")),
                  key=lambda p: p.relative_to(root).as_posix())


def digest_of(root: Path) -> str:
    """SHA-256 of the sources under ``root`` (path and bytes of each file) and the versions
    of LIBRARIES: the same on every machine and in every process for the same install."""
    h = hashlib.sha256()
    for path in source_files(root):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    for lib in LIBRARIES:
        # the installed version, read without importing the library (mesa alone takes ~1 s)
        h.update(f"{lib}=={version(lib)}\0".encode())
    return h.hexdigest()[:16]


@cache
def model_digest() -> str:
    """The digest of the installed model, computed once per process (~0.1 s)."""
    return digest_of(Path(__file__).resolve().parent.parent)
