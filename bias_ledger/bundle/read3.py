"""Read a version-3 bundle front to back in the order FORMAT.md fixes: the manifest, the
checkpoint, each record's four members, the trailer. One record in memory at a time; every
member's name is the one the layout requires next, so nothing can escape, repeat or hide.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bias_ledger.bundle.format3 import (
    RECORD_LIMIT,
    SMALL_LIMIT,
    TRAILER,
    Manifest3,
    parse_manifest3,
    record_members,
)
from bias_ledger.bundle.model import CHECKPOINT, CONSISTENCY, MANIFEST, REPORT_HTML, REPORT_MD
from bias_ledger.bundle.tar3 import BLOCK, TarReader
from bias_ledger.errors import BundleError, InputError

USTAR_MAGIC = b"ustar\x0000"


def is_tar(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a ustar archive (a version-3 bundle)."""
    return len(head) >= BLOCK and head[257:265] == USTAR_MAGIC


@dataclass(frozen=True)
class RecordMembers:
    """The four members of one record, as read."""

    index: int
    entry: bytes
    record: bytes
    signature: bytes
    proof: bytes


@dataclass(frozen=True)
class Trailer:
    signers: bytes
    consistency: bytes | None
    report_bytes: int
    """Size of report.md and report.html together (read, not kept: informative)."""


class Bundle3:
    """An open version-3 bundle being read; ``manifest`` and ``checkpoint`` are read first."""

    def __init__(self, stream: BinaryIO, where: str) -> None:
        self.where = where
        self.tar = TarReader(stream, where)
        self.manifest = self._manifest()
        self.checkpoint = self._small(CHECKPOINT)

    def _small(self, name: str, limit: int | None = None) -> bytes:
        member = self.tar.next(name)
        assert member is not None  # next() refuses the end when a name is expected
        return self.tar.read(member, SMALL_LIMIT if limit is None else limit)

    def _manifest(self) -> Manifest3:
        raw = self._small(MANIFEST)
        try:
            return parse_manifest3(raw)
        except BundleError as exc:
            raise BundleError(f"{self.where}: {exc.message}") from None

    def records(self) -> Iterator[RecordMembers]:
        for index in self.manifest.indexes():
            names = record_members(index)
            entry, record, sig, proof = (
                self._small(name, RECORD_LIMIT if name.endswith(".json") else SMALL_LIMIT)
                for name in names
            )
            yield RecordMembers(index, entry, record, sig, proof)

    def trailer(self) -> Trailer:
        signers = self._small(TRAILER[0])
        member = self.tar.next(CONSISTENCY, REPORT_MD)
        assert member is not None
        consistency = None
        if member.name == CONSISTENCY:
            consistency = self.tar.read(member, RECORD_LIMIT)
            member = self.tar.next(REPORT_MD)
            assert member is not None
        total = 0
        for name in (REPORT_MD, REPORT_HTML):
            if name == REPORT_HTML:
                member = self.tar.next(REPORT_HTML)
                assert member is not None
            total += sum(len(chunk) for chunk in self.tar.chunks(member))
        self.tar.next()
        return Trailer(signers, consistency, total)


@contextmanager
def open_bundle3(path: Path, shown: str | None = None) -> Iterator[Bundle3]:
    """The bundle at ``path`` opened for one front-to-back read; messages name it ``shown``
    (default: ``path``)."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the bundle ({exc.strerror or exc})") from None
    with handle:
        yield Bundle3(handle, shown or str(path))


def sniff(path: Path) -> bytes:
    """The first block of the file at ``path`` (to tell a tar from a zip)."""
    if not path.exists():
        raise InputError(f"{path}: bundle file not found")
    if not path.is_file():
        raise InputError(f"{path}: expected a bundle file, found a directory or special file")
    try:
        with path.open("rb") as handle:
            return handle.read(BLOCK)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the bundle ({exc.strerror or exc})") from None
