"""Bundle format 3 (format-2 ledgers): the manifest, the member names and order, the proof
member (docs/FORMAT.md, "Bundle format 3"). Standard library only.

The bundle is read front to back: ``bundle.json``, ``checkpoint``, then per record in index
order its entry, record, signature and proof, then the derived members. The manifest lists the
records as index ranges, so it is small whatever the bundle holds.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bias_ledger.bundle.model import (
    CHECKPOINT,
    CONSISTENCY,
    FORMAT_NAME,
    MANIFEST,
    REPORT_HTML,
    REPORT_MD,
    REPORT_VERSION,
    SIGNERS,
    dump_json,
    load_json,
    record_json,
    record_sig,
)
from bias_ledger.errors import BundleError
from bias_ledger.ledger.index_runs import IndexRanges
from bias_ledger.ledger.record import RecordKind

BUNDLE_FORMAT_VERSION = 3
HASH_NAME = "sha256"
SMALL_LIMIT = 1024 * 1024
"""Largest ``bundle.json``, ``checkpoint``, entry, signature, proof or signers member."""
RECORD_LIMIT = 64 * 1024 * 1024
"""Largest record member (``records/<N>.json``) and ``consistency.json``."""
_HEX_LINE = re.compile(rb"(?:[0-9a-f]{64}\n)*")


def entry_member(index: int) -> str:
    return f"entries/{index}"


def proof_member(index: int) -> str:
    return f"proofs/{index}"


def record_members(index: int) -> tuple[str, str, str, str]:
    """A record's members, in the order the bundle holds them."""
    return entry_member(index), record_json(index), record_sig(index), proof_member(index)


TRAILER = (SIGNERS, CONSISTENCY, REPORT_MD, REPORT_HTML)
"""The members after the records, in order; ``consistency.json`` is optional."""


def ranges_of(indexes: Iterable[int]) -> tuple[tuple[int, int], ...]:
    """Ascending distinct indexes as maximal inclusive ranges."""
    found: list[list[int]] = []
    for index in indexes:
        if found and index == found[-1][1] + 1:
            found[-1][1] = index
        else:
            found.append([index, index])
    return tuple((first, last) for first, last in found)


@dataclass(frozen=True)
class Manifest3:
    """The contents of a version-3 ``bundle.json``."""

    origin: str
    checkpoint_size: int
    checkpoint_root: str
    """Lowercase hex SHA-256 root of the checkpoint."""
    ranges: tuple[tuple[int, int], ...]
    """The records present: maximal inclusive ranges, ascending, neither overlapping nor
    adjacent, within the checkpoint."""
    report_version: int = REPORT_VERSION

    @property
    def count(self) -> int:
        return sum(last - first + 1 for first, last in self.ranges)

    def indexes(self) -> Iterator[int]:
        for first, last in self.ranges:
            yield from range(first, last + 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "checkpoint": {"root_hash": self.checkpoint_root, "size": self.checkpoint_size},
            "format": FORMAT_NAME,
            "format_version": BUNDLE_FORMAT_VERSION,
            "hash": HASH_NAME,
            "origin": self.origin,
            "ranges": [list(pair) for pair in self.ranges],
            "records": self.count,
            "report_version": self.report_version,
        }

    def encode(self) -> bytes:
        return dump_json(self.to_json())


def _int(value: Any, what: str) -> int:
    if type(value) is not int or value < 0:
        raise BundleError(f"{MANIFEST}: {what}: expected a non-negative integer, found {value!r}")
    return value


