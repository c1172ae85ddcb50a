"""Markdown rendering of the report (standard library only; every cell escaped).

Charts cannot be inlined in Markdown: each is written as its title and description (the
numbers it draws are all in the tables).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

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
    report_blocks,
)

# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that can start
# markup (emphasis, code, links, HTML, tables, headings, lists) anywhere in a line.
_SPECIAL = frozenset("\\`*_{}[]()<>#|!~&$")
_TONE_WORDS = {"fail": "FAIL", "warn": "attention", "pass": "PASS", "info": "note"}


def escape(value: str) -> str:
    """Inline Markdown text that renders as exactly ``value`` (tables included)."""
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in value.replace("\n", " "))


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[str]:
    yield "| " + " | ".join(escape(h) for h in headers) + " |"
    yield "|" + "|".join("---" for _ in headers) + "|"
    for row in rows:
        yield "| " + " | ".join(escape(cell) for cell in row) + " |"


def render_block(block: Block) -> list[str]:
    """One block's lines."""
    return list(block_lines(block))


def block_lines(block: Block) -> Iterator[str]:
    """One block's lines, one at a time (a summary table can hold a row per record)."""
    if isinstance(block, Table):
        return _table(block.headers, block.rows)
    return iter(_lines(block))


def _lines(block: Block) -> list[str]:
    if isinstance(block, Heading):
        return ["#" * block.level + " " + escape(block.text)]
    if isinstance(block, Paragraph):
        return [escape(block.text)]
    if isinstance(block, Bullets):
        return ["- " + escape(item) for item in block.items]
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


def block_text(position: int, block: Block) -> Iterator[str]:
    """The text of the report's block at ``position``: blank-line separated, line by line."""
    if position:
        yield "\n\n"
    for n, line in enumerate(block_lines(block)):
        yield "\n" + line if n else line


END = "\n"


def markdown_text(blocks: Iterable[Block]) -> Iterator[str]:
    """The report's Markdown, piece by piece."""
    for position, block in enumerate(blocks):
        yield from block_text(position, block)
    yield END


def render_markdown(data: ReportData) -> str:
    """The report as Markdown; a pure function of ``data``."""
    return "".join(markdown_text(report_blocks(data)))
