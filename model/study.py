"""The source study's codes with their plain meaning, for every output that cites them.

Parameters, KPI labels, reports and figures cite the Yanzhou study by code: figures F1–F19,
problems P1–P12, policies 1–8 (docs/source.md states each in full, with the citation). A
code alone means nothing to a reader, so outputs show it with the one-line meaning below
(``explain``); a test checks that every code used in the project's outputs is here and on
the facts page.
"""

from __future__ import annotations

import re

FACTS_PAGE = "docs/source.md"

# The two figures a simulated year is compared with (calibration targets, report readings,
# reference lines on figures): the model produces them, it is never given them.
F3_TICKETS_PER_10K = 588.0   # F3: 31,838 tickets / 54.1 (10,000s of district residents)
F4_PROPERTY_SHARE = 0.133    # F4: 4,225 of 31,838 tickets

FIGURES = {
    "F1": "541,000 residents in the whole of Yanzhou district (2021)",
    "F2": "244,000 residents in Yanzhou's urban area (2021)",
    "F3": "31,838 hotline tickets in 2021, about 588 per 10,000 residents per year",
    "F4": "4,225 property-management tickets, 13.3 % of all, the largest category (2021)",
    "F5": "598 full-time community workers, 24.5 per 10,000 residents (end 2021)",
    "F6": "the provincial standard of 18 community workers per 10,000 residents",
    "F7": "472 public-welfare posts hired in April 2022, giving 43.9 staff per 10,000",
    "F8": "communities from under 5,000 to over 15,000 residents (2021)",
    "F9": "7 'two committees' members per community, whatever its size",
    "F10": "123,000 residents in Longqiao street (2021)",
    "F11": "about 15,000 extra winter residents in Longqiao each heating season",
    "F12": "Longqiao grew from about 80,000 (2015) by 43,000 to end 2021",
    "F13": "about 200,000 yuan a year per community party organisation in Yanzhou",
    "F14": "about 580,000 yuan a year per community in Xiayang street, Shanghai (2021)",
    "F15": "270 couriers and 230 delivery riders (2021)",
    "F16": "78.8 % of couriers find compounds hard to enter, 49.2 % parking hard, "
           "33.9 % a toilet hard",
    "F17": "27 % of social organisations covered by a party organisation (end 2021)",
    "F18": "the heating season, mid-November to mid-March (general knowledge)",
    "F19": "in-unit party members owe 1 community activity and 1 liaison a month",
}

PROBLEMS = {
    "P1": "disputes multiply where residents of different origins mix and ties are weak",
    "P2": "old compounds' failing infrastructure breeds discontent",
    "P3": "growth and the winter influx overload fixed capacity for part of the year",
    "P4": "residents against property firms is the top complaint",
    "P5": "property firms are pushed to enforce what is not theirs",
    "P6": "couriers and riders cannot easily enter, park or find a toilet",
    "P7": "big cities' smart infrastructure is missing",
    "P8": "residents take little part; government 'sings solo'",
    "P9": "7 staff per community whatever its size",
    "P10": "funding too low to buy third-party services",
    "P11": "party organisations fragmented, members idle, admin crowds out service",
    "P12": "social organisations weakly covered",
}

POLICIES = {
    "1": "a five-level party organisation and joint meetings",
    "2": "residents deliberate, evaluate firms and committees, decisions published",
    "3": "'party building +': neighbourhood service, red property, bought services, volunteers, "
         "smart service",
    "3a": "neighbourhood pacts and a three-tier dispute platform",
    "3b": "'red property': party branches in firms and owners' committees",
    "3c": "professional services bought from social organisations",
    "3d": "volunteer teams with a points reward",
    "3e": "'smart service': recurring demands treated at the root",
    "4": "a task admission list, service stations, rest points for couriers",
    "5": "one merged grid: the grid calls, the block responds, departments report",
    "6": "couriers and riders as special grid workers",
    "7": "in-unit party members 'double report'; monthly secretaries",
    "8": "a six-step closed loop for every demand",
}

CODE = re.compile(r"\b(F1[0-9]|F[1-9]|P1[0-2]|P[1-9])\b(?![.\d])")
POLICY = re.compile(r"\bpolic(?:y|ies) ([1-8][a-e]?)\b")


def explain(code: str) -> str:
    """``'F3: 31,838 hotline tickets ...'``; KeyError for a code the study does not have."""
    if code in FIGURES:
        return f"{code}: {FIGURES[code]}"
    if code in PROBLEMS:
        return f"{code}: {PROBLEMS[code]}"
    return f"policy {code}: {POLICIES[code]}"


def codes_in(text: str) -> list[str]:
    """The study's codes cited in ``text`` (F-, P- and policy numbers), in order, once each."""
    found = [m.group(1) for m in CODE.finditer(text)]
    found += [m.group(1) for m in POLICY.finditer(text)]
    return list(dict.fromkeys(found))


def glossary(text: str) -> list[str]:
    """One line of meaning per code cited in ``text``."""
    return [explain(c) for c in codes_in(text)]
