"""Operator documents as data (title, facts, sections of text, lists, checklists, tables, code),
rendered to Markdown and single-file HTML by Jinja2 templates, and to JSON as they are.

Documents are built from the Plan and the config (runbook.py, registers.py, report.py); the
templates know no document, so every document looks the same and its values are testable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dualpath.redaction import redact


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass
class Section:
    heading: str
    text: list[str] = field(default_factory=list)  # paragraphs
    items: list[str] = field(default_factory=list)  # bullets
    checks: list[str] = field(default_factory=list)  # checkboxes to tick
    table: Table | None = None
    code: list[str] = field(default_factory=list)  # commands or SQL, one block each
    notes: list[str] = field(default_factory=list)  # "Label: text" lines after the table (label in bold)
    tone: str = ""  # "" | "warn" | "danger" | "ok": colours the heading in HTML
    figure: str = ""  # an SVG the project drew (svg_timeline.py, svg_locks.py), text escaped there; HTML only


@dataclass
class Document:
    key: str  # file name stem: runbook, checklist, risk-register, ...
    title: str
    subtitle: str
    facts: list[tuple[str, str]] = field(default_factory=list)  # the summary strip on top
    sections: list[Section] = field(default_factory=list)
    footer: str = ""  # where the page came from, when not from `dualpath docs`

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["facts"] = dict(self.facts)
        return data

    def section(self, heading: str) -> Section:
        return next(s for s in self.sections if s.heading == heading)


def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                      autoescape=select_autoescape(["html.j2"]), trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["md_cell"] = lambda text: str(text).replace("|", "\\|").replace("\n", " ")
    return env


def render_markdown(document: Document) -> str:
    return redact(_environment().get_template("document.md.j2").render(doc=document))


def render_html(document: Document, siblings: Sequence[Document] = ()) -> str:
    """One self-contained page: inline CSS, no scripts, no external fonts; prints well."""
    return redact(_environment().get_template("document.html.j2").render(doc=document, siblings=siblings))


def render_json(document: Document) -> str:
    return redact(json.dumps(document.as_dict(), indent=2, ensure_ascii=False, default=str))


def write_documents(documents: Sequence[Document], out: Path) -> list[Path]:
    """``<key>.md``, ``<key>.html`` and ``<key>.json`` per document, plus ``index.html``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for document in documents:
        for suffix, text in (("md", render_markdown(document)), ("html", render_html(document, documents)),
                             ("json", render_json(document))):
            path = out / f"{document.key}.{suffix}"
            path.write_text(text, encoding="utf-8")
            written.append(path)
    index = out / "index.html"
    index.write_text(redact(_environment().get_template("index.html.j2").render(docs=documents)), encoding="utf-8")
    return written + [index]
