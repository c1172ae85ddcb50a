"""A JSON Lines field holding values of two kinds (a number in some records, text in others):
every engine refuses it in the same words, naming the field and the real line of the file.

pyarrow's streaming reader says ``Column(/g) changed from number to string in row 32188``, a
row of the block it was reading, not of the file; DuckDB types such a field JSON and Spark
types it text. :func:`mixed_kinds` scans the file for the first line whose kind differs from
the field's first, so each engine's refusal is :func:`mixed_kinds`'s.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from bias_ledger.errors import InputError

_CHANGED = re.compile(r"Column\(/(?P<name>[^/)]*)\) changed from \w+ to \w+")

_KINDS = {bool: "true/false", int: "a number", float: "a number", str: "text"}


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return _KINDS.get(type(value), type(value).__name__)


def changed_field(error: BaseException) -> str | None:
    """The top-level field pyarrow names in a "changed from ... to ..." error; None else."""
    found = _CHANGED.search(str(error))
    return found.group("name") if found is not None else None


def mixed_kinds(path: Path, name: str) -> InputError | None:
    """The refusal of field ``name`` of JSON Lines file ``path`` holding two kinds of value
    (missing values aside), naming the first line of another kind; None if it holds one."""
    refused, _ = _first_kind(path, name)
    return refused


def mixed_across(paths: Sequence[Path], name: str) -> InputError | None:
    """:func:`mixed_kinds` of each of ``paths`` (the files of one directory or glob), then the
    refusal of field ``name`` holding one kind in one file and another kind in another, naming
    both files, their lines and kinds; None if every file holds the one kind."""
    first: tuple[Path, int, str] | None = None
    for path in paths:
        refused, found = _first_kind(path, name)
        if refused is not None:
            return refused
        if found is None:
            continue
        if first is None:
            first = (path, *found)
        elif found[1] != first[2]:
            return InputError(
                f"{path}: field {name!r} holds {found[1]} on line {found[0]} of the file, and "
                f"{first[2]} on line {first[1]} of {first[0]}; expected one kind of value in "
                "every record of every file"
            )
    return None


def _first_kind(path: Path, name: str) -> tuple[InputError | None, tuple[int, str] | None]:
    """The refusal of ``path`` holding two kinds of value in field ``name`` (None if one), and
    the line and kind of its first value (None if the field has no value)."""
    import io
    import json

    import pyarrow as pa

    first: tuple[int, str] | None = None
    needle = json.dumps(name)
    with (
        pa.input_stream(str(path), compression="detect") as stream,
        io.TextIOWrapper(stream, encoding="utf-8", errors="replace") as handle,
    ):
        for number, line in enumerate(handle, start=1):
            if needle not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict) or record.get(name) is None:
                continue
            kind = _kind(record[name])
            if first is None:
                first = (number, kind)
            elif kind != first[1]:
                return InputError(
                    f"{path}: field {name!r} holds {kind} on line {number} of the file, and "
                    f"{first[1]} on line {first[0]}; expected one kind of value in every record"
                ), first
    return None, first