def parse_manifest3(raw: bytes) -> Manifest3:
    """The manifest, refusing any other fields, values or bytes than the exporter writes."""
    data = load_json(raw, member=MANIFEST)
    keys = sorted(Manifest3("", 1, "", ((0, 0),)).to_json())
    if not isinstance(data, dict) or sorted(data) != keys:
        raise BundleError(f"{MANIFEST}: expected exactly the fields {keys}")
    checkpoint = data["checkpoint"]
    if not isinstance(checkpoint, dict) or sorted(checkpoint) != ["root_hash", "size"]:
        raise BundleError(f"{MANIFEST}: checkpoint: expected the fields root_hash and size")
    size = _int(checkpoint["size"], "checkpoint.size")
    root = checkpoint["root_hash"]
    if not isinstance(root, str) or not re.fullmatch(r"[0-9a-f]{64}", root):
        raise BundleError(f"{MANIFEST}: checkpoint.root_hash: expected 64 lowercase hex digits")
    if data["hash"] != HASH_NAME or not isinstance(data["origin"], str):
        raise BundleError(f"{MANIFEST}: expected hash {HASH_NAME!r} and a string origin")
    listed = data["ranges"]
    if not isinstance(listed, list) or not listed:
        raise BundleError(f"{MANIFEST}: ranges: expected a non-empty list: nothing to verify")
    ranges: list[tuple[int, int]] = []
    for item in listed:
        if not isinstance(item, list) or len(item) != 2:
            raise BundleError(f"{MANIFEST}: ranges: expected [first, last] pairs, found {item!r}")
        first, last = _int(item[0], "ranges"), _int(item[1], "ranges")
        after = ranges[-1][1] + 1 if ranges else 0
        if first > last or last >= size or (ranges and first <= after):
            raise BundleError(
                f"{MANIFEST}: ranges: [{first}, {last}] is not an ascending range within the "
                f"checkpoint's {size} records, apart from the one before"
            )
        ranges.append((first, last))
    manifest = Manifest3(
        data["origin"], size, root, tuple(ranges), _int(data["report_version"], "report_version")
    )
    if data["records"] != manifest.count or manifest.report_version < 1:
        raise BundleError(
            f"{MANIFEST}: records is {data['records']!r}; the ranges hold {manifest.count}"
        )
    if manifest.encode() != raw:
        raise BundleError(f"{MANIFEST}: expected the canonical layout (FORMAT.md)")
    return manifest


def encode_proof(hashes: Sequence[bytes]) -> bytes:
    """``proofs/<N>``: each sibling hash from the leaf up, 64 lowercase hex digits and LF."""
    return b"".join(h.hex().encode("ascii") + b"\n" for h in hashes)


def parse_proof(raw: bytes, where: str) -> list[bytes]:
    if not _HEX_LINE.fullmatch(raw):
        raise BundleError(f"{where}: expected lines of 64 lowercase hex digits, each ending LF")
    return [bytes.fromhex(line.decode("ascii")) for line in raw.split(b"\n")[:-1]]


class RecordHashes:
    """The BLAKE3 hash and kind of every record read so far, found by index through the
    manifest's ranges: what approvals and links are checked against. They (33 bytes a record)
    are spilled to a temporary file; only the latest, which the next record links to, is
    kept."""

    _SIZE = 33
    """32 bytes of BLAKE3, then the kind's position in :class:`RecordKind`."""
    _KINDS = tuple(RecordKind)

    def __init__(self, ranges: Sequence[tuple[int, int]]) -> None:
        self._indexes = IndexRanges(ranges)
        self._spill = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the object
        self._count = 0
        self._latest = b""

    def add(self, index: int, digest: bytes, kind: RecordKind) -> None:
        assert self._indexes.position(index) == self._count, "records are added in order"
        stored = digest + bytes([self._KINDS.index(kind)])
        self._spill.seek(self._SIZE * self._count)
        self._spill.write(stored)
        self._count += 1
        self._latest = stored

    def _stored(self, index: int) -> bytes | None:
        position = self._indexes.position(index)
        if position is None or position >= self._count:
            return None
        if position == self._count - 1:
            return self._latest
        self._spill.seek(self._SIZE * position)
        return self._spill.read(self._SIZE)

    def get(self, index: int) -> str | None:
        """The hex hash of record ``index`` if the bundle holds it and it was read."""
        stored = self._stored(index)
        return None if stored is None else stored[:32].hex()

    def kind(self, index: int) -> RecordKind | None:
        """The kind of record ``index`` if the bundle holds it and it was read."""
        stored = self._stored(index)
        return None if stored is None else self._KINDS[stored[32]]

    def close(self) -> None:
        self._spill.close()


__all__ = [
    "BUNDLE_FORMAT_VERSION",
    "CHECKPOINT",
    "TRAILER",
    "Manifest3",
    "RecordHashes",
    "encode_proof",
    "parse_manifest3",
    "parse_proof",
    "ranges_of",
    "record_members",
]
