"""The dashboard page: Mesa's SolaraViz (app bar, Reset / play / Step, play and render
intervals) around the study's levers and what they change (``solara run dashboard.app``;
``python run.py dashboard`` starts it on 127.0.0.1).

A control change rebuilds the model at day 0 with the new settings, when the parameter schema
accepts them; when it refuses them, the schema's message is shown next to the controls it
names and the last accepted model stays. "Run the year" runs the remaining days at once and
renders once; Step and play render every ``RENDER_DAYS`` days. Once the year is complete, the
comparison with the baseline is checked on ``views.PAIRED_SEEDS`` paired seeds in the
background (the page's seed first)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import solara

# update_counter: the counter Mesa's docs have custom components read (and Mesa's Step and
# play bump) to re-render; mesa.visualization does not export it, only its utils module
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from . import levers, views
from .levers import LEVERS, SCALE, SCENARIO, SEED, Settings
from .watched import WatchedModel

RENDER_DAYS = 7  # Step and play move a week between renders: a daily render is the slow part
START = levers.for_scenario("baseline")


class DashboardModel(WatchedModel):
    """The model as SolaraViz rebuilds it. Mesa's Reset calls ``type(model)(**model_params,
    scenario=<a Mesa Scenario>)``: the page's one model parameter is the reactive holding the
    last accepted settings, which name the study's scenario; Mesa's scenario object is not
    used. Its days never overlap (``WatchedModel``): "Run the year" holds the model for all
    the days it runs, and Mesa's play thread waits for it, then finds the year finished."""

    def __init__(self, settings: solara.Reactive[Settings], scenario: Any = None) -> None:
        self.settings = settings.value
        super().__init__(**settings.value.model_kwargs())


_warming: set[tuple[int, float]] = set()
_warming_lock = threading.Lock()


def _warm_baseline(settings: Settings) -> None:
    """Run the baseline year of these seed and scale in the background, for the comparison
    (once: a second run of it would only slow the one the user is watching). The baselines
    of the comparison's other seeds run after the year, with the current settings' (run
    now, they would slow the year the user is waiting for: one Python process)."""
    key = (settings.seed, settings.scale)
    with _warming_lock:
        if key in _warming:
            return
        _warming.add(key)
    threading.Thread(target=views.baseline_summary, args=key, daemon=True).start()


@solara.component
def ControlError(key: str, refused: tuple[str, tuple[str, ...]] | None) -> None:
    if refused is not None and key in refused[1]:
        solara.Error(refused[0], dense=True, text=True, outlined=True,
                     classes=["dashboard-control-error"])


@solara.component
def LeverControl(lever: levers.Lever, value: Any, on_value: Callable[[Any], None],
                 refused: tuple[str, tuple[str, ...]] | None) -> None:
    if lever.kind == "switch":
        solara.Checkbox(label=f"{lever.title}: {lever.caption}", value=value, on_value=on_value)
    elif lever.kind == "select":
        meanings = dict(lever.choices)
        texts = [f"{c}: {meanings[c]}" for c in lever.allowed]
        solara.Select(lever.title, value=f"{value}: {meanings[value]}", values=texts,
                      on_value=lambda text: on_value(text.split(":", 1)[0]))
    else:
        number = float if isinstance(lever.step, float) else int
        slider = solara.SliderFloat if number is float else solara.SliderInt
        slider(f"{lever.title}: {value:,g} {lever.unit}", value=value, min=lever.lo,
               max=lever.hi, step=lever.step, on_value=lambda v: on_value(number(v)))
        solara.Text(lever.caption, style={"font-size": "0.8em", "color": "#555"})
    ControlError(lever.key, refused)


@solara.component
def Controls(shown: solara.Reactive[Settings], accepted: solara.Reactive[Settings],
             model: solara.Reactive[DashboardModel]) -> None:
    """The levers, the scenario, scale and seed, and "Run the year"."""
    refused = levers.refused(shown.value)

    def change(key: str, value: Any) -> None:
        new = shown.value.with_value(key, value)
        shown.set(new)
        if levers.refused(new) is None:  # else: the message shows; the last model stays
            accepted.set(new)
            model.set(DashboardModel(accepted))
            _warm_baseline(new)

    def run_year() -> None:
        m = model.value
        with m.days_at_once():  # Mesa's play thread, if playing, waits for the year's end
            while m.running:
                m.step()
        update_counter.value += 1  # Mesa's components and ours re-render, as after Step

    with solara.Card("What-if settings"):
        solara.Button("Run the year", color="success", on_click=run_year, block=True,
                      classes=["dashboard-run-year"])
        scenarios = levers.scenario_choices()
        solara.Select("Scenario (sets every lever below)", value=scenarios[shown.value.scenario],
                      values=list(scenarios.values()),
                      on_value=lambda text: change(SCENARIO, next(
                          n for n, d in scenarios.items() if d == text)))
        s = shown.value
        solara.SliderFloat(f"{SCALE.title}: {s.scale:g} {SCALE.unit}", value=s.scale,
                           min=SCALE.lo, max=SCALE.hi, step=SCALE.step,
                           on_value=lambda v: change(SCALE.key, round(float(v), 2)))
        ControlError(SCALE.key, refused)
        solara.InputInt("Seed (same seed: same year, and the baseline it is compared with)",
                        value=s.seed, on_value=lambda v: change(SEED, v))
        ControlError(SEED, refused)
        for lever in LEVERS:
            LeverControl(lever, s.levers[lever.key], lambda v, k=lever.key: change(k, v), refused)


