"""Rich tables of an LL144 audit for the terminal (with the flags and tests the summary omits)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table

from bias_ledger.standards.ll144_model import FOUR_FIFTHS_BASIS
from bias_ledger.standards.ll144_view import FLAG_HEADERS, summary_view


def ll144_report(record_or_payload: Mapping[str, Any]) -> RenderableType:
    view = summary_view(record_or_payload)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    for name, value in view.facts:
        facts.add_row(escape(name), escape(value))
    parts: list[RenderableType] = ["[bold]NYC Local Law 144 bias audit[/]", facts]
    for table in view.tables:
        grid = Table(
            title=f"{escape(table.title)} (unknown: {table.unknown})", title_justify="left"
        )
        for name in (*table.headers, *FLAG_HEADERS):
            grid.add_column(escape(name))
        for row, flags in zip(table.rows, table.flags, strict=True):
            grid.add_row(*(escape(cell) for cell in (*row, *flags)))
        parts.append(grid)
    for breakdown, category, why in view.exclusions:
        parts.append(
            f"excluded from {escape(breakdown)} impact ratios: {escape(category)} ({escape(why)})"
        )
    parts.append(
        f"[dim]four-fifths flag: {escape(FOUR_FIFTHS_BASIS)}; small: fewer individuals than "
        "--min-group-size (kept in the ratios)[/]"
    )
    return Group(*parts)
