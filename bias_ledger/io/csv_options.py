"""pyarrow's CSV read options for a file: a block size whose first block holds the header.

Apart from :mod:`bias_ledger.io.read` so that the readers of byte ranges
(:mod:`bias_ledger.io.csv_ranges`), which the whole-file reader calls, use it too without an
import cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bias_ledger.errors import InputError

MAX_CSV_BLOCK = 1 << 24
_DEFAULT_CSV_BLOCK = 1 << 20


def csv_block_size(path: Path) -> int:
    """A block size for reading ``path`` whose first block holds the whole header line."""
    import pyarrow as pa

    with pa.input_stream(str(path)) as stream:
        seen = 0
        while seen <= MAX_CSV_BLOCK:
            chunk = stream.read(1 << 20)
            if not chunk:
                break
            newline = chunk.find(b"\n")
            if newline >= 0:
                seen += newline + 1
                break
            seen += len(chunk)
    if seen > MAX_CSV_BLOCK:
        raise InputError(
            f"{path}: the first line is longer than {MAX_CSV_BLOCK >> 20} MiB; expected a "
            "header line of column names (is the file one long line?)"
        )
    return max(_DEFAULT_CSV_BLOCK, 1 << seen.bit_length())


def csv_read_options(path: Path, **options: Any) -> Any:
    import pyarrow.csv as pcsv

    return pcsv.ReadOptions(block_size=csv_block_size(path), **options)
