"""One process at a time in an output directory: ``DIR/.lock`` carries the owner's PID and
host, and the owner holds an exclusive ``flock`` on it for as long as it works there. The
kernel drops that lock when the owner ends, however it ends (normally, Ctrl-C, SIGTERM, an
error, SIGKILL, a power cut), so a lock file left behind is simply taken over, and two
processes can never both hold it (a PID check could race, and PIDs are reused)."""

from __future__ import annotations

import fcntl
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from .executors import ExperimentError

LOCK_NAME = ".lock"
_held: dict[Path, tuple[int, int]] = {}  # locks this process holds: (nesting depth, file)


def _owner(lock: Path) -> tuple[int, str] | None:
    """(PID, host) written in a lock file, or None if it is gone, empty or unreadable."""
    try:
        pid, host = lock.read_text().split(maxsplit=1)
        return int(pid), host.strip()
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _unwritable(directory: Path, e: OSError) -> ExperimentError:
    return ExperimentError(f"cannot write in {directory} ({e.strerror}); choose another output "
                           "directory")


def _open(lock: Path) -> int:
    try:
        return os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except IsADirectoryError:
        raise ExperimentError(f"{lock} is a directory, not a lock file; remove it (allowed: a "
                              "lock file written by this tool, or none)") from None
    except OSError as e:  # read-only, no permission, full disk
        raise _unwritable(lock.parent, e) from None


def _in_use(lock: Path) -> ExperimentError:
    owner = _owner(lock)
    who = f"process {owner[0]} on {owner[1]}" if owner else "another process"
    return ExperimentError(f"{lock.parent} is in use by {who} (lock file {lock}); wait for it "
                           "to finish or use another --out")


def _acquire(lock: Path) -> int:
    """Lock ``lock`` for this process; returns the open file that holds the lock."""
    for _ in range(5):  # the file replaced under us by its previous holder: try again
        fd = _open(lock)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _in_use(lock) from None
        try:  # still the file at that path? (its holder may have removed it on release)
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            continue
        _note_takeover(lock)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
        return fd
    raise ExperimentError(f"cannot lock {lock.parent}: its lock file {lock} keeps changing; "
                          "is another process starting there? try again")


def _note_takeover(lock: Path) -> None:
    """Say so when the lock file was left by a process that ended without removing it."""
    if not lock.stat().st_size:
        return  # new (or left empty by a process killed while creating it)
    owner = _owner(lock)
    if owner is None:
        print(f"note: took over the unreadable lock {lock}, left by a process that ended "
              "without removing it", file=sys.stderr)
    elif owner[0] != os.getpid():
        print(f"note: took over the lock {lock} of process {owner[0]}, which is no longer "
              "running", file=sys.stderr)


@contextmanager
def locked(directory: str | Path) -> Iterator[None]:
    """Hold ``directory``'s lock for the block (re-entrant within a process). A directory this
    creates is removed again if nothing else was written into it."""
    root = Path(directory).resolve()
    lock = root / LOCK_NAME
    created = False
    if root in _held:
        depth, fd = _held[root]
        _held[root] = (depth + 1, fd)
    else:
        created = not root.exists()
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as e:  # a file in the way, no permission
            raise _unwritable(root, e) from None
        try:
            _held[root] = (1, _acquire(lock))
        except ExperimentError:
            _remove_if_empty(root, created)
            raise
    try:
        yield
    finally:
        depth, fd = _held[root]
        if depth > 1:
            _held[root] = (depth - 1, fd)
        else:
            del _held[root]
            lock.unlink(missing_ok=True)  # while still holding it: nobody else can be its owner
            os.close(fd)
            _remove_if_empty(root, created)


def _remove_if_empty(root: Path, created: bool) -> None:
    """Remove ``root`` if this process created it and nothing was written into it."""
    if created:
        with suppress(OSError):  # it holds results (or another process wrote into it): kept
            root.rmdir()
