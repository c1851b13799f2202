"""Report on a scenario discovery (``python run.py discover``): where one policy stops beating
another across the plausible worlds, read from discovery.json, discovery.csv and
trajectory.csv with the same sentences the command printed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.scenario_discovery import Discovery, box_text, condition, read, sentences
from model import kpis

from .common import written
from .html import Page, Raw, details, figures, frame_table, measure, num, para, section

FIGURES = {"discovery.png": "every world on each parameter's range with the boxes' limits "
                            "shaded, and PRIM's peeling trajectories (coverage against density)"}


def build(d: Path) -> Page:
    disc = read(d)
    s = disc.setup
    said = sentences(disc)
    how = (f"For each of the {s['worlds']} plausible worlds of {Path(s['source']).name}, whether "
           f"{s['policy']} beats {s['against']} on {kpis.declared(s['measure']).label} (mean paired "
           "difference over the world's seeds); PRIM looks for ranges of the worlds' parameters "
           "that hold the worlds where it does not.")
    sections = [section("Boxes where the ranking flips", _boxes_table(disc)),
                section("Worlds", _worlds_summary(disc),
                        details(f"Every world ({len(disc.table)} rows)",
                                frame_table(_worlds_table(disc), numeric_from=0))),
                section("PRIM's peeling trajectories",
                        details(f"Every step ({len(disc.trajectory)} rows)",
                                frame_table(disc.trajectory, numeric_from=0))),
                section("Figures", *figures(d, FIGURES))]
    settings = [("experiment", s["source"]), ("kind", s["kind"]),
                ("particles (posterior)", Path(s["posterior"]).name),
                ("policy", s["policy"]), ("against", s["against"]),
                ("measure", f"{kpis.declared(s['measure']).label} ("
                            f"{'higher' if s['better'] > 0 else 'lower'} is better)"),
                ("worlds with a value", num(s["worlds"])), ("worlds drawn", num(s["worlds_drawn"])),
                ("seeds per world", num(s["seeds"])),
                ("parameters PRIM used", ", ".join(s["parameters"])),
                ("the same in every world", ", ".join(s["constant"]) or "none"),
                ("not numeric, not used by PRIM", ", ".join(s.get("not_numeric", [])) or "none"),
                ("density threshold", f"{s['threshold']:.0%}"),
                ("minimum coverage", f"{s['min_coverage']:.0%}"),
                ("PRIM (EMA Workbench)", ", ".join(f"{k} {v}" for k, v in s["prim"].items())),
                ("written", written(d / "discovery.json"))]
    return Page(f"Which assumptions decide the ranking: {s['policy']} against {s['against']}",
                [how, *said[1:]], settings, sections, said[:1])


def _boxes_table(disc: Discovery) -> Raw:
    if not disc.boxes:
        return para({"no_loss": "No box: the ranking never flips.",
                     "all_loss": "No box: the policy never wins.",
                     "no_box": "No box meets the density and coverage thresholds."}[disc.outcome],
                    "note")
    rows = []
    for bx in disc.boxes:
        for name, lim in bx["limits"].items():
            low, high = disc.setup["ranges"][name]
            qp = [v for v in bx["qp"].get(name, []) if v is not None]
            rows.append({"box": bx["box"], "condition": condition(name, lim),
                         "range over the worlds": f"{low:.3g} to {high:.3g}",
                         "quasi-p": num(max(qp)) if qp else "n/a",
                         "worlds in box": bx["worlds"], "losing in box": bx["losing"],
                         "density": f"{bx['density']:.0%}", "coverage": f"{bx['coverage']:.0%}"})
    note = para("Density: the share of the box's worlds in which the policy does not beat the "
                "other. Coverage: the share of all such worlds that the box holds. Quasi-p: "
                "how likely so large a density gain from this one limit would be by chance "
                f"(above {disc.setup['prim']['quasi_p_limit']} the limit may be noise). A box "
                "after the first is found among the worlds outside the boxes before it. In one line: "
                + "; or ".join(box_text(bx) for bx in disc.boxes) + ".", "note")
    return Raw(frame_table(pd.DataFrame(rows), numeric_from=2) + note)


def _worlds_summary(disc: Discovery) -> Raw:
    t, m = disc.table, disc.setup["measure"]
    won = t["a_beats_b"].astype(bool)
    worst = t["difference"].min() if kpis.better(m) > 0 else t["difference"].max()
    rows = [["worlds", len(t)], ["the policy wins", int(won.sum())],
            ["the policy does not win", int((~won).sum())],
            ["mean paired difference (policy − other)", measure(m, t["difference"].mean())],
            ["the policy's worst world (difference)", measure(m, worst)]]
    return frame_table(pd.DataFrame(rows, columns=["", "value"]), numeric_from=1)


def _worlds_table(disc: Discovery) -> pd.DataFrame:
    t = disc.table
    return t[["world", *disc.setup["parameters"], "a_mean", "b_mean", "difference", "pairs",
              "a_beats_b", "box"]]
