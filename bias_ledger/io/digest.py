"""Streaming BLAKE3 digests of input files, multithreaded, in bounded memory."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from bias_ledger.errors import InputError
from bias_ledger.ledger.files import open_regular

CHUNK = 16 * 1024 * 1024
"""Bytes hashed between two progress callbacks; large enough for blake3's threads to pay off."""


def digest_file(path: Path, *, progress: Callable[[int], None] | None = None) -> tuple[str, int]:
    """The hex BLAKE3 digest and the size of the raw bytes of ``path``.

    ``progress``, when given, is called with the number of bytes just hashed (an increment,
    like ``rich.progress.Progress.advance``), possibly from another thread.
    """
    import blake3

    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    # One reused buffer rather than a memory map: a mapped file's pages count towards the
    # process's resident memory, which an audit of a large file must keep small.
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    size = 0
    try:
        with os.fdopen(open_regular(path, error=InputError), "rb", buffering=0) as handle:
            while read := handle.readinto(view):
                hasher.update(view[:read])
                size += read
                if progress is not None:
                    progress(read)
    except OSError as exc:
        raise InputError(
            f"{path}: cannot read the file to hash it ({exc.strerror or exc})"
        ) from None
    finally:
        view.release()
    return hasher.hexdigest(), size
