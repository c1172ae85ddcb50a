"""A CSV column whose values stop matching the type pyarrow inferred from its first block.

pyarrow types each CSV column from the first block it reads: a valid file whose group column
holds integers for 200,000 rows and then ``2.5`` fails to convert there. This is the one place
that recognises that failure (:func:`late_value`), picks the wider type (:func:`wider`: float64
for a number after integers, else text) and retries a read with it (:func:`retry_wider`). The
arrow engine, the row reader and the duckdb engine's typing of CSV text all use it. A JSON
Lines number that does not fit its field's first-block integer type is the same failure
(:class:`JsonNumberChanged`, found by :mod:`bias_ledger.io.read`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bias_ledger.errors import InputError
from bias_ledger.io import formats

T = TypeVar("T")

# pyarrow's own words (tests/io/test_io_late_types.py checks them against a real failure); the
# type may hold brackets, commas and colons ("date32[day]", "timestamp[ns, tz=+01:00]").
_CONVERSION = re.compile(
    r"In CSV column #(\d+): CSV conversion error to (.+?): invalid value '(.*)'"
)


@dataclass(frozen=True)
class LateValue:
    """What pyarrow's CSV reader says when a value does not convert to its column's type."""

    column: int
    """0-based position of the column among the file's columns (not the ones read)."""
    value: str
    """The value, as written in the file."""


def late_value(error: BaseException) -> LateValue | None:
    """The column and value of a pyarrow CSV conversion failure; None for any other error."""
    found = _CONVERSION.search(str(error))
    if found is None:
        return None
    return LateValue(int(found.group(1)), found.group(3))


class TypeChanged(InputError):
    """A CSV column's type changed after the first block: re-read it wider (see widened)."""

    def __init__(self, message: str, path: Path, name: str, value: str) -> None:
        super().__init__(message)
        self.path = path
        self.name = name
        self.value = value

    def widened(self, schema: Any) -> Any | None:
        """``schema`` with this column retyped float64 or text; None if it is text already."""
        kind = wider(schema.field(self.name), self.value)
        return None if kind is None else formats.widen(schema, self.name, kind)


class JsonNumberChanged(TypeChanged):
    """A JSON Lines number that does not fit the integer type the first block gave its field.

    pyarrow names the value, not the field: :attr:`candidates` are the fields of the first
    record holding it (in order); the first of them still an integer in the schema being read
    is the one widened, to float64 (as pyarrow's whole-file JSON reader promotes it)."""

    def __init__(self, message: str, path: Path, candidates: tuple[str, ...], value: str) -> None:
        super().__init__(message, path, candidates[0], value)
        self.candidates = candidates

    def widened(self, schema: Any) -> Any | None:
        import pyarrow as pa

        for name in self.candidates:
            if name in schema.names and pa.types.is_integer(schema.field(name).type):
                return formats.widen(schema, name, pa.float64())
        return None


def wider(field: Any, value: str) -> Any | None:
    """float64 for a number after integers (or nothing), else text; None once it is text.

    A column widened once (marked by :func:`bias_ledger.io.formats.widen`) that fails again
    becomes text: its values are then kept exactly as written."""
    import pyarrow as pa

    if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
        return None
    marked = bool(field.metadata and formats.WIDENED in field.metadata)
    try:
        float(value)
    except ValueError:
        return pa.string()
    return pa.string() if marked else pa.float64()


def retry_wider(read: Callable[[], T], widen: Callable[[TypeChanged], bool]) -> T:
    """``read()``, again after ``widen`` retypes each column a :class:`TypeChanged` names;
    the error itself once ``widen`` says the column cannot be widened further (False)."""
    while True:
        try:
            return read()
        except TypeChanged as changed:
            if not widen(changed):
                raise
