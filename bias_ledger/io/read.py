"""Readers of CSV, Parquet and JSON Lines files into pyarrow tables (only the needed columns)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bias_ledger.errors import InputError
from bias_ledger.io import formats
from bias_ledger.io.csv_options import csv_block_size, csv_read_options
from bias_ledger.io.json_kinds import changed_field, mixed_kinds
from bias_ledger.io.late_types import JsonNumberChanged, TypeChanged, late_value, retry_wider
from bias_ledger.io.model import FileFormat
from bias_ledger.io.tables import InMemoryTable, column_batches
from bias_ledger.ledger.files import require_regular

Source = Path | InMemoryTable
"""What an audit reads: a file, or a table handed to the Python API."""

BATCH_ROWS = formats.BATCH_ROWS
SUFFIXES: tuple[tuple[str, FileFormat], ...] = tuple(
    sorted(
        ((suffix, item.format) for item in formats.FORMATS for suffix in item.suffixes),
        key=lambda pair: -len(pair[0]),
    )
)
"""Every known extension and its format, longest first (from :mod:`bias_ledger.io.formats`)."""


def detect_format(path: Source) -> FileFormat:
    """The format of ``path`` from its extension; InputError for an unknown one."""
    if isinstance(path, InMemoryTable):
        return FileFormat.TABLE
    return formats.format_of(path).format


def check_readable(path: Source) -> int:
    """The size of ``path`` in bytes; InputError when it is missing, a directory or empty."""
    if isinstance(path, InMemoryTable):
        if path.table.num_columns == 0:
            raise InputError(f"{path}: the table has no columns")
        return 0
    try:
        # Opens without blocking and refuses a FIFO, a device or a directory in one line.
        size = require_regular(path, error=InputError)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: cannot read the file (permission denied)") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    if size == 0:
        raise InputError(f"{path}: the file is empty, expected a header and data rows")
    return size


def _type_changed(path: Path, error: BaseException) -> TypeChanged | None:
    """The :class:`TypeChanged` of a CSV conversion failure (None for any other error)."""
    found = late_value(error)
    if found is None:
        return None
    names = list(read_schema(path, FileFormat.CSV).names)
    if found.column >= len(names):
        return None
    detail = str(error).strip().splitlines()[0]
    return TypeChanged(
        f"{path}: cannot read as csv: {detail}", path, names[found.column], found.value
    )


_JSON_CONVERSION = re.compile(r"Failed to convert JSON to (\S+), couldn't parse:(.*)$")


def _json_type_changed(path: Path, error: BaseException) -> TypeChanged | None:
    """The :class:`JsonNumberChanged` of a JSON Lines number that does not fit the integer type
    the first block gave its field (a late ``2.5`` among integers); None for any other error.

    pyarrow's message names the value, not the field: the first record holding that value as
    a non-integer number in a field the first block typed as integers names the candidates (a
    scan of the file, on this rare path only)."""
    import io
    import json

    import pyarrow as pa

    found = _JSON_CONVERSION.search(str(error).strip())
    if found is None or not found.group(1).startswith(("int", "uint")):
        return None
    value = found.group(2)
    try:
        number = float(value)
    except ValueError:
        return None
    schema = read_schema(path, FileFormat.JSONL)
    integers = {f.name for f in schema if pa.types.is_integer(f.type)}
    with (
        pa.input_stream(str(path), compression="detect") as stream,
        io.TextIOWrapper(stream, encoding="utf-8", errors="replace") as handle,
    ):
        for line in handle:
            if value not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict):
                continue
            candidates = tuple(
                name
                for name, held in record.items()
                if name in integers and isinstance(held, float) and held == number
            )
            if candidates:
                detail = str(error).strip().splitlines()[0]
                return JsonNumberChanged(
                    f"{path}: cannot read as jsonl: {detail}", path, candidates, value
                )
    return None


def read_fail(path: Source, fmt: FileFormat, exc: Exception) -> InputError:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if fmt is FileFormat.CSV and isinstance(path, Path):
        changed = _type_changed(path, exc)
        if changed is not None:
            return changed
    if fmt is FileFormat.JSONL and isinstance(path, Path):
        changed = _json_type_changed(path, exc)
        if changed is not None:
            return changed
        name = changed_field(exc)
        mixed = mixed_kinds(path, name) if name is not None else None
        if mixed is not None:
            return mixed
    if "straddl" in detail and isinstance(path, Path):
        return InputError(
            f"{path}: a line is longer than the {csv_block_size(path) >> 20} MiB the CSV reader "
            "takes at a time; expected shorter lines (is a quote left open?)"
        )
    if fmt is FileFormat.CSV and isinstance(path, Path) and detail.startswith("CSV parse error"):
        ragged = _first_ragged_row(path)
        if ragged:
            return InputError(f"{path}: {ragged}")
    return InputError(f"{path}: cannot read as {fmt.value}: {detail}")


def _first_ragged_row(path: Path) -> str:
    """Where the first record with the wrong number of fields is, for the message ("" if none)."""
    import csv
    import io

    import pyarrow as pa

    with (
        pa.input_stream(str(path), compression="detect") as stream,
        io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="") as handle,
    ):
        records = csv.reader(handle)
        header = next(records, None)
        if header is None:
            return ""
        for row, fields in enumerate(records, start=1):
            if fields and len(fields) != len(header):
                return (
                    f"data row {row} (line {records.line_num} of the file) has {len(fields)} "
                    f"fields; expected {len(header)}, one per header column"
                )
    return ""


def csv_line(path: Path, row: int) -> str:
    """``, the first on line N of the file`` for data row ``row`` of a CSV file: the line its
    record starts on (a quoted value may span lines, so lines and rows part ways)."""
    import csv
    import io

    import pyarrow as pa

    with (
        pa.input_stream(str(path), compression="detect") as stream,
        io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="") as handle,
    ):
        records = csv.reader(handle)
        ended = 0  # the line the previous record ended on (the header is record 0)
        for number, _ in enumerate(records):
            if number == row:
                return f", the first on line {ended + 1} of the file"
            ended = records.line_num
    return ""


# pyarrow's CSV reader must see the header line in its first block, whose default is 1 MiB;
# longer headers (a million columns) get a block that fits them, up to this bound.
def _csv_options(
    columns: Sequence[str] | None, as_dictionary: Sequence[str] = (), *, default_na: bool = True
) -> Any:
    return formats.csv_convert_options(columns, as_dictionary, default_na=default_na)


def read_schema(path: Source, fmt: FileFormat, *, default_na: bool = True) -> Any:
    """The pyarrow schema of ``path`` without reading its data (text files: first block only)."""
    import pyarrow as pa

    if isinstance(path, InMemoryTable):
        return path.table.schema

    try:
        schema = formats.reader_for(fmt).schema(path, default_na=default_na)
        schema.names  # noqa: B018 (decodes the names: a non-UTF-8 one raises here)
        return schema
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: a column name is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
            f"position {exc.start} of the name); expected UTF-8 names (re-encode the file, "
            "e.g. with iconv -t utf-8)"
        ) from None
    except (pa.ArrowException, OSError, ValueError) as exc:
        if "empty" in str(exc).lower() and _blank(path):
            raise InputError(
                f"{path}: the file is empty, expected a header and data rows"
            ) from None
        raise read_fail(path, fmt, exc) from None


def _blank(path: Path) -> bool:
    """Whether the file holds nothing but white space (pyarrow says "empty" for more)."""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            if chunk.strip():
                return False
    return True


def check_columns(path: Source, schema: Any, names: Sequence[str]) -> None:
    """InputError unless each of ``names`` is one flat column of text, numbers or booleans."""
    import pyarrow as pa

    everything = list(schema.names)
    for name in names:
        positions = [i + 1 for i, found in enumerate(everything) if found == name]
        if len(positions) > 1:
            where = ", ".join(str(i) for i in positions)
            raise InputError(
                f"{path}: column {name!r} appears {len(positions)} times (columns {where}); "
                "expected each column name once"
            )
        if not positions:
            continue
        kind = schema.field(name).type
        if (
            pa.types.is_nested(kind)
            or pa.types.is_dictionary(kind)
            and pa.types.is_nested(kind.value_type)
        ):
            raise InputError(
                f"{path}: column {name!r} holds nested values ({kind}); expected a flat column "
                "of text, numbers or booleans"
            )
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            raise InputError(
                f"{path}: column {name!r} is not UTF-8 text{_first_bad_row(path, name)}; "
                "expected UTF-8 (re-encode the file, e.g. with iconv -t utf-8)"
            )


def _first_bad_row(path: Source, name: str) -> str:
    """`` (row N holds bytes ...)`` for the first value that is not UTF-8, for the message."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    if not isinstance(path, Path) or detect_format(path) is not FileFormat.CSV:
        return ""
    options = pcsv.ConvertOptions(include_columns=[name], column_types={name: pa.binary()})
    row = 0
    with pcsv.open_csv(
        pa.input_stream(str(path)), read_options=csv_read_options(path), convert_options=options
    ) as reader:
        for batch in reader:
            for value in batch.column(0).to_pylist():
                row += 1
                try:
                    if value is not None:
                        value.decode("utf-8")
                except UnicodeDecodeError:
                    return f" (data row {row} holds {value[:20]!r})"
    return ""


