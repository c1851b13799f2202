"""The project stands on its own: every study code it cites (F1-F19, P1-P12, policies 1-8)
has a plain meaning in model/study.py and a row on docs/source.md, outputs show that
meaning, and no tracked file points outside the repository."""

from __future__ import annotations

import re
import subprocess

import pytest
from helpers import REPO

from analysis.reports.html import study_codes
from model import kpis, scenarios, study
from model.params import FIELDS, describe

SOURCE_PAGE = (REPO / study.FACTS_PAGE).read_text(encoding="utf-8")
ALL_CODES = [*study.FIGURES, *study.PROBLEMS, *study.POLICIES]


def tracked_files() -> list:
    try:
        names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                               check=True).stdout.split()
        return [REPO / n for n in names]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: every file
        return [p for p in REPO.rglob("*") if p.is_file() and ".venv" not in p.parts
                and ".git" not in p.parts]


def source_row(code: str) -> str:
    """The table row of docs/source.md for a code (policies: '| 3 |')."""
    key = code if code[0] in "FP" else code[0]
    match = re.search(rf"^\| {re.escape(key)} \|.*$", SOURCE_PAGE, re.M)
    assert match, f"{code} has no row on {study.FACTS_PAGE}"
    return match.group(0)


@pytest.mark.parametrize("code", ALL_CODES)
def test_every_code_has_a_row_and_the_same_numbers_there(code):
    row = source_row(code)
    meaning = study.explain(code)
    for number in re.findall(r"\d[\d,]*(?:\.\d+)?", meaning.split(":", 1)[1]):
        if code[0] == "F":  # the figures' numbers are the facts: they must agree
            assert number in row or number.replace(",", "") in row.replace(",", ""), \
                (code, number, row)


def cited_texts() -> dict[str, str]:
    """Every place the project's outputs take study codes from."""
    texts = {f"parameter {n}": f.metadata["source"] + " " + f.metadata["doc"]
             for n, f in FIELDS.items()}
    texts |= {f"measure {m.key}": kpis.label(m.key) for m in kpis.MEASURES}
    texts |= {f"scenario {n}": (lambda s: s.description)(scenarios.load(n))
              for n in scenarios.available()}
    for path in (REPO / "analysis" / "problems").glob("*.toml"):
        texts[f"problem {path.name}"] = path.read_text(encoding="utf-8")
    for path in (REPO / "model" / "scenario_files").glob("*.toml"):
        texts[f"scenario file {path.name}"] = path.read_text(encoding="utf-8")
    return texts


def test_every_code_the_outputs_cite_is_explained():
    unknown = {(where, c) for where, text in cited_texts().items() for c in study.codes_in(text)
               if c not in study.FIGURES and c not in study.PROBLEMS and c not in study.POLICIES}
    assert not unknown
    assert len({c for t in cited_texts().values() for c in study.codes_in(t)}) >= 20


def test_params_listing_shows_what_a_code_means():
    assert describe("urban_population").count(study.FIGURES["F2"]) == 1
    assert study.FIGURES["F4"] in describe("rate_property")
    assert study.POLICIES["8"] in describe("closed_loop")


def test_reports_explain_the_codes_they_cite():
    page = study_codes(["<p>tickets (F3: 588) and P3 in policy 3a</p>",
                        '<img src="data:image/png;base64,AAF4+F9/x">'])
    for code in ("F3", "P3", "3a"):
        assert study.explain(code).split(": ", 1)[1].replace("'", "&#x27;") in page
    assert "F9" not in page and study.FACTS_PAGE in page  # not from the image's base64


@pytest.mark.parametrize("text, codes", [
    ("F3 and F4; P11, policy 7 (F19)", ["F3", "F4", "P11", "F19", "7"]),
    ("F6 .. F7, policies 3b", ["F6", "F7", "3b"]),
    ("F1.5 x F20 P13 AF3 F3b", []),
])
def test_codes_are_found_exactly(text, codes):
    assert sorted(study.codes_in(text)) == sorted(codes)


def test_no_tracked_file_points_outside_the_repository():
    outside = re.compile(r"\.\./shared|SEED_FACTS|/work/(?!\w+\.)")
    link = re.compile(r"\]\((?!https?:|#|mailto:)([^)\s]+)\)")
    bad = []
    for path in tracked_files():
        if path.suffix not in (".md", ".py", ".toml", ".txt", ".cfg", ".yml", ".yaml", "") or \
                path.name == "test_study.py":
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        bad += [f"{path.relative_to(REPO)}: {m.group(0)}" for m in outside.finditer(text)]
        if path.suffix == ".md":
            for m in link.finditer(text):
                target = (path.parent / m.group(1).split("#")[0]).resolve()
                if not target.is_relative_to(REPO) or not target.exists():
                    bad.append(f"{path.relative_to(REPO)}: link {m.group(1)}")
    assert not bad, bad
