"""HTML building blocks of the reports: number formatting, tables, embedded figures and the
page template (inline CSS only, nothing fetched from elsewhere). All text is escaped here."""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model import kpis, study

NEGATIVE_ZERO = re.compile(r"^-(?=0(\.0*)?%?$)")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Raw(str):
    """Text that is already HTML (built and escaped by these helpers)."""


@dataclass
class Page:
    """What a report shows: each kind's module in analysis/reports fills one per directory."""

    title: str
    reading: str | list[str]  # a paragraph, or a lead sentence and one bullet per point
    settings: list[tuple[str, Any]]
    sections: list[str] = field(default_factory=list)
    bottom_line: list[str] = field(default_factory=list)  # sentences shown first, see bottom.py


def esc(value: Any) -> str:
    """Escaped text (Raw passes through)."""
    return value if isinstance(value, Raw) else html.escape(str(value))


def missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float | np.floating) and not math.isfinite(value)


def num(value: Any) -> str:
    """A number for people: no 17-digit floats, thousands separators, 'n/a' for NaN/None."""
    if missing(value):
        return "n/a"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return num(int(v))
        a = abs(v)
        if a >= 1000:
            return f"{v:,.0f}"
        if a >= 100:
            return f"{v:.1f}"
        return f"{v:.3g}" if a >= 0.001 else f"{v:.2e}"
    return str(value)


def measure(key: str, value: Any) -> str:
    """A measure in its KPI format (model/kpis.py), else :func:`num`."""
    spec = kpis.fmt(key)
    if missing(value) or spec is None:
        return num(value)
    return NEGATIVE_ZERO.sub("", spec.format(value))


def ci_text(key: str, mean: Any, low: Any, high: Any) -> str:
    """'mean [low, high]' in the measure's format (just the mean when there is no interval)."""
    if missing(low) or missing(high):
        return measure(key, mean)
    return f"{measure(key, mean)} [{measure(key, low)}, {measure(key, high)}]"


def ci_cell(key: str, mean: Any, low: Any, high: Any) -> Raw:
    """A table cell: the mean, and the 95 % interval below it in small type."""
    if missing(low) or missing(high):
        return Raw(esc(measure(key, mean)))
    return Raw(f'{esc(measure(key, mean))}<br><span class="ci">'
               f'[{esc(measure(key, low))}, {esc(measure(key, high))}]</span>')


def pm_cell(value: Any, conf: Any) -> str:
    """'value ± conf' for sensitivity indices."""
    return num(value) if missing(conf) else f"{num(value)} ± {num(conf)}"


def table(headers: Sequence[Any] | None, rows: Iterable[Sequence[Any]],
          caption: str | None = None, numeric_from: int = 1) -> Raw:
    """An HTML table (no header row when ``headers`` is None); cells that are not strings
    are formatted with :func:`num`. Numbers in columns from ``numeric_from`` on are
    right-aligned."""
    head = "" if headers is None else (
        "<thead><tr>" + "".join(f"<th>{_breakable(h)}</th>" for h in headers) + "</tr></thead>")
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            text = cell if isinstance(cell, str) else num(cell)
            cls = ' class="n"' if i >= numeric_from and _numeric(text) else ""
            cells.append(f"<td{cls}>{esc(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return Raw(f'<div class="wide"><table>{cap}{head}'
               f"<tbody>{''.join(body)}</tbody></table></div>")


def _breakable(header: Any) -> str:
    """A header that may wrap after underscores (long measure keys)."""
    return esc(header) if isinstance(header, Raw) else esc(header).replace("_", "_<wbr>")


NUMERIC = re.compile(r"[-+−]?[\d.,]+(e[-+]?\d+)?%?( ± [-+\d.,e%]+)?|n/a|true|false")

LEADING_TAGS = re.compile(r"^(<[^>]+>)+")


def _numeric(text: str) -> bool:
    """Whether a cell shows a number (the part before any markup)."""
    return NUMERIC.fullmatch(LEADING_TAGS.sub("", text).split("<", 1)[0].strip()) is not None


def frame_table(df: pd.DataFrame, caption: str | None = None, numeric_from: int = 1,
                formats: dict[str, Callable[[Any], str]] | None = None) -> Raw:
    """A DataFrame as a table (columns as headers, no index); ``formats`` per column."""
    formats = formats or {}
    rows = [[formats[c](v) if c in formats else v for c, v in zip(df.columns, r, strict=True)]
            for r in df.itertuples(index=False)]
    return table(list(df.columns), rows, caption, numeric_from)


def pairs_table(pairs: Sequence[tuple[str, Any]], caption: str | None = None) -> Raw:
    """A two-column table of (name, value)."""
    return table(None, pairs, caption, numeric_from=2)


def figure(path: Path, caption: str) -> Raw:
    """A PNG file embedded as a data URI, with its caption."""
    return embedded(Path(path).read_bytes(), Path(path).name, caption)


def embedded(data: bytes, name: str, caption: str) -> Raw:
    """PNG bytes (a file's, or a figure the report draws) as a data URI, with its caption."""
    if not data.startswith(PNG_MAGIC):
        return Raw(f'<p class="note">{esc(name)} is not a PNG file; not shown.</p>')
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return Raw(f'<figure><img src="{uri}" alt="{esc(caption)}">'
               f"<figcaption>{esc(name)}: {esc(caption)}</figcaption></figure>")


