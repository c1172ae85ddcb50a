"""CSV columns an SQL engine reads as text, typed afterwards exactly as the arrow engine types
them: by pyarrow's own CSV conversion, from the type pyarrow infers on the file's first block,
widened as :mod:`bias_ledger.io.late_types` widens it.

DuckDB's sniffer types a column from a sample and then casts every later value to that type,
leniently: ``'2.5'`` becomes ``3`` in a BIGINT column, ``'t'`` becomes true. A group column
of 1s and 2s with a late ``2.5`` would then merge that group with a real group 3. Read as text,
no value is ever cast by the engine; only the aggregated rows' distinct values are converted,
here, so group names and label values are the arrow engine's by construction.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bias_ledger.io import formats
from bias_ledger.io.columns import rows_phrase
from bias_ledger.io.late_types import TypeChanged, late_value, retry_wider, wider
from bias_ledger.io.model import FileFormat


@dataclass(frozen=True)
class ArrowTyping:
    """The arrow engine's starting types for CSV columns read as text."""

    first: Mapping[str, Any]
    """Column name to its pyarrow field as inferred from the first block of the first file
    holding it (the arrow engine's starting point)."""
    default_na: bool
    """Whether pyarrow's usual spellings of missing ("NA", "null", ...) are missing."""
    where: str
    """The input, as messages name it."""

    def typer(self) -> ColumnTyper:
        """A converter from these starting types, for one read of the input."""
        return ColumnTyper(self)


class ColumnTyper:
    """Text columns converted to the arrow engine's types, widened as later queries find
    wider values: the one mutable part (the types decided so far) of one read of an input."""

    def __init__(self, typing: ArrowTyping) -> None:
        self.typing = typing
        self.decided: dict[str, Any] = {}
        """Column name to the field it was finally read as (filled by :meth:`typed`): later
        queries convert their values to the same type."""

    def typed(self, table: Any) -> Any:
        """``table`` with each text column of the starting types converted to the arrow type."""
        import pyarrow as pa

        for index, name in enumerate(table.column_names):
            column = table.column(index)
            if name not in self.typing.first or not _is_text(column.type):
                continue
            converted = self._convert(name, column.cast(pa.string()))
            table = table.set_column(index, name, converted)
        return table

    def schema(self, schema: Any) -> Any:
        """A file's pyarrow schema with the decided types forced (so that reading the file
        again with pyarrow, to name rows, gives the same values)."""
        for name, decided in self.decided.items():
            if name in schema.names and not schema.field(name).type.equals(decided.type):
                schema = formats.widen(schema, name, decided.type)
        return schema

    def _convert(self, name: str, column: Any) -> Any:
        import pyarrow as pa
        import pyarrow.compute as pc

        first = self.typing.first[name]
        distinct = pc.unique(column.drop_null()) if len(column) else None
        if distinct is None or len(distinct) == 0:
            kind = self.decided.get(name, first).type
            return pa.nulls(len(column), kind if not pa.types.is_null(kind) else pa.string())
        fields = [self.decided.get(name, first)]

        def parse() -> Any:
            try:
                return _parse(distinct.to_pylist(), fields[-1].type, self.typing.default_na)
            except pa.ArrowInvalid as exc:
                found = late_value(exc)
                if found is None:
                    raise
                raise TypeChanged(str(exc), Path(self.typing.where), name, found.value) from None

        def widen(changed: TypeChanged) -> bool:
            kind = wider(fields[-1], changed.value)
            if kind is not None:
                fields.append(pa.field(name, kind, metadata={formats.WIDENED: b"1"}))
            return kind is not None

        values = retry_wider(parse, widen)
        self.decided[name] = fields[-1]
        return pc.take(values, pc.index_in(column, value_set=distinct))


def _is_text(kind: Any) -> bool:
    import pyarrow as pa

    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def _parse(values: Sequence[str], kind: Any, default_na: bool) -> Any:
    """``values`` as pyarrow's CSV reader converts them to ``kind`` (each quoted, so that any
    text reads back as itself)."""
    import pyarrow.csv as pcsv

    quoted = "".join('"' + value.replace('"', '""') + '"\n' for value in values)
    options = formats.csv_convert_options(None, default_na=default_na)
    options.column_types = {"v": kind}
    table = pcsv.read_csv(
        io.BytesIO(quoted.encode("utf-8")),
        read_options=pcsv.ReadOptions(column_names=["v"]),
        convert_options=options,
    )
    return table.column(0).combine_chunks()  # one array for pc.take


def arrow_typing(
    files: Sequence[Path], names: Sequence[str], *, default_na: bool, where: str
) -> ArrowTyping:
    """The arrow engine's starting types of ``names``, from the first of ``files`` holding each."""
    import pyarrow as pa

    reader = formats.reader_for(FileFormat.CSV)
    first: dict[str, Any] = {}
    for path in files:
        wanted = [name for name in names if name not in first]
        if not wanted:
            break
        try:
            schema = reader.schema(path, default_na=default_na)
        except (pa.ArrowException, OSError, ValueError):
            continue  # the engine's own read names the problem
        first.update({name: schema.field(name) for name in wanted if name in schema.names})
    for name in names:
        first.setdefault(name, pa.field(name, pa.string()))
    return ArrowTyping(first=first, default_na=default_na, where=where)


ROW_EXAMPLES = 5


def text_batches(path: Path, name: str, *, default_na: bool) -> Iterator[tuple[int, Any]]:
    """Column ``name`` of a CSV file read as text, batch by batch: (rows before the batch,
    its values), missing values null as the arrow engine spells them."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from bias_ledger.io.csv_options import csv_read_options

    options = formats.csv_convert_options([name], default_na=default_na)
    options.column_types = {name: pa.string()}
    offset = 0
    with pcsv.open_csv(
        pa.input_stream(str(path)), read_options=csv_read_options(path), convert_options=options
    ) as reader:
        for batch in reader:
            yield offset, batch.column(0)
            offset += batch.num_rows


def rows_phrase_of(path: Path, found: Sequence[int]) -> str:
    """The first :data:`ROW_EXAMPLES` of the 1-based data rows ``found``, as messages name
    rows ("some rows" if none)."""
    if not found:
        return "some rows"
    return rows_phrase(path, found[:ROW_EXAMPLES], len(found) > ROW_EXAMPLES)


def rows_holding(path: Path, name: str, value: str, *, default_na: bool) -> str:
    """Where column ``name`` of a CSV file holds ``value``: its first data rows (1-based) as
    the arrow engine names rows, and the file line of the first one."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found: list[int] = []
    for offset, column in text_batches(path, name, default_na=default_na):
        hits = pc.fill_null(pc.equal(column, pa.scalar(value)), False)
        found += [offset + int(i) + 1 for i in pc.indices_nonzero(hits).to_pylist()]
        if len(found) > ROW_EXAMPLES:
            break
    return rows_phrase_of(path, found)
