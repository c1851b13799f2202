"""How long "Run the year" takes in the dashboard, in a real headless Chromium: from the click
to the finished year's page (KPI cards, map, monthly series and the comparison with the
baseline) at scale 0.1 and 0.25, three times each after one unmeasured run (the baseline of
the comparison is then cached, as it is for a user who changes a lever).

    python benchmarks/bench_dashboard.py        # ~1.5 min; needs the [dashboard] extra,
                                                # playwright and /usr/bin/chromium
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from dashboard import server  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REPEATS = 3


def run_year(page) -> float:
    page.get_by_role("button", name="Reset").click()
    page.locator(".dashboard-day", has_text="day 0 of").wait_for(timeout=60_000)
    t0 = time.perf_counter()
    page.get_by_role("button", name="Run the year").click()
    page.locator(".dashboard-day", has_text="day 365 of 365").wait_for(timeout=120_000)
    page.locator(".dashboard-comparison").wait_for(timeout=120_000)
    return time.perf_counter() - t0


def main() -> None:
    with socket.socket() as s:
        s.bind((server.HOST, 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(server.command(port), env=server.environment(), cwd=ROOT)
    try:
        for _ in range(180):
            try:
                socket.create_connection((server.HOST, port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(
                tempfile.mkdtemp(), executable_path="/usr/bin/chromium", args=ARGS,
                headless=True, viewport={"width": 1500, "height": 1400})
            page = ctx.new_page()
            page.goto(f"http://{server.HOST}:{port}/")
            page.get_by_role("button", name="Run the year").wait_for(timeout=60_000)
            scale = page.locator(".v-input", has_text="Population scale:").get_by_role("slider")
            for key, value in (("Home", 0.1), ("End", 0.25)):
                scale.focus()
                scale.press(key)
                page.get_by_text(f"Population scale: {value:g}").wait_for(timeout=60_000)
                run_year(page)  # unmeasured: the baseline of this scale is then cached
                times = [run_year(page) for _ in range(REPEATS)]
                print(f"scale {value}: run the year {min(times):.1f} s (best), "
                      f"{sum(times) / len(times):.1f} s (mean of {REPEATS})", flush=True)
            ctx.close()
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
