"""Whether a process still runs, from its PID: temporary files and locks carry their owner's
PID, so that what a dead process left behind can be told from what a live one is using."""

from __future__ import annotations

import os
from pathlib import Path

PID_MAX = 2**22  # Linux's largest pid_max (kernel.pid_max); larger numbers are no process


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host (a zombie counts as gone)."""
    if not 0 < pid <= PID_MAX:  # not a PID this system can give (a damaged lock file)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    try:  # a zombie has exited but waits for its parent to reap it
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc (not Linux): os.kill's answer stands
