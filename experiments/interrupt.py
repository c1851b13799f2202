"""SIGTERM and SIGHUP handled like Ctrl-C: raised as a KeyboardInterrupt in the main thread,
so that the same clean-up runs (workers stopped, finished runs kept, lock released,
temporary files removed) and the command exits with 128 + the signal's number."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOPPING = (signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """A stopping signal other than SIGINT."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _interrupt(signum: int, frame: FrameType | None) -> None:
    for sig in STOPPING:  # once: a second signal must not cut the clean-up short
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


@contextmanager
def stopping_signals_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise ``Interrupted`` (main thread only)."""
    previous = {sig: signal.signal(sig, _interrupt) for sig in STOPPING}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def exit_status(interrupt: KeyboardInterrupt) -> int:
    """The shell's convention: 128 + signal number (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP)."""
    return 128 + getattr(interrupt, "signum", signal.SIGINT)
