"""Streaming BLAKE3 digests of input files, multithreaded and memory-mapped."""

from __future__ import annotations

import mmap
from collections.abc import Callable
from pathlib import Path

from bias_ledger.errors import InputError

CHUNK = 16 * 1024 * 1024
"""Bytes hashed between two progress callbacks; large enough for blake3's threads to pay off."""


def digest_file(path: Path, *, progress: Callable[[int], None] | None = None) -> tuple[str, int]:
    """The hex BLAKE3 digest and the size of the raw bytes of ``path``.

    ``progress``, when given, is called with the number of bytes just hashed (an increment,
    like ``rich.progress.Progress.advance``), possibly from another thread.
    """
    import blake3

    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    try:
        size = path.stat().st_size
        if size == 0:
            return hasher.hexdigest(), 0
        if progress is None and hasattr(hasher, "update_mmap"):
            hasher.update_mmap(str(path))
            return hasher.hexdigest(), size
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m:
            view = memoryview(m)
            try:
                for start in range(0, len(view), CHUNK):
                    piece = view[start : start + CHUNK]
                    hasher.update(piece)
                    if progress is not None:
                        progress(len(piece))
                    piece.release()
            finally:
                view.release()
            return hasher.hexdigest(), len(m)
    except OSError as exc:
        raise InputError(
            f"{path}: cannot read the file to hash it ({exc.strerror or exc})"
        ) from None
