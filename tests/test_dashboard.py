"""The what-if dashboard (dashboard/): its controls are the schema's and refuse what it refuses;
its views say what the model holds; and, in a real headless Chromium, the page served by
``python run.py dashboard`` loads with nothing from outside 127.0.0.1, a slider rebuilds the
run, "Run the year" finishes it, the KPI cards, map and comparison change, a refused
combination shows the schema's message and keeps the last run, and Ctrl-C stops the server.

The browser tests need the [dashboard] extra, playwright and /usr/bin/chromium (`.ci/run`
installs them); without them they are skipped, saying what is missing. Set
DASHBOARD_SCREENSHOT=PATH to keep a screenshot of the finished year (docs/figures/)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO

from model.metrics import DAYS_PER_MONTH
from model.params import ParameterError
from model.vocabulary import CHANNELS

CHROMIUM = Path("/usr/bin/chromium")
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]

levers = pytest.importorskip("dashboard.levers")
views = pytest.importorskip("dashboard.views")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- without a browser ------------------------------------------------------------------------
def test_a_refused_combination_gets_the_schemas_message_in_plain_names():
    start = levers.for_scenario("baseline")
    assert levers.refused(start) is None
    bad = start.with_value("staffing_per_10k", 12.0).with_value("welfare_posts_per_10k", 20.0)
    message, named = levers.refused(bad)
    with pytest.raises(ParameterError) as schema:
        levers.check(bad)
    assert "must not exceed" in str(schema.value) and "must not exceed" in message
    assert set(named) == {"staffing_per_10k", "welfare_posts_per_10k"}
    assert "_" not in message and "'public-welfare posts' (20.0)" in message
    with pytest.raises(ParameterError):
        levers.build(bad)  # nothing is built from refused settings


def test_a_scenario_brings_its_own_lever_values_and_labels_are_plain():
    s = levers.for_scenario("baseline").with_value("scenario", "policy_package")
    assert all(s.levers[k] for k in levers.POLICIES)  # every policy on in the package
    assert levers.for_scenario("staffing_18").levers["staffing_per_10k"] == 18.0
    for lever in levers.LEVERS:
        assert "_" not in lever.title + lever.caption + lever.unit
    for measure in views.MAP_MEASURES.values():
        assert "_" not in measure.label + measure.unit


@pytest.fixture(scope="module")
def week() -> object:
    model = levers.build(levers.for_scenario("baseline", seed=2, scale=0.05))
    for _ in range(14):
        model.step()
    return model


def test_the_map_measures_count_what_the_model_holds(week):
    from dashboard.watched import WatchedModel

    assert isinstance(week, WatchedModel)  # what the page builds
    d, c = week.district, week.cases
    present = np.bincount(d.compound, week.present, minlength=d.n_compounds)
    backlog = views.compound_values(week, "backlog")
    open_cases = np.isin(c.state, [0, 1])  # queued, awaiting a visit
    assert np.allclose(backlog * present / 1000, np.bincount(c.compound[open_cases],
                                                             minlength=d.n_compounds))
    assert np.allclose(views.compound_values(week, "satisfaction"), week.compound_satisfaction())
    for measure in views.MAP_MEASURES:
        v = views.compound_values(week, measure)
        assert v.shape == (d.n_compounds,) and np.all(v >= 0)
    rects = views.treemap(week)
    area = sum(w * h for _, (_, _, w, h) in rects["compound"])
    assert len(rects["compound"]) == d.n_compounds and area == pytest.approx(1.0)


def test_looking_at_a_run_every_week_does_not_change_it():
    from dashboard.watched import WatchedModel
    from model import GovernanceModel, Params

    watched, plain = WatchedModel(Params(scale=0.03, days=45), seed=4), GovernanceModel(
        Params(scale=0.03, days=45), seed=4)
    while watched.running:
        for _ in range(7):
            watched.step()
        views.summary_so_far(watched)
        views.monthly_by_street(watched)
        for measure in views.MAP_MEASURES:
            views.compound_values(watched, measure)
    plain.run()
    for key in ("mean_days_to_close", "mean_satisfaction", "disputes_per_1000_per_month",
                "satisfaction_by_origin", "by_community"):
        assert watched.summary[key] == plain.summary[key], key


def test_the_comparison_calls_a_difference_a_finding_only_when_every_seed_agrees(week):
    base = views.summary_so_far(week)

    def shifted(days: float, resolution: float) -> dict:
        return {**base, "mean_days_to_close": base["mean_days_to_close"] + days,
                "resolution_rate": base["resolution_rate"] + resolution}

    assert views.PAIRED_SEEDS == 3
    current = [shifted(1.0, -0.05), shifted(0.5, 0.02), shifted(2.0, -0.01)]
    rows = {r["measure"]: r for r in views.comparison(current, [base] * 3)}
    assert rows["mean days to close"]["difference"] == "+1.00"  # the page's seed, the first
    assert rows["mean days to close"]["range"] == "+0.50 to +2.00"
    assert rows["mean days to close"]["verdict"] == "worse"  # slower on every seed
    assert rows["resolution rate"]["difference"] == "-5.0 points"
    assert rows["resolution rate"]["verdict"] == "unclear (seed noise)"  # signs differ
    assert rows["mean satisfaction"]["verdict"] == "same"
    # one seed is not a finding: no verdict until the other seeds are in
    one = {r["measure"]: r for r in views.comparison(current[:1], [base])}
    assert one["mean days to close"]["verdict"] == "checking 2 more seeds"
    assert one["mean days to close"]["range"] == ""
    assert views.paired_seeds(7) == (7, 8, 9)


def test_the_map_load_is_per_worker_serving_there_as_the_kpis_by_street():
    from dashboard.watched import WatchedModel

    # seasonal workers serve in Longqiao in January: home posts alone would undercount them
    m = WatchedModel(scale=0.03, days=10, warmup_days=5, seed=3,
                     seasonal_staff_per_10k_influx=100)
    for _ in range(10):
        m.step()
    d, c = m.district, m.cases
    by_street = np.bincount(d.community_street, m.serving_days, minlength=len(d.street_names))
    np.testing.assert_array_equal(by_street, m.daily.staff_by_street.sum(axis=0))
    longqiao = d.street_names.index("Longqiao")
    home = np.bincount(d.community_street, m.staff, minlength=len(d.street_names)) * 10
    assert by_street[longqiao] > home[longqiao]
    reported = (c.opened >= 0) & (c.channel != CHANNELS.index("silence"))
    cases = np.bincount(c.community[reported], minlength=d.n_communities)
    load = views.compound_values(m, "load")
    worker_months = m.serving_days / DAYS_PER_MONTH
    assert np.allclose(load, (cases / worker_months)[d.compound_community])


def test_a_day_is_mesas_whole_step_and_the_year_holds_the_model():
    import threading

    from dashboard.watched import WatchedModel

    m = WatchedModel(scale=0.03, days=4, warmup_days=0, seed=5)
    m.step()
    with m.days_at_once():  # "Run the year" holds it: play's step waits, Mesa's time too
        play = threading.Thread(target=m.step)
        play.start()
        play.join(0.3)
        assert play.is_alive() and (m.time, m.day) == (1.0, 1)
        while m.running:
            m.step()
    play.join(5)
    assert not play.is_alive() and (m.time, m.day) == (4.0, 4)  # the late step did nothing


def test_a_port_in_use_is_refused_in_one_line_with_exit_2(capsys):
    from yanzhou_governance.cli import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["dashboard", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f"127.0.0.1:{port} is in use" in err


def test_without_the_extra_the_command_says_how_to_install_it(monkeypatch, capsys):
    from dashboard import server
    from yanzhou_governance.cli import main

    monkeypatch.setattr(server, "EXTRA", ("solara", "no_such_package_of_the_extra"))
    assert main(["dashboard", "--port", str(free_port())]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "[dashboard] extra" in err and "make dashboard" in err


def test_a_port_outside_the_allowed_range_is_refused(capsys):
    from yanzhou_governance.cli import main

    for bad in ("80", "70000", "abc"):
        assert main(["dashboard", "--port", bad]) == 2
        assert "allowed: a port from 1024 to 65535" in capsys.readouterr().err


# --- in a real browser --------------------------------------------------------------------------
def _browser_missing() -> str | None:
    from dashboard.server import missing_extra

    absent = missing_extra()
    if absent:
        return f"the [dashboard] extra is not installed ({absent})"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dashboard,test]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does it)"
    return None


@pytest.fixture(scope="module")
def server():
    missing = _browser_missing()
    if missing:
        pytest.skip(missing)
    port = free_port()
    log = open(Path(tempfile.mkdtemp()) / "server.log", "w+")  # noqa: SIM115 (closed below)
    # a session of its own: Ctrl-C is sent to the group, as a terminal does
    proc = subprocess.Popen([sys.executable, "run.py", "dashboard", "--port", str(port)],
                            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        log.seek(0)
        pytest.fail(f"the dashboard did not start: {log.read()[-2000:]}")
    yield proc, port, log
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    _, port, _ = server
    requests: list[str] = []
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(), executable_path=str(CHROMIUM), args=BROWSER_ARGS, headless=True,
            viewport={"width": 1500, "height": 1400})
        pg = ctx.new_page()
        pg.on("request", lambda r: requests.append(r.url))
        pg.goto(f"http://127.0.0.1:{port}/")
        pg.get_by_role("button", name="Run the year").wait_for(timeout=60_000)
        yield pg, requests
        ctx.close()


def _day(pg) -> str:
    return pg.locator(".dashboard-day").inner_text()


def _cards(pg) -> list[str]:
    return pg.locator(".dashboard-kpi").all_inner_texts()


def _values(cards: list[str]) -> list[str]:
    return [card.splitlines()[1] for card in cards]  # label, value, unit


def _map(pg) -> str:
    return pg.locator("img").first.get_attribute("src")


def test_the_page_drives_the_model_in_a_real_browser(page, server):
    pg, requests = page
    cards_before, map_before = _cards(pg), _map(pg)
    assert "day 0 of 365" in _day(pg) and len(cards_before) == len(views.CARDS)
    assert set(_values(cards_before)) == {"–"}  # nothing run yet

    # a slider: staffing to its lowest value rebuilds the run at day 0 with it
    staffing = pg.locator(".v-input", has_text="Staffing:").get_by_role("slider")
    staffing.focus()
    staffing.press("Home")
    pg.get_by_text("Staffing: 10 staff per 10,000 residents").wait_for(timeout=30_000)

    t0 = time.perf_counter()
    pg.get_by_role("button", name="Run the year").click()
    pg.locator(".dashboard-day", has_text="day 365 of 365").wait_for(timeout=60_000)
    seconds = time.perf_counter() - t0
    print(f"run the year at scale 0.1: {seconds:.1f} s in the browser")
    pg.locator(".dashboard-comparison").wait_for(timeout=60_000)
    print(f"... and {time.perf_counter() - t0:.1f} s to the comparison on its first seed")
    pg.locator(".dashboard-comparison-done").wait_for(timeout=120_000)
    print(f"... and {time.perf_counter() - t0:.1f} s to the verdicts on "
          f"{views.PAIRED_SEEDS} seeds")
    cards_after = _cards(pg)
    assert "–" not in _values(cards_after)
    pg.wait_for_function("(before) => document.querySelector('img').src !== before", arg=map_before)
    # a third of the baseline's staff: the comparison shows cases closing more slowly
    comparison = pg.locator(".dashboard-comparison").inner_text()
    row = next(line for line in comparison.splitlines() if line.startswith("mean days to close"))
    assert re.search(r"^mean days to close\s.*\+\d+\.\d\d\s+\+\d+\.\d\d to \+\d+\.\d\d\s+worse$", row), row

    # a refused combination: welfare posts above all staff
    welfare = pg.locator(".v-input", has_text="Public-welfare posts:").get_by_role("slider")
    welfare.focus()
    welfare.press("End")
    error = pg.locator(".dashboard-control-error").first
    error.wait_for(timeout=30_000)
    assert "must not exceed" in error.inner_text() and "_" not in error.inner_text()
    assert "day 365 of 365" in _day(pg)  # the last accepted run stays
    assert _cards(pg) == cards_after

    if os.environ.get("DASHBOARD_SCREENSHOT"):
        welfare.press("Home")
        pg.locator(".dashboard-control-error").first.wait_for(state="detached", timeout=30_000)
        pg.get_by_role("button", name="Run the year").click()
        pg.locator(".dashboard-comparison-done").wait_for(timeout=120_000)
        time.sleep(1)
        pg.screenshot(path=os.environ["DASHBOARD_SCREENSHOT"], full_page=False)

    outside = [u for u in requests if not u.startswith(LOCAL)]
    assert requests and not outside, outside[:5]
    _, _, log = server
    log.seek(0)
    assert "Could not load URL" not in log.read()  # no asset asked of a CDN


def test_ctrl_c_stops_the_server_cleanly(server, page):
    proc, port, log = server
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    log.seek(0)
    text = log.read()
    assert f"http://127.0.0.1:{port}/" in text and "dashboard stopped" in text
    assert "Traceback" not in text
