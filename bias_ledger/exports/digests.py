"""SHA-256 of a model file, beside its BLAKE3: what in-toto subjects and registries key on."""

from __future__ import annotations

import hashlib
from pathlib import Path

from bias_ledger.errors import InputError

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of the file's bytes, read in bounded memory."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file to hash it ({exc.strerror})") from None
    return digest.hexdigest()