def figures(directory: Path, captions: dict[str, str]) -> list[Raw]:
    """Every PNG in ``directory``: the captioned ones first in the given order, then the rest."""
    known = [directory / name for name in captions if (directory / name).is_file()]
    others = sorted(p for p in directory.glob("*.png") if p.name not in captions)
    return [figure(p, captions.get(p.name, p.stem.replace("_", " "))) for p in known + others]


def para(text: str, cls: str | None = None) -> Raw:
    attr = f' class="{cls}"' if cls else ""
    return Raw(f"<p{attr}>{esc(text)}</p>")


def reading_block(reading: str | list[str]) -> Raw:
    """The plain-language reading at the top of a page."""
    if isinstance(reading, str):
        return Raw(f'<div class="reading">{para(reading)}</div>')
    lead, *points = reading
    items = "".join(f"<li>{esc(p)}</li>" for p in points)
    return Raw(f'<div class="reading">{para(lead)}<ul>{items}</ul></div>')


def bottom_block(sentences: list[str]) -> Raw:
    """The bottom line, above the reading: what to act on, with its uncertainty."""
    if not sentences:
        return Raw("")
    return Raw(f'<div class="bottom"><p><b>Bottom line.</b> {esc(" ".join(sentences))}</p></div>')


def details(summary: str, *parts: str) -> Raw:
    return Raw(f"<details><summary>{esc(summary)}</summary>{''.join(parts)}</details>")


def section(title: str, *parts: str) -> Raw:
    return Raw(f"<section><h2>{esc(title)}</h2>{''.join(esc(p) for p in parts)}</section>")


def row_of(*parts: str) -> Raw:
    """Small tables side by side (they wrap on narrow screens)."""
    return Raw(f'<div class="row">{"".join(esc(p) for p in parts)}</div>')


CSS = """
*{box-sizing:border-box}
body{font-family:-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",
 "Noto Sans CJK SC",sans-serif;font-size:15px;line-height:1.45;color:#1d1d1f;background:#fff;
 max-width:1120px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:1.6em;margin:0 0 .2em}
h2{font-size:1.2em;margin:1.6em 0 .5em;padding-bottom:.2em;border-bottom:2px solid #d0d7de}
.sub{color:#57606a;font-size:.9em;margin:0 0 1em}
.reading{background:#f3f6fa;border-left:4px solid #4c72b0;padding:.1em 1em;margin:1em 0}
.reading li{margin:.25em 0}
.bottom{background:#eef7ee;border-left:4px solid #2e7d32;padding:.1em 1em;margin:1em 0;
 font-size:1.05em}
.warn{background:#fff4e5;border-left:4px solid #d97706;padding:.6em 1em}
.note{color:#57606a;font-size:.9em}
.wide{overflow-x:auto;margin:.4em 0 1em}
table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.3em 0;color:#333}
th,td{border:1px solid #d0d7de;padding:3px 8px;vertical-align:top}
th{background:#eef1f4;text-align:left;overflow-wrap:break-word;max-width:16em}
td.n{text-align:right;white-space:nowrap}
tbody tr:nth-child(even){background:#f8f9fa}
.ci{color:#57606a;font-size:.85em}
.row{display:flex;flex-wrap:wrap;gap:0 28px;align-items:flex-start}
figure{margin:1em 0 1.6em;break-inside:avoid}
img{max-width:100%;height:auto;display:block;border:1px solid #e5e7eb}
figcaption{font-size:.85em;color:#57606a;margin-top:.3em}
details{margin:.5em 0 1em}
summary{cursor:pointer;color:#0b5cad}
b.top{color:#0b5cad}
@media print{body{max-width:none;padding:0;font-size:10pt}table{font-size:8pt}
 .wide{overflow:visible}h2{break-after:avoid}tr{break-inside:avoid}
 .reading{border:1px solid #999}}
@page{margin:14mm}
"""


def study_codes(body: list[str]) -> Raw:
    """What each of the study's codes cited on the page means: a code alone ('F3') tells a
    reader nothing. Embedded images are skipped (base64 text can look like a code)."""
    text = re.sub(r"<img[^>]*>", " ", "\n".join(body))
    lines = study.glossary(html.unescape(re.sub(r"<[^>]+>", " ", text)))
    note = para(f"F-, P- and policy numbers cite the Yanzhou case study (2021–2022) that the "
                f"model is built on; {study.FACTS_PAGE} in the project restates all of them.",
                "note")
    if not lines:
        return section("Source", note)
    return section("The study's figures cited on this page", note,
                   Raw("<ul>" + "".join(f"<li>{esc(line)}</li>" for line in lines) + "</ul>"))


def render(page: Page, source: str, generated: str) -> str:
    """The whole HTML document of a page."""
    settings = pairs_table([(k, v) for k, v in page.settings if v is not None and v != ""])
    body = [f"<h1>{esc(page.title)}</h1>",
            f'<p class="sub">Yanzhou community-governance model · report of {esc(source)} · '
            f"generated {esc(generated)}</p>",
            bottom_block(page.bottom_line), reading_block(page.reading),
            section("Run settings", settings), *page.sections]
    body = [b for b in body if b]  # a kind may leave out a section it has no data for
    body.append(study_codes(body))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(page.title)}</title><style>{CSS}</style></head>\n<body>\n"
            + "\n".join(esc(b) if isinstance(b, Raw) else b for b in body)
            + "\n</body></html>\n")
