"""Readers of CSV, Parquet and JSON Lines files into pyarrow tables (only the needed columns)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bias_ledger.errors import InputError
from bias_ledger.io.model import FileFormat

# Longest suffixes first so that ".csv.gz" is not taken for ".gz".
SUFFIXES: tuple[tuple[str, FileFormat], ...] = (
    (".csv.gz", FileFormat.CSV),
    (".jsonl.gz", FileFormat.JSONL),
    (".ndjson.gz", FileFormat.JSONL),
    (".csv", FileFormat.CSV),
    (".parquet", FileFormat.PARQUET),
    (".pq", FileFormat.PARQUET),
    (".jsonl", FileFormat.JSONL),
    (".ndjson", FileFormat.JSONL),
)


def detect_format(path: Path) -> FileFormat:
    """The format of ``path`` from its extension; InputError for an unknown one."""
    name = path.name.lower()
    for suffix, fmt in SUFFIXES:
        if name.endswith(suffix):
            return fmt
    supported = ", ".join(suffix for suffix, _ in SUFFIXES)
    raise InputError(
        f"{path}: unknown file format {''.join(path.suffixes) or '(no extension)'!r}; "
        f"expected one of {supported}"
    )


def check_readable(path: Path) -> int:
    """The size of ``path`` in bytes; InputError when it is missing, a directory or empty."""
    try:
        if path.is_dir():
            raise InputError(f"{path}: is a directory, expected a data file")
        size = path.stat().st_size
        with path.open("rb"):
            pass
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: cannot read the file (permission denied)") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    if size == 0:
        raise InputError(f"{path}: the file is empty, expected a header and data rows")
    return size


def _fail(path: Path, fmt: FileFormat, exc: Exception) -> InputError:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InputError(f"{path}: cannot read as {fmt.value}: {detail}")


def _csv_options(columns: Sequence[str] | None) -> Any:
    import pyarrow.csv as pcsv

    # Empty strings in text columns are missing values, as they are in numeric columns.
    return pcsv.ConvertOptions(
        include_columns=list(columns) if columns is not None else None,
        strings_can_be_null=True,
    )


def column_names(path: Path, fmt: FileFormat) -> list[str]:
    """The column names of ``path`` without reading its data (first block only for text files)."""
    import pyarrow as pa

    try:
        if fmt is FileFormat.PARQUET:
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        if fmt is FileFormat.CSV:
            import pyarrow.csv as pcsv

            with pcsv.open_csv(pa.input_stream(str(path))) as reader:
                return list(reader.schema.names)
        import pyarrow.json as pj

        with pj.open_json(pa.input_stream(str(path))) as reader:
            return list(reader.schema.names)
    except (pa.ArrowException, OSError, ValueError) as exc:
        if "empty" in str(exc).lower():
            raise InputError(
                f"{path}: the file is empty, expected a header and data rows"
            ) from None
        raise _fail(path, fmt, exc) from None


def read_columns(path: Path, fmt: FileFormat, columns: Sequence[str]) -> Any:
    """A pyarrow Table of exactly ``columns`` (in that order) read from ``path``."""
    import pyarrow as pa

    try:
        if fmt is FileFormat.PARQUET:
            import pyarrow.parquet as pq

            table = pq.read_table(path, columns=list(columns))
        elif fmt is FileFormat.CSV:
            import pyarrow.csv as pcsv

            table = pcsv.read_csv(pa.input_stream(str(path)), convert_options=_csv_options(columns))
        else:
            import pyarrow.json as pj

            # pyarrow's JSON reader has no column selection: read, then keep what is needed.
            table = pj.read_json(pa.input_stream(str(path)))
            absent = [name for name in columns if name not in table.column_names]
            if absent:
                raise InputError(f"{path}: no column {absent[0]!r} in the JSON Lines records")
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _fail(path, fmt, exc) from None
    return table.select(list(columns))
