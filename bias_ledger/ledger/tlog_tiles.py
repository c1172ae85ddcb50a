"""C2SP tlog-tiles: tile coordinates and paths, hash tiles and entry bundles (standard library).

A tile is 256 hashes (or entries) wide. Hash tiles at level ``L`` hold the RFC 6962 SHA-256
hashes of the tree's nodes at height ``8 * L``; entry bundles hold the log entries themselves,
each preceded by its length as a big-endian uint16. A tile on the right edge of a tree of a given
size is *partial*: ``tile/<L>/<N>.p/<W>`` holds its first ``W`` hashes (1..255).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bias_ledger.errors import VerificationError

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
"""Hashes (or entries) in a full tile: 256."""
HASH_SIZE = 32
MAX_ENTRY_SIZE = 0xFFFF
"""The largest entry an entry bundle can hold (its length is a uint16)."""
ENTRIES_LEVEL = -1
"""The pseudo-level of entry bundles (``tile/entries/...``)."""


def encode_index(index: int) -> str:
    """The tile index as path elements: 3-digit groups, all but the last prefixed with ``x``.

    ``1234067`` is ``x001/x234/067``, as C2SP tlog-tiles spells it.
    """
    if index < 0:
        raise ValueError(f"tile index {index}: expected a non-negative integer")
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


@dataclass(frozen=True)
class Tile:
    """One tile: its level (``ENTRIES_LEVEL`` for entry bundles), index and width."""

    level: int
    index: int
    width: int
    """Number of hashes (entries) it holds, 1..256."""

    def path(self) -> str:
        """Its path under the log's prefix, e.g. ``tile/0/x001/234.p/7``."""
        level = "entries" if self.level == ENTRIES_LEVEL else str(self.level)
        suffix = "" if self.width == TILE_WIDTH else f".p/{self.width}"
        return f"tile/{level}/{encode_index(self.index)}{suffix}"

    def full_path(self) -> str:
        """The path of the full tile at the same coordinates."""
        return Tile(self.level, self.index, TILE_WIDTH).path()


def level_size(tree_size: int, level: int) -> int:
    """Number of stored hashes at tile level ``level`` in a tree of ``tree_size`` leaves.

    Level 0 (and entry bundles) count leaves; level ``L`` counts complete subtrees of
    ``256**L`` leaves.
    """
    return tree_size >> (TILE_HEIGHT * max(level, 0))


def tiles_of(tree_size: int, level: int) -> Iterator[Tile]:
    """Every tile at ``level`` that a tree of ``tree_size`` leaves uses, left to right."""
    count = level_size(tree_size, level)
    for index in range((count + TILE_WIDTH - 1) // TILE_WIDTH):
        yield Tile(level, index, min(TILE_WIDTH, count - index * TILE_WIDTH))


def tile_levels(tree_size: int) -> int:
    """Number of hash tile levels a tree of ``tree_size`` leaves has (0 for the empty tree)."""
    levels = 0
    while level_size(tree_size, levels) > 0:
        levels += 1
    return levels


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length and its bytes."""
    parts = []
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise ValueError(f"log entry of {len(entry)} bytes: at most {MAX_ENTRY_SIZE} allowed")
        parts.append(len(entry).to_bytes(2, "big") + entry)
    return b"".join(parts)


def decode_bundle(data: bytes, width: int, *, where: str) -> list[bytes]:
    """Split an entry bundle into exactly ``width`` entries, refusing any trailing bytes."""
    entries: list[bytes] = []
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise VerificationError(f"{where}: entry bundle ends inside a length prefix")
        length = int.from_bytes(data[offset : offset + 2], "big")
        offset += 2
        if offset + length > len(data):
            raise VerificationError(
                f"{where}: entry {len(entries)} declares {length} bytes, "
                f"only {len(data) - offset} remain"
            )
        entries.append(data[offset : offset + length])
        offset += length
    if len(entries) != width:
        raise VerificationError(f"{where}: expected {width} entries, found {len(entries)}")
    return entries


def split_hashes(data: bytes, width: int, *, where: str) -> list[bytes]:
    """Split a hash tile into its ``width`` 32-byte hashes."""
    if len(data) != width * HASH_SIZE:
        raise VerificationError(
            f"{where}: expected {width} hashes ({width * HASH_SIZE} bytes), found {len(data)} bytes"
        )
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def leaf_hash(entry: bytes) -> bytes:
    """RFC 6962 leaf hash: ``SHA-256(0x00 || entry)``."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def subtree_root(hashes: Sequence[bytes]) -> bytes:
    """The root of a complete subtree whose bottom row is ``hashes`` (a power of two of them)."""
    row = list(hashes)
    while len(row) > 1:
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
    return row[0]
