"""Start the dashboard: Solara's server for ``dashboard.app`` on 127.0.0.1, with nothing
fetched from the internet (assets from the ``solara-assets`` package, no telemetry)."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from model.params import ParameterError

HOST = "127.0.0.1"
DEFAULT_PORT = 8765
ROOT = Path(__file__).resolve().parent.parent
# Solara's settings (environment variables): no usage statistics sent out; the page's assets
# come from the solara-assets package, and a component that would still ask Solara's CDN
# proxy for one gets a refusal from this machine instead of a download; the light theme.
NOWHERE = "http://127.0.0.1:9/"  # the discard port: nothing listens there
OFFLINE_ENV = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "SOLARA_ASSETS_CDN": NOWHERE,
               "SOLARA_THEME_VARIANT": "light"}
GRACE_SECONDS = 5  # for the server to stop after Ctrl-C, before it is told again, then killed
EXTRA = ("solara", "solara_assets", "mesa.visualization")


def missing_extra() -> str | None:
    """The first package of the ``[dashboard]`` extra that is not installed, or None."""
    for name in EXTRA:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            return name
    return None


def check_port(port: int) -> None:
    """Refuse a port another program listens on (one line, exit 2 through the CLI)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # as the server binds: a port whose old connections are closing is free
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError as e:
            raise ParameterError(f"--port {port}: {HOST}:{port} is in use or not allowed "
                                 f"({e.strerror}); allowed: a free port from 1024 to 65535, "
                                 "e.g. --port 8766") from None


def command(port: int) -> list[str]:
    return [sys.executable, "-m", "solara", "run", "dashboard.app:Page", "--host", HOST,
            "--port", str(port), "--production", "--no-open", "--log-level", "warning"]


def environment() -> dict[str, str]:
    env = {**os.environ, **OFFLINE_ENV}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def serve(port: int = DEFAULT_PORT) -> int:
    """Run the dashboard until Ctrl-C; 0 when stopped so."""
    absent = missing_extra()
    if absent:
        raise ParameterError(f"the dashboard needs the [dashboard] extra ('{absent}' is not "
                             "installed); allowed: install it with `make dashboard` or "
                             "`pip install -e '.[dashboard]'`")
    check_port(port)
    print(f"dashboard: http://{HOST}:{port}/  (Ctrl-C stops it)", flush=True)
    server = subprocess.Popen(command(port), env=environment(), cwd=ROOT)
    try:
        return server.wait()
    except KeyboardInterrupt:  # Ctrl-C (the server got it too) or SIGTERM: stop the server
        for stop in (lambda: None, lambda: server.send_signal(signal.SIGINT), server.kill):
            stop()
            try:
                server.wait(timeout=GRACE_SECONDS)
                break
            except subprocess.TimeoutExpired:
                continue
        print("dashboard stopped", flush=True)
        return 0
