"""Streaming BLAKE3 (and SHA-256) digests of input files, multithreaded, in bounded memory."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bias_ledger.errors import InputError
from bias_ledger.ledger.files import open_regular

CHUNK = 16 * 1024 * 1024
"""Bytes hashed between two progress callbacks; large enough for blake3's threads to pay off."""


@dataclass(frozen=True)
class FileDigests:
    """A file's digests: BLAKE3 (the project's content hash) and SHA-256 (what in-toto
    subjects and model signing key on)."""

    blake3: str
    """Hex BLAKE3-256 of the raw bytes."""
    sha256: str
    """Hex SHA-256 of the raw bytes."""
    size: int
    """Length in bytes."""


def digest_file(path: Path, *, progress: Callable[[int], None] | None = None) -> tuple[str, int]:
    """The hex BLAKE3 digest and the size of the raw bytes of ``path``.

    ``progress``, when given, is called with the number of bytes just hashed (an increment,
    like ``rich.progress.Progress.advance``), possibly from another thread.
    """
    digests = file_digests(path, progress=progress, sha256=False)
    return digests.blake3, digests.size


def file_digests(
    path: Path, *, progress: Callable[[int], None] | None = None, sha256: bool = True
) -> FileDigests:
    """BLAKE3 and (unless ``sha256`` is false) SHA-256 of ``path``, in one pass."""
    import blake3

    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    second = hashlib.sha256() if sha256 else None
    # One reused buffer rather than a memory map: a mapped file's pages count towards the
    # process's resident memory, which an audit of a large file must keep small.
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    size = 0
    try:
        with os.fdopen(open_regular(path, error=InputError), "rb", buffering=0) as handle:
            while read := handle.readinto(view):
                hasher.update(view[:read])
                if second is not None:
                    second.update(view[:read])
                size += read
                if progress is not None:
                    progress(read)
    except OSError as exc:
        raise InputError(
            f"{path}: cannot read the file to hash it ({exc.strerror or exc})"
        ) from None
    finally:
        view.release()
    return FileDigests(hasher.hexdigest(), second.hexdigest() if second else "", size)
