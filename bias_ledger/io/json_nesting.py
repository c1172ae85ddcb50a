"""JSON Lines nested too deeply for pyarrow's parser, refused before pyarrow reads a byte of it.

pyarrow's JSON reader recurses once per level of arrays and objects, in C: a line nested some
thousands deep overflows its thread's stack and the process dies (a segfault, exit 139) instead
of saying anything. :class:`~bias_ledger.io.formats.JsonLinesReader` therefore scans every file
with :func:`check_nesting` first, once per file per process, using the counting of
:mod:`bias_ledger.ledger.json_depth`: bytes methods in C over blocks of 1 MiB, read again
after the scan (``benchmarks/bench_json_nesting.py``: about 0.15 s for 100 MB of flat records,
0.3 s with escapes in their text, 0.5 s gzipped, as it is decompressed twice; pyarrow's own
read of the file takes about 1 s).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from bias_ledger.errors import InputError
from bias_ledger.ledger.json_depth import Nesting, scan

DATA_DEPTH = 128
"""The deepest nesting of arrays and objects a JSON Lines file may have: what DuckDB's JSON
reader takes (it refuses deeper ones itself), so the engines refuse the same files."""
BLOCK = 1 << 20
"""Bytes scanned at a time (decompressed)."""


def check_nesting(path: Path) -> None:
    """InputError naming the line of JSON Lines file ``path`` (``.gz`` decompressed, as pyarrow
    opens it) where arrays and objects nest more than :data:`DATA_DEPTH` deep."""
    found = os.stat(path)
    _check(str(path), (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns))


@functools.lru_cache(maxsize=64)
def _check(path: str, identity: tuple[int, int, int, int]) -> None:
    """The scan, remembered for a file not changed since (its device, inode, size and
    modification time); a refusal raises, so it is never remembered."""
    import pyarrow as pa

    state = Nesting()
    with pa.input_stream(path) as stream:
        while block := stream.read(BLOCK):
            state = scan(block, DATA_DEPTH, state)
            if state.deep_line is not None:
                raise InputError(
                    f"{path}: line {state.deep_line} of the file nests arrays and objects more "
                    f"than {DATA_DEPTH} deep; expected records nested at most {DATA_DEPTH} deep"
                )
