"""One process at a time in an output directory: ``DIR/.lock`` holds the owner's PID and host,
created atomically (O_CREAT | O_EXCL) and removed when the owner is done, however it ends
(normally, Ctrl-C, SIGTERM, an error). A lock left by a process that died (SIGKILL, power
cut) on this host is taken over; one held by a live process stops the command."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from model.liveness import pid_alive

from .executors import ExperimentError

LOCK_NAME = ".lock"
_held: dict[Path, int] = {}  # locks this process holds, with their nesting depth


def _owner(lock: Path) -> tuple[int, str] | None:
    """(PID, host) written in a lock file, or None if it is gone or unreadable."""
    try:
        pid, host = lock.read_text().split(maxsplit=1)
        return int(pid), host.strip()
    except (OSError, ValueError):
        return None


def _unwritable(directory: Path, e: OSError) -> ExperimentError:
    return ExperimentError(f"cannot write in {directory} ({e.strerror}); choose another output "
                           "directory")


def _create(lock: Path) -> bool:
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    except OSError as e:  # read-only, no permission, full disk
        raise _unwritable(lock.parent, e) from None
    with os.fdopen(fd, "w") as f:
        f.write(f"{os.getpid()} {socket.gethostname()}\n")
    return True


UNREADABLE_LOCK_GRACE_S = 5.0  # a live owner writes its PID microseconds after creating the file


def _abandoned(lock: Path) -> bool:
    """Whether an unreadable (empty, garbled) lock file is old enough that no live process can
    still be writing it: what a SIGKILL between creating and writing the file leaves."""
    if lock.is_dir():
        raise ExperimentError(f"{lock} is a directory, not a lock file; remove it (allowed: a "
                              "lock file written by this tool, or none)")
    try:
        return time.time() - lock.stat().st_mtime > UNREADABLE_LOCK_GRACE_S
    except FileNotFoundError:
        return False


def _acquire(lock: Path) -> None:
    for _ in range(3):  # a stale lock removed by another process at the same time: try again
        if _create(lock):
            return
        owner = _owner(lock)
        if owner is None:  # being written right now, removed since, or left unreadable
            if _abandoned(lock):
                lock.unlink(missing_ok=True)
                print(f"note: removed the unreadable lock {lock}, left by a process that was "
                      "killed while creating it", file=sys.stderr)
            continue
        pid, host = owner
        if host != socket.gethostname() or pid_alive(pid):
            raise ExperimentError(
                f"{lock.parent} is in use by process {pid} on {host} (lock file {lock}); wait "
                "for it to finish or use another --out (delete the lock file only if that "
                "process is gone)")
        if _owner(lock) == owner:  # still the dead owner's lock: take it over
            lock.unlink(missing_ok=True)
            print(f"note: took over the lock {lock} of process {pid}, which is no longer "
                  "running", file=sys.stderr)
    raise ExperimentError(f"cannot lock {lock.parent}: its lock file {lock} keeps changing; "
                          "is another process starting there? try again")


@contextmanager
def locked(directory: str | Path) -> Iterator[None]:
    """Hold ``directory``'s lock for the block (re-entrant within a process). A directory this
    creates is removed again if nothing else was written into it."""
    root = Path(directory).resolve()
    lock = root / LOCK_NAME
    created = False
    if root in _held:
        _held[root] += 1
    else:
        created = not root.exists()
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as e:  # a file in the way, no permission
            raise _unwritable(root, e) from None
        try:
            _acquire(lock)
        except ExperimentError:
            _remove_if_empty(root, created)
            raise
        _held[root] = 1
    try:
        yield
    finally:
        _held[root] -= 1
        if not _held[root]:
            del _held[root]
            lock.unlink(missing_ok=True)
            _remove_if_empty(root, created)


def _remove_if_empty(root: Path, created: bool) -> None:
    """Remove ``root`` if this process created it and nothing was written into it."""
    if created:
        with suppress(OSError):  # it holds results (or another process wrote into it): kept
            root.rmdir()
