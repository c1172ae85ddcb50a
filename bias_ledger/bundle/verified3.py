"""A version-3 bundle verified and then read, with nothing swapped in between.

A version-3 bundle is verified as a stream and its records read again afterwards (a report, a
gate baseline). Reading the caller's file twice would let whoever can write it replace it
between the two reads, so the file is first copied into a private directory (mode 0700) and
that copy is both verified and read: what is read is what was verified.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import blake3

from bias_ledger.bundle.read3 import open_bundle3
from bias_ledger.bundle.verify3 import Verified3, verify_bundle3
from bias_ledger.errors import InputError
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.verify import Kept


@dataclass(frozen=True)
class VerifiedRecord:
    index: int
    record_hash: str
    """BLAKE3-256 of ``raw``, hex."""
    raw: bytes


@dataclass(frozen=True)
class VerifiedBundle3:
    """The verified private copy of a bundle: iterate its records as often as needed."""

    path: Path
    """The caller's path (for messages); the records are read from the private copy."""
    verified: Verified3
    copy: Path

    def records(self) -> Iterator[VerifiedRecord]:
        with open_bundle3(self.copy, str(self.path)) as bundle:
            for members in bundle.records():
                digest = blake3.blake3(members.record).hexdigest()
                yield VerifiedRecord(members.index, digest, members.record)


@contextmanager
def verified_bundle3(
    path: Path, trusted: TrustedKeys | None, *, since: Kept | None = None
) -> Iterator[VerifiedBundle3]:
    """Copy the bundle at ``path`` privately, verify the copy (raising as ``verify`` does) and
    yield it; the copy is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bias-ledger-bundle-") as scratch:
        copy = Path(scratch) / "bundle.tar"
        try:
            with path.open("rb") as source, copy.open("xb") as target:
                shutil.copyfileobj(source, target, 1 << 20)
        except OSError as exc:
            raise InputError(f"{path}: cannot read the bundle ({exc.strerror or exc})") from None
        yield VerifiedBundle3(
            path, verify_bundle3(copy, trusted, since=since, shown=str(path)), copy
        )