@solara.component
def KpiCards(summary: dict[str, Any]) -> None:
    with solara.Row(style={"flex-wrap": "wrap", "gap": "8px"}):
        for label, value, unit in views.cards(summary):
            with solara.Card(style={"min-width": "170px", "max-width": "210px"},
                             classes=["dashboard-kpi"]):
                solara.Text(label, style={"font-size": "0.85em", "color": "#444"})
                solara.HTML(tag="div", unsafe_innerHTML=value,
                            style={"font-size": "1.6em", "font-weight": "bold"})
                solara.Text(unit, style={"font-size": "0.8em", "color": "#666"})


@solara.component
def Comparison(model: DashboardModel) -> None:
    update_counter.get()
    s = model.settings
    seeds = views.paired_seeds(s.seed)
    # the other seeds' years run in a thread once the year is complete (not intrusively
    # cancellable: solara's tracing for that would slow them several times)
    paired = solara.use_thread(
        lambda: views.paired_summaries(s, model.summary) if model.summary else None,
        dependencies=[id(model), model.summary is not None], intrusive_cancel=False)
    if model.summary is None:
        solara.Info("The comparison with the baseline (same seeds and scale) appears when the "
                    "year is complete: press \"Run the year\".", dense=True)
        return
    done = paired.state == solara.ResultState.FINISHED and paired.value is not None
    rows = views.comparison(*paired.value) if done else views.comparison(
        [model.summary], [views.baseline_summary(s.seed, s.scale)])
    head = ("measure (unit)", "current settings", "baseline", "difference",
            f"differences, seeds {seeds[0]}–{seeds[-1]}", f"on {len(seeds)} seeds")
    cell = "padding: 2px 6px; border-bottom: 1px solid #ddd; text-align: {}"
    colour = {"better": "#009E73", "worse": "#D55E00"}

    def row(r: dict[str, str]) -> str:
        measure = f'{r["measure"]} <span style="color: #666">({r["unit"]})</span>'
        numbers = "".join(f'<td style="{cell.format("right")}; color: '
                          f'{colour.get(r[k], "inherit")}">{r[k]}</td>'
                          for k in ("current", "baseline", "difference", "range", "verdict"))
        return f'<tr><td style="{cell.format("left")}">{measure}</td>{numbers}</tr>'

    body = "".join(row(r) for r in rows)
    solara.HTML(tag="table", unsafe_innerHTML="<tr>" + "".join(
        f'<th style="{cell.format("left")}">{h}</th>' for h in head) + "</tr>" + body,
        classes=["dashboard-comparison"] + (["dashboard-comparison-done"] if done else []),
        style={"border-collapse": "collapse", "width": "100%", "font-size": "0.85em"})
    solara.Text(f"Values and difference: seed {s.seed}. Better or worse only when the paired "
                f"difference has the same sign on all {views.PAIRED_SEEDS} seeds "
                f"({', '.join(map(str, seeds))}, scale {s.scale:g}); else unclear (seed "
                "noise).", style={"font-size": "0.8em", "color": "#555"})


@solara.component
def Results(model: DashboardModel, measure: solara.Reactive[str]) -> None:
    update_counter.get()  # Mesa's Step, play and our "Run the year" bump it
    summary = views.summary_so_far(model)
    day = model.day
    labels = {k: f"{m.label} ({m.unit})" for k, m in views.MAP_MEASURES.items()}
    with solara.Column(style={"padding": "8px"}):
        # (no solara.Markdown: it loads its math renderer from a CDN)
        changed = model.settings.changes()
        solara.Text(f"{levers.scenario_choices()[model.settings.scenario]}"
                    + (f", changed: {'; '.join(changed)}" if changed else "") + "; seed "
                    f"{model.settings.seed}, scale {model.settings.scale:g}: day {day} of "
                    f"{model.p.days}" + (" (the year is complete)" if model.summary else ""),
                    style={"font-weight": "bold"}, classes=["dashboard-day"])
        KpiCards(summary)
        with solara.Columns([2, 3]):  # the comparison's table is the wider
            with solara.Column():
                solara.Select("Colour the map by", value=labels[measure.value],
                              values=list(labels.values()),
                              on_value=lambda t: measure.set(
                                  next(k for k, v in labels.items() if v == t)))
                fig = solara.use_memo(lambda: views.map_figure(model, measure.value),
                                      [id(model), day, measure.value])
                solara.FigureMatplotlib(fig, dependencies=[id(model), day, measure.value],
                                        format="png")
            with solara.Column():
                solara.Text(f"Current settings against the baseline, paired on "
                            f"{views.PAIRED_SEEDS} seeds at the same scale",
                            style={"font-weight": "bold"})
                Comparison(model)
        series = solara.use_memo(lambda: views.series_figure(model), [id(model), day])
        solara.FigureMatplotlib(series, dependencies=[id(model), day], format="png")


@solara.component
def SidebarControls(shown: solara.Reactive[Settings], accepted: solara.Reactive[Settings],
                    model: solara.Reactive[DashboardModel]) -> None:
    """The controls in the sidebar, below Mesa's (a sidebar's place follows its depth in the
    page's tree: this one is nested deeper than SolaraViz's)."""
    with solara.Column(), solara.Column(), solara.Column(), solara.Sidebar():
        Controls(shown, accepted, model)


@solara.component
def Page() -> None:
    shown = solara.use_reactive(START)
    accepted = solara.use_reactive(START)
    first = solara.use_memo(lambda: DashboardModel(accepted), [])
    model = solara.use_reactive(first)
    measure = solara.use_reactive("satisfaction")
    solara.use_effect(lambda: _warm_baseline(START), [])
    SidebarControls(shown, accepted, model)
    SolaraViz(model, components=[], model_params={"settings": accepted},
              render_interval=RENDER_DAYS, play_interval=50,
              name="Yanzhou community governance: what if?")
    Results(model.value, measure)