def text_columns(schema: Any, names: Sequence[str]) -> list[str]:
    """Those of ``names`` that hold text in ``schema``: worth reading dictionary-encoded."""
    import pyarrow as pa

    kinds = (pa.types.is_string, pa.types.is_large_string)
    return [n for n in names if any(kind(schema.field(n).type) for kind in kinds)]


def read_columns(
    path: Source,
    fmt: FileFormat,
    columns: Sequence[str],
    *,
    as_dictionary: Sequence[str] = (),
    narrow: Sequence[str] = (),
    default_na: bool = True,
) -> Any:
    """A pyarrow Table of exactly ``columns`` (in that order) read from ``path``.

    Text columns named in ``as_dictionary`` are read dictionary-encoded where the format allows
    it (CSV, Parquet), which saves building and hashing every string. CSV and Parquet are read
    batch by batch and compacted as they come (see :func:`compact_table`), integer columns in
    ``narrow`` to their narrowest type: the file's columns are never all held at full width.
    """
    import pyarrow as pa

    from bias_ledger.io.batches import compact_table

    shared = list(as_dictionary)
    try:
        if isinstance(path, InMemoryTable):
            batches = column_batches(path, columns, BATCH_ROWS, dictionary=shared)
            schema = path.table.schema
            table = compact_table(batches, schema, columns, shared=shared, narrow=narrow)
        elif fmt is FileFormat.PARQUET:
            import pyarrow.parquet as pq

            with pq.ParquetFile(path, read_dictionary=shared or None) as parquet:
                batches = parquet.iter_batches(batch_size=BATCH_ROWS, columns=list(columns))
                schema = parquet.schema_arrow
                table = compact_table(batches, schema, columns, shared=shared, narrow=narrow)
        elif fmt is FileFormat.CSV:
            table = _read_csv(path, columns, shared=shared, narrow=narrow, default_na=default_na)
        else:
            reader = formats.reader_for(fmt)
            schema = reader.schema(path, default_na=default_na)
            batches = reader.batches(
                path, columns, as_dictionary=(), default_na=default_na, schema=schema
            )
            table = compact_table(batches, schema, columns, shared=(), narrow=narrow)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise read_fail(path, fmt, exc) from None
    release_freed_memory()
    return table.select(list(columns))


