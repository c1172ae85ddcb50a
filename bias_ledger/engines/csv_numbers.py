"""What a numeric CSV column (score, regression values, weights) read as text accepts on an
SQL engine: exactly what pyarrow's CSV conversion accepts, so that every engine reads the same
numbers and refuses the same values.

DuckDB's and Spark's casts are lenient where pyarrow is not (``1_000`` is a thousand, a
``\\r`` or ``\\v`` around a number is trimmed). The SQL here casts a value only if it is
written as pyarrow reads a float64 (:data:`bias_ledger.io.numbers.FLOAT`), or, in a column the
arrow engine reads as integers throughout, a hexadecimal integer (pyarrow reads ``0x10`` as 16
there); NaN is missing, as on the arrow engine; any other value fails the query with
:data:`MARK`, the column and the value, and :func:`not_a_number` reads that back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bias_ledger.io.numbers import FLOAT, HEX, INTEGER, NAN

MARK = "bias-ledger: not a number"
_SEPARATOR = "\x1f"
_RAISED = re.compile(
    re.escape(MARK)
    + _SEPARATOR
    + "(?P<column>[^"
    + _SEPARATOR
    + "]*)"
    + _SEPARATOR
    + "(?P<value>.*?)"
    + _SEPARATOR,
    re.DOTALL,
)


@dataclass(frozen=True)
class Dialect:
    """How one SQL engine writes the pieces of the cast."""

    matches: Callable[[str, str], str]
    """SQL true when the text expression (first) fully matches the regular expression."""
    fail: Callable[[str], str]
    """SQL raising an error whose message is the text expression."""
    literal: Callable[[str], str]
    """An SQL string literal."""
    hexadecimal: Callable[[str], str]
    """SQL of trimmed text ``0x...`` as the integer it writes, as DOUBLE."""
    fits_bigint: Callable[[str], str]
    """SQL true when the text expression casts to a BIGINT."""


def cast_sql(column: str, name: str, dialect: Dialect, *, hexadecimal: bool = False) -> str:
    """SQL of text ``column`` (an identifier; ``name`` as messages name it) as DOUBLE, failing
    on a value pyarrow's CSV conversion does not read as a number."""
    match, text = dialect.matches, dialect.literal
    value = f"trim({column})"
    hex_branch = (
        f"WHEN {match(column, HEX)} THEN {dialect.hexadecimal(value)} " if hexadecimal else ""
    )
    raised = dialect.fail(
        f"concat({text(MARK + _SEPARATOR + name + _SEPARATOR)}, {column}, {text(_SEPARATOR)})"
    )
    return (
        f"CASE WHEN {column} IS NULL THEN CAST(NULL AS DOUBLE) "
        f"WHEN {match(column, NAN)} THEN CAST(NULL AS DOUBLE) "
        f"WHEN {match(column, FLOAT)} THEN CAST({value} AS DOUBLE) "
        f"{hex_branch}ELSE CAST({raised} AS DOUBLE) END"
    )


class Hexadecimal(Exception):
    """Read again: column ``name`` holds ``0x...`` and the arrow engine reads it as int64."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def widening_sql(raw: str, column: str, dialect: Dialect) -> str:
    """SQL counting the values of text ``column`` (an identifier) of relation ``raw`` that are
    numbers but no int64 to pyarrow: one would make the arrow engine read the column as
    float64, where ``0x...`` is no number."""
    match = dialect.matches
    return (
        f"SELECT count(*) AS n FROM {raw} WHERE {match(column, FLOAT)} AND NOT "
        f"({match(column, INTEGER)} AND {dialect.fits_bigint(column)})"
    )


def hexadecimal_retry(
    name: str,
    hexadecimal: bool,
    value: str,
    first: Callable[[], Any],
    widening: Callable[[], int],
) -> Hexadecimal | None:
    """A retry with ``0x...`` read as integers when the refused ``value`` is one and the arrow
    engine reads column ``name`` as int64 throughout: its first block (``first()``, the arrow
    engine's field; None if not CSV) typed so and no value widening it (``widening()`` counts
    them, :func:`widening_sql`)."""
    import pyarrow as pa

    if hexadecimal or re.match(HEX, value) is None:
        return None
    field = first()
    if field is None or not pa.types.is_integer(field.type):
        return None
    return None if widening() else Hexadecimal(name)


@dataclass(frozen=True)
class NotANumber:
    """What a failed cast names."""

    column: str
    value: str


def not_a_number(error: BaseException) -> NotANumber | None:
    """The column and value of a failed :func:`cast_sql`; None for any other error."""
    found = _RAISED.search(str(error))
    if found is None:
        return None
    return NotANumber(found.group("column"), found.group("value"))


def refused_rows(
    path: Path, name: str, *, default_na: bool, hexadecimal: bool
) -> tuple[list[str], str]:
    """The values of CSV column ``name`` that :func:`cast_sql` refuses, and where they are:
    the first data rows (1-based) as the arrow engine names rows."""
    import pyarrow.compute as pc

    from bias_ledger.engines.csv_text import ROW_EXAMPLES, rows_phrase_of, text_batches

    patterns = [FLOAT] + ([HEX] if hexadecimal else [])
    values: set[str] = set()
    found: list[int] = []
    for offset, column in text_batches(path, name, default_na=default_na):
        good = pc.is_null(column)
        for pattern in patterns:
            good = pc.or_(good, pc.match_substring_regex(column, pattern))
        bad = pc.invert(pc.fill_null(good, True))
        values.update(pc.unique(pc.filter(column, bad)).to_pylist())
        if len(found) <= ROW_EXAMPLES:
            found += [offset + int(i) + 1 for i in pc.indices_nonzero(bad).to_pylist()]
    return (sorted(values) if found else []), rows_phrase_of(path, found)
