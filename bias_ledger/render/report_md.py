"""Markdown rendering of the report (standard library only; every cell escaped).

Charts cannot be inlined in Markdown: each is written as its title and description (the
numbers it draws are all in the tables).
"""

from __future__ import annotations

from collections.abc import Sequence

from bias_ledger.render.report import (
    Block,
    Bullets,
    Callout,
    Code,
    Figure,
    Heading,
    PageBreak,
    Paragraph,
    ReportData,
    Table,
)
from bias_ledger.render.report import build_report as _build

# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that can start
# markup (emphasis, code, links, HTML, tables, headings, lists) anywhere in a line.
_SPECIAL = frozenset("\\`*_{}[]()<>#|!~&$")
_TONE_WORDS = {"fail": "FAIL", "warn": "attention", "pass": "PASS", "info": "note"}


def escape(value: str) -> str:
    """Inline Markdown text that renders as exactly ``value`` (tables included)."""
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in value.replace("\n", " "))


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(escape(h) for h in headers) + " |"]
    lines.append("|" + "|".join("---" for _ in headers) + "|")
    lines += ["| " + " | ".join(escape(cell) for cell in row) + " |" for row in rows]
    return lines


def render_block(block: Block) -> list[str]:
    if isinstance(block, Heading):
        return ["#" * block.level + " " + escape(block.text)]
    if isinstance(block, Paragraph):
        return [escape(block.text)]
    if isinstance(block, Bullets):
        return ["- " + escape(item) for item in block.items]
    if isinstance(block, Table):
        return _table(block.headers, block.rows)
    if isinstance(block, Code):
        # Code text holds only fixed words, digests and fingerprints: no backtick can occur.
        return ["```sh", block.text, "```"]
    if isinstance(block, Callout):
        head = f"> **{escape(block.title)}**"
        return [head, *(f"> {escape(line)}" for line in block.lines)]
    if isinstance(block, Figure):
        chart = block.chart
        return [f"*Chart: {escape(chart.title)}.* {escape(chart.description)}"]
    if isinstance(block, PageBreak):
        return ["---"]
    raise TypeError(f"unknown block {block!r}")


def render_markdown(data: ReportData) -> str:
    """The report as Markdown; a pure function of ``data``."""
    parts = ["\n".join(render_block(block)) for block in _build(data)]
    return "\n\n".join(parts) + "\n"