def _read_csv(
    path: Path,
    columns: Sequence[str],
    *,
    shared: list[str],
    narrow: Sequence[str],
    default_na: bool,
) -> Any:
    """Read a CSV file, retrying a column whose type changes after the first block.

    pyarrow infers each column's type from the first block; a valid file whose id or group
    column is integers for the first 100k rows and then holds ``x`` (or whose label is ``0``
    then ``0.5``) is re-read with that column typed float64 or, failing that, text.
    """
    import pyarrow as pa

    schemas = [read_schema(path, FileFormat.CSV, default_na=default_na)]

    def read() -> Any:
        try:
            return _read_csv_once(
                path,
                columns,
                shared=shared,
                narrow=narrow,
                default_na=default_na,
                schema=schemas[-1],
            )
        except pa.ArrowInvalid as exc:
            raise _type_changed(path, exc) or exc from None

    def widen(changed: TypeChanged) -> bool:
        wider = changed.widened(schemas[-1])
        if wider is not None:
            schemas.append(wider)
        return wider is not None

    return retry_wider(read, widen)


def _read_csv_once(
    path: Path,
    columns: Sequence[str],
    *,
    shared: list[str],
    narrow: Sequence[str],
    default_na: bool,
    schema: Any,
) -> Any:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from bias_ledger.io.batches import compact_table
    from bias_ledger.io.csv_ranges import parallel_worthwhile, read_compact

    # Streaming frees the raw text block by block, and each block is compacted at once;
    # a large file is parsed as two halves at once (one streaming reader uses one core).
    options = formats.csv_convert_options(columns, shared, default_na=default_na, schema=schema)
    if parallel_worthwhile(path):
        return read_compact(path, options, columns, shared=shared, narrow=narrow)
    with pcsv.open_csv(
        pa.input_stream(str(path)),
        read_options=csv_read_options(path),
        convert_options=options,
    ) as reader:
        return compact_table(reader, reader.schema, columns, shared=shared, narrow=narrow)


def release_freed_memory() -> None:
    """Hand the memory Arrow has freed back to the system.

    Arrow's allocator keeps freed pages for reuse, but the arrays built next are numpy's, which
    cannot reuse them: without this, the batches' scratch memory would add to the peak.
    """
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
