"""The RFC 6962 SHA-256 tree of a tiled log, read from its hash tiles: roots and proofs.

Any node is the hash of at most 128 stored hashes of one tile, so a proof reads O(log n) tiles
and never the entries.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from bias_ledger.errors import InputError
from bias_ledger.ledger.merkle import (
    SHA256_HASHER,
    CompactRange,
    consistency_path,
    inclusion_path,
)
from bias_ledger.ledger.merkle_verify import verify_consistency, verify_inclusion
from bias_ledger.ledger.tlog_source import DirectorySource, LogSource, read_tile
from bias_ledger.ledger.tlog_tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    Tile,
    level_size,
    split_hashes,
    subtree_root,
)

_CACHE_TILES = 8
"""Tiles kept (least recently used out). A walk in index order (export, publish) touches at most
two tiles a level, the current one and the right edge's: 8 covers four levels (256**4 leaves).
A tile held costs about 22 KB (256 hashes as bytes objects), so a larger cache made export's
memory grow with the records up to its size (64 tiles: 1.4 MB at 16,384 records)."""


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


class TileTree:
    """The tree of the first ``size`` leaves of the log in ``source``."""

    def __init__(self, source: LogSource, size: int) -> None:
        self.source = source
        self.size = size
        self._tiles: OrderedDict[tuple[int, int], list[bytes]] = OrderedDict()

    def _stored(self, level: int, tile_index: int) -> list[bytes]:
        key = (level, tile_index)
        hashes = self._tiles.get(key)
        if hashes is None:
            width = min(TILE_WIDTH, level_size(self.size, level) - tile_index * TILE_WIDTH)
            tile = Tile(level, tile_index, width)
            data = read_tile(self.source, tile)
            hashes = split_hashes(data, width, where=f"{self.source.name}/{tile.path()}")
            self._tiles[key] = hashes
            if len(self._tiles) > _CACHE_TILES:
                self._tiles.popitem(last=False)
        else:
            self._tiles.move_to_end(key)
        return hashes

    def node(self, height: int, index: int) -> bytes:
        """The hash of the complete subtree of ``2**height`` leaves starting at leaf
        ``index * 2**height``."""
        level, rest = divmod(height, TILE_HEIGHT)
        first = index << rest
        tile_index, offset = divmod(first, TILE_WIDTH)
        hashes = self._stored(level, tile_index)
        return subtree_root(hashes[offset : offset + (1 << rest)])

    def subtree_hash(self, start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return SHA256_HASHER.empty_root()
        if n & (n - 1) == 0 and start % n == 0:
            return self.node(n.bit_length() - 1, start // n)
        k = _split(n)
        return SHA256_HASHER.hash_children(
            self.subtree_hash(start, start + k), self.subtree_hash(start + k, end)
        )

    def root(self, size: int | None = None) -> bytes:
        return self.subtree_hash(0, self.size if size is None else size)

    def compact_range(self) -> CompactRange:
        hashes: list[bytes] = []
        start = 0
        for height in reversed(range(self.size.bit_length())):
            if self.size >> height & 1:
                hashes.append(self.node(height, start >> height))
                start += 1 << height
        return CompactRange(self.size, tuple(hashes))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 section 2.1.3.1 PATH(index, D[0:size]), leaf side first."""
        if not 1 <= size <= self.size:
            raise InputError(f"tree size {size}: expected 1..{self.size}")
        if not 0 <= index < size:
            raise InputError(f"record {index}: expected an index below the tree size {size}")
        return inclusion_path(index, size, self.subtree_hash)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """RFC 9162 section 2.1.4.1 PROOF(old_size, D[0:new_size])."""
        if not 1 <= old_size <= new_size <= self.size:
            raise InputError(
                f"sizes {old_size} and {new_size}: expected 1 <= A <= B <= {self.size}"
            )
        if old_size == new_size:
            return []
        return consistency_path(old_size, new_size, self.subtree_hash)

    def checked_inclusion(self, index: int, size: int, leaf: bytes) -> list[bytes]:
        proof = self.inclusion_proof(index, size)
        verify_inclusion(SHA256_HASHER, index, size, leaf, proof, self.root(size))
        return proof

    def checked_consistency(self, old_size: int, new_size: int) -> list[bytes]:
        proof = self.consistency_proof(old_size, new_size)
        verify_consistency(
            SHA256_HASHER, old_size, new_size, self.root(old_size), self.root(new_size), proof
        )
        return proof


def consistency_hashes(ledger_dir: Path, old_size: int, new_size: int) -> list[bytes]:
    """The RFC 6962 consistency proof between two sizes of the format-2 ledger in a directory
    (the witness client's entry point; ``new_size`` at most the checkpoint's)."""
    return TileTree(DirectorySource(ledger_dir), new_size).consistency_proof(old_size, new_size)
