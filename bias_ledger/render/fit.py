"""Tables that fit the terminal: numbers are never cut; columns that do not fit go to a
continuation table that repeats the key column (the group), and long row lists are bounded.

The split happens when the table is rendered, at the console's width (``COLUMNS``); printed
at :data:`WIDE` (``--wide``) it is one table with every column and every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

WIDE = 100_000
"""The width ``--wide`` prints at: everything on one table."""
MIN_KEY = 12
"""The key (group) column folds to no fewer than this many cells."""

LISTED = 8
"""Items of a :class:`Listing` cell shown below :data:`WIDE` before "and N more"."""


@dataclass(frozen=True)
class Listing:
    """A cell listing groups: bounded ("and N more") unless printed ``--wide``."""

    items: tuple[str, ...]

    def text(self, wide: bool) -> str:
        shown = self.items if wide else self.items[:LISTED]
        rest = len(self.items) - len(shown)
        return "; ".join(shown) + (f" and {rest} more" if rest else "")


Cell = str | Text | Listing


def _shown(cell: Cell, wide: bool) -> str | Text:
    return cell.text(wide) if isinstance(cell, Listing) else cell


def _width(cell: Cell) -> int:
    if isinstance(cell, Listing):
        cell = cell.text(False)
    text = cell.plain if isinstance(cell, Text) else Text.from_markup(cell).plain
    return max((cell_len(line) for line in text.split("\n")), default=0)


@dataclass(frozen=True)
class Column:
    header: str
    justify: str = "right"
    """``left`` for names and words, ``right`` for numbers."""
    wraps: bool = False
    """Words that may wrap (a message); numbers never do."""


@dataclass
class FittedTable:
    """A rich table that splits its columns to fit; the first ``keys`` columns repeat."""

    title: str
    columns: Sequence[Column]
    rows: list[Sequence[Cell]] = field(default_factory=list)
    keys: int = 1
    limit: int | None = None
    """At most this many rows below :data:`WIDE`, then a line "and N more"."""
    more: str = "use --wide or --json for all"

    def add_row(self, *cells: Cell) -> None:
        self.rows.append(cells)

    def _natural(self, index: int, rows: Sequence[Sequence[Cell]]) -> int:
        header = self.columns[index].header
        return max([cell_len(header), *(_width(row[index]) for row in rows)])

    def _parts(self, width: int, rows: Sequence[Sequence[Cell]]) -> list[list[int]]:
        natural = [self._natural(i, rows) for i in range(len(self.columns))]
        keys = list(range(self.keys))
        key_width = sum(min(natural[i], max(MIN_KEY, width // 4)) + 3 for i in keys) + 1
        parts: list[list[int]] = []
        current: list[int] = []
        used = key_width
        for index in range(self.keys, len(self.columns)):
            need = (
                min(natural[index], max(MIN_KEY, width // 3))
                if self.columns[index].wraps
                else natural[index]
            ) + 3
            if current and used + need > width:
                parts.append(current)
                current, used = [], key_width
            current.append(index)
            used += need
        parts.append(current)
        return [keys + part for part in parts]

    def _table(self, title: str, indexes: list[int], rows: Sequence[Sequence[Cell]], width: int,
               wide: bool) -> Table:  # fmt: skip
        table = Table(title=title, title_justify="left")
        for index in indexes:
            column = self.columns[index]
            folds = index < self.keys or column.wraps
            limit = max(MIN_KEY, width // 4 if index < self.keys else width // 3)
            table.add_column(
                column.header,
                justify="left" if column.justify == "left" else "right",
                no_wrap=not folds or wide,
                overflow="fold",
                max_width=None if wide or not folds else limit,
            )
        for row in rows:
            table.add_row(*(_shown(row[i], wide) for i in indexes))
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        wide = width >= WIDE
        rows = self.rows if wide or self.limit is None else self.rows[: self.limit]
        parts = [list(range(len(self.columns)))] if wide else self._parts(width, rows)
        for n, indexes in enumerate(parts):
            title = self.title if n == 0 else f"{self.title} (continued)"
            yield self._table(title, indexes, rows, width, wide)
        if len(rows) < len(self.rows):
            yield Text(f"and {len(self.rows) - len(rows)} more rows ({self.more})", style="dim")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        natural = [self._natural(i, self.rows) for i in range(len(self.columns))]
        full = sum(w + 3 for w in natural) + 1
        return Measurement(min(full, MIN_KEY + 4 + max(natural, default=0) + 3), full)
