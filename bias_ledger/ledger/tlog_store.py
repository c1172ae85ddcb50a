"""Format-2 ledgers: the ledger directory is a C2SP tlog-tiles log plus content-addressed records.

An append writes, in this order and each file atomically (temporary file, fsync, rename): the
record under ``records/``, the entry bundle and hash tiles it changes, then the ``checkpoint``
(a signed note) that commits to them. The checkpoint is the commit point: a crash before it
leaves files the checkpoint does not cover (never read, overwritten by the next append), a
crash after it a complete append. The append state is read back from the checkpoint and the
right edge of the tiles, so there is no cache to rebuild. Witnesses are not this module's
business: the append workflow (``workflows/append.py``) pushes the checkpoint after the append.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import blake3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.errors import LedgerError
from bias_ledger.ledger import canonical, note, sshsig
from bias_ledger.ledger.entry import dearmor
from bias_ledger.ledger.files import fsync_directory, write_atomically
from bias_ledger.ledger.keys import fingerprint, public_key_openssh
from bias_ledger.ledger.merkle import SHA256_HASHER, CompactRange
from bias_ledger.ledger.record import RecordHeader, RecordKind, Signer, build_record, utc_timestamp
from bias_ledger.ledger.tlog_checkpoint import Checkpoint, parse_checkpoint
from bias_ledger.ledger.tlog_entry import LogEntry, parse_entry, record_path
from bias_ledger.ledger.tlog_source import DirectorySource, read_tile
from bias_ledger.ledger.tlog_tiles import (
    ENTRIES_LEVEL,
    TILE_WIDTH,
    Tile,
    decode_bundle,
    encode_bundle,
    leaf_hash,
    level_size,
    split_hashes,
    subtree_root,
    tile_levels,
)

FORMAT_VERSION = 2
CHECKPOINT_FILE = "checkpoint"


@dataclass(frozen=True)
class Edge:
    """The right edge of the log: what an append needs to know (read from the tiles)."""

    size: int
    bundle: tuple[bytes, ...]
    """Entries of the partial entry bundle (empty when ``size`` is a multiple of 256)."""
    partial: tuple[tuple[bytes, ...], ...]
    """Per hash tile level, the hashes of its partial tile (empty tuples for none)."""
    last_record: str | None
    """Hex BLAKE3 of the last record, None for an empty log."""

    def tree(self) -> CompactRange:
        hashes: list[bytes] = []
        for row in reversed(self.partial):
            start = 0
            for bit in reversed(range(TILE_WIDTH.bit_length())):
                if len(row) >> bit & 1:
                    hashes.append(subtree_root(row[start : start + (1 << bit)]))
                    start += 1 << bit
        return CompactRange(self.size, tuple(hashes))


def read_checkpoint_text(path: Path) -> Checkpoint | None:
    """The ledger's latest checkpoint body (signatures not checked: this is the writer's view)."""
    checkpoint_path = path / CHECKPOINT_FILE
    if not checkpoint_path.exists():
        return None
    signed = note.parse_note(checkpoint_path.read_bytes(), str(checkpoint_path))
    return parse_checkpoint(signed.text, str(checkpoint_path))


def read_edge(path: Path, size: int) -> Edge:
    """The right edge of the tree of ``size`` leaves of the ledger at ``path``."""
    source = DirectorySource(path)
    partial: list[tuple[bytes, ...]] = []
    for level in range(tile_levels(size)):
        count = level_size(size, level)
        width = count % TILE_WIDTH
        row: tuple[bytes, ...] = ()
        if width:
            tile = Tile(level, count // TILE_WIDTH, width)
            row = tuple(split_hashes(read_tile(source, tile), width, where=tile.path()))
        partial.append(row)
    bundle: tuple[bytes, ...] = ()
    last = None
    if size:
        width = size % TILE_WIDTH or TILE_WIDTH
        tile = Tile(ENTRIES_LEVEL, (size - 1) // TILE_WIDTH, width)
        entries = decode_bundle(read_tile(source, tile), width, where=f"{path}/{tile.path()}")
        last = parse_entry(entries[-1], where=f"{path} entry {size - 1}").record
        bundle = tuple(entries) if width < TILE_WIDTH else ()
    return Edge(size, bundle, tuple(partial), last)


def _write(path: Path, relative: str, data: bytes) -> None:
    target = path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, data)


def _prune(path: Path, tile: Tile) -> None:
    """Remove superseded partial versions of ``tile`` (after the checkpoint moved past them)."""
    partial_dir = path / (tile.full_path() + ".p")
    if not partial_dir.is_dir():
        return
    if tile.width == TILE_WIDTH:
        shutil.rmtree(partial_dir, ignore_errors=True)
        return
    for name in os.listdir(partial_dir):
        if name != str(tile.width):
            (partial_dir / name).unlink(missing_ok=True)


def _append_tiles(path: Path, edge: Edge, entry: bytes) -> tuple[list[Tile], CompactRange]:
    """Write the entry bundle and hash tiles of the tree with ``entry`` appended."""
    index = edge.size
    written: list[Tile] = []
    bundle = (*edge.bundle, entry)
    tile = Tile(ENTRIES_LEVEL, index // TILE_WIDTH, len(bundle))
    _write(path, tile.path(), encode_bundle(bundle))
    written.append(tile)
    node, level = leaf_hash(entry), 0
    while True:
        row = (*(edge.partial[level] if level < len(edge.partial) else ()), node)
        tile = Tile(level, (level_size(index + 1, level) - 1) // TILE_WIDTH, len(row))
        _write(path, tile.path(), b"".join(row))
        written.append(tile)
        if len(row) < TILE_WIDTH:
            break
        node, level = subtree_root(row), level + 1
    return written, edge.tree().append(SHA256_HASHER, leaf_hash(entry))


def sign_checkpoint_note(checkpoint: Checkpoint, key: Ed25519PrivateKey) -> bytes:
    """The checkpoint as a signed note by ``key``, named by the log's origin."""
    return note.sign_note(checkpoint.text(), checkpoint.origin, key)


