"""Large real format-2 ledgers, fast: records signed with the library's own pieces.

``append_record`` spends most of an append in fsync and in re-reading the right edge of the
tiles; a ledger of 10^4 or 10^5 records for the memory tests and benchmarks is written here
instead with the same pieces (``build_record``, ``canonical.encode``, ``sshsig.sign``,
``LogEntry``, ``encode_bundle``, the tile layout, ``sign_checkpoint_note``), in one pass and
bounded memory. What it writes verifies with the real verifier; nothing here is trusted by it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import blake3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.ledger import canonical, sshsig
from bias_ledger.ledger.entry import dearmor
from bias_ledger.ledger.files import write_atomically
from bias_ledger.ledger.keys import fingerprint, public_key_openssh
from bias_ledger.ledger.merkle import SHA256_HASHER, CompactRange
from bias_ledger.ledger.reader import read_meta
from bias_ledger.ledger.record import RecordHeader, RecordKind, Signer, build_record
from bias_ledger.ledger.store import init_ledger
from bias_ledger.ledger.tlog_checkpoint import Checkpoint
from bias_ledger.ledger.tlog_entry import LogEntry, record_path
from bias_ledger.ledger.tlog_store import sign_checkpoint_note
from bias_ledger.ledger.tlog_tiles import (
    ENTRIES_LEVEL,
    TILE_WIDTH,
    Tile,
    encode_bundle,
    leaf_hash,
    subtree_root,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
RecordBytes = Callable[[RecordHeader], bytes]
"""Makes a record's bytes from its header (the default signs an audit-shaped payload)."""


def audit_payload(number: int, size: int) -> dict[str, Any]:
    """An audit-shaped payload of about ``size`` bytes (groups of counts and metrics)."""
    groups: list[dict[str, Any]] = []
    while 120 * len(groups) < size:
        g = len(groups)
        groups.append(
            {
                "group": [f"g{g}"],
                "counts": {"true_positives": g * 7, "false_positives": g, "true_negatives": 9},
                "metrics": {"selection_rate": {"value": 0.5 + g / 1000}},
            }
        )
    return {
        "schema_version": 2,
        "subject": {"model_name": "m", "model_version": str(number)},
        "results": {"features": [{"groups": groups}]},
    }


def audit_records(record_bytes: int) -> RecordBytes:
    def make(header: RecordHeader) -> bytes:
        return canonical.encode(build_record(header, audit_payload(header.index, record_bytes)))

    return make


class _Tiles:
    """Writes full hash tiles as they complete and the partial ones at the end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[list[bytes]] = []
        self.done: list[int] = []

    def add(self, level: int, node: bytes) -> None:
        if level == len(self.rows):
            self.rows.append([])
            self.done.append(0)
        row = self.rows[level]
        row.append(node)
        if len(row) == TILE_WIDTH:
            write_tile(self.path, Tile(level, self.done[level], TILE_WIDTH), b"".join(row))
            self.done[level] += 1
            self.rows[level] = []
            self.add(level + 1, subtree_root(row))

    def finish(self) -> None:
        for level, row in enumerate(self.rows):
            if row:
                write_tile(self.path, Tile(level, self.done[level], len(row)), b"".join(row))


def write_tile(path: Path, tile: Tile, data: bytes) -> None:
    target = path / tile.path()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def write_ledger(
    path: Path,
    size: int,
    key: Ed25519PrivateKey,
    records: RecordBytes,
    *,
    name: str = "bulk.example/log",
    kinds: Callable[[int], RecordKind] = lambda index: RecordKind.AUDIT,
) -> str:
    """Write a valid format-2 ledger of ``size`` records at ``path``; return its origin."""
    init_ledger(path, name=name, format_version=2)
    origin = read_meta(path).origin
    public = key.public_key()
    signer = Signer(fingerprint=fingerprint(public), public_key=public_key_openssh(public))
    (path / "records").mkdir()
    tree = CompactRange(0)
    tiles = _Tiles(path)
    bundle: list[bytes] = []
    previous = None
    for index in range(size):
        stamp = (START + timedelta(seconds=index)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        kind = kinds(index)
        header = RecordHeader(2, kind, index, stamp, previous, origin, signer)
        data = records(header)
        digest = blake3.blake3(data).hexdigest()
        (path / record_path(digest)).write_bytes(data)
        blob = dearmor(sshsig.sign(key, data), where="bulk ledger")
        entry = LogEntry(index, kind.value, digest, len(data), stamp, signer.fingerprint, blob)
        entry_bytes = entry.encode()
        bundle.append(entry_bytes)
        if len(bundle) == TILE_WIDTH:
            tile = Tile(ENTRIES_LEVEL, index // TILE_WIDTH, TILE_WIDTH)
            write_tile(path, tile, encode_bundle(bundle))
            bundle = []
        node = leaf_hash(entry_bytes)
        tree = tree.append(SHA256_HASHER, node)
        tiles.add(0, node)
        previous = digest
    if bundle:
        tile = Tile(ENTRIES_LEVEL, size // TILE_WIDTH, len(bundle))
        write_tile(path, tile, encode_bundle(bundle))
    tiles.finish()
    checkpoint = Checkpoint(origin, size, tree.root(SHA256_HASHER))
    write_atomically(path / "checkpoint", sign_checkpoint_note(checkpoint, key))
    return origin