@dataclass(frozen=True)
class Appended2:
    index: int
    record_hash: str
    record: Mapping[str, Any]
    checkpoint: Checkpoint
    signed_checkpoint: bytes


def append_record_v2(
    path: Path,
    origin: str,
    kind: RecordKind,
    payload: Mapping[str, Any],
    key: Ed25519PrivateKey,
    *,
    labels: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Appended2:
    """Sign and append one record; the caller holds the ledger lock."""
    current = read_checkpoint_text(path)
    size = 0 if current is None else current.size
    if current is not None and current.origin != origin:
        raise LedgerError(f"{path}/checkpoint: origin {current.origin!r}, expected {origin!r}")
    edge = read_edge(path, size)
    root = edge.tree().root(SHA256_HASHER)
    if current is not None and root != current.root_hash:
        raise LedgerError(
            f"{path}: the tiles' root {root.hex()} differs from the checkpoint's "
            f"{current.root_hash.hex()}; run 'bias-ledger verify' (nothing was appended)"
        )
    public = key.public_key()
    signer = Signer(fingerprint=fingerprint(public), public_key=public_key_openssh(public))
    header = RecordHeader(
        format_version=FORMAT_VERSION,
        kind=kind,
        index=size,
        timestamp=utc_timestamp(clock() if clock else None),
        previous_hash=edge.last_record,
        origin=origin,
        signer=signer,
    )
    record = build_record(header, payload, labels=labels)
    record_bytes = canonical.encode(record)
    digest = blake3.blake3(record_bytes).hexdigest()
    signature = dearmor(sshsig.sign(key, record_bytes), where="new signature")
    _write(path, record_path(digest), record_bytes)
    entry = LogEntry(
        index=size,
        kind=kind.value,
        record=digest,
        size=len(record_bytes),
        timestamp=header.timestamp,
        signer=signer.fingerprint,
        signature=signature,
    ).encode()
    written, tree = _append_tiles(path, edge, entry)
    checkpoint = Checkpoint(origin, tree.size, tree.root(SHA256_HASHER))
    signed = sign_checkpoint_note(checkpoint, key)
    write_atomically(path / CHECKPOINT_FILE, signed)
    for tile in written:
        _prune(path, tile)
    return Appended2(size, digest, record, checkpoint, signed)


def init_v2(path: Path, meta: Mapping[str, Any]) -> None:
    """Write a format-2 ledger's ``ledger.json`` (the tiles appear with the first append)."""
    if not note.is_valid_key_name(str(meta["origin"])):
        raise LedgerError(f"origin {meta['origin']!r}: expected no spaces or '+'")
    write_atomically(path / "ledger.json", canonical.encode(dict(meta)) + b"\n")
    fsync_directory(path.parent)
