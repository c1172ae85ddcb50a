"""The tile tree reads the same RFC 6962 tree as the format-independent Merkle code, at every
tile boundary up to three levels (256**2 + a few leaves), from tiles built independently."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.merkle import SHA256_HASHER, MerkleTree
from bias_ledger.ledger.tlog_source import MAX_FETCH_BYTES
from bias_ledger.ledger.tlog_tiles import leaf_hash
from bias_ledger.ledger.tlog_tiles_check import TileChecker
from bias_ledger.ledger.tlog_tree import TileTree

LEAVES = [leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(256 * 256 + 300)]
REFERENCE = MerkleTree(SHA256_HASHER, LEAVES)


class MemorySource:
    """Tiles of the tree of the first ``size`` leaves, laid out by the spec's own rules."""

    def __init__(self, size: int) -> None:
        self.name = f"memory[{size}]"
        self.files: dict[str, bytes] = {}
        level = 0
        while size >> (8 * level):
            width = 256**level
            stored = [
                REFERENCE.subtree_hash(i * width, (i + 1) * width)
                for i in range(size >> (8 * level))
            ]
            for first in range(0, len(stored), 256):
                chunk = stored[first : first + 256]
                digits = f"{first // 256:09d}"
                groups = [digits[i : i + 3] for i in range(0, 9, 3)]
                while len(groups) > 1 and groups[0] == "000":
                    groups.pop(0)
                index = "/".join([f"x{g}" for g in groups[:-1]] + [groups[-1]])
                suffix = "" if len(chunk) == 256 else f".p/{len(chunk)}"
                self.files[f"tile/{level}/{index}{suffix}"] = b"".join(chunk)
            level += 1

    def read(self, path: str, limit: int = MAX_FETCH_BYTES) -> bytes | None:
        return self.files.get(path)


@pytest.mark.parametrize("size", [1, 255, 256, 257, 511, 512, 65535, 65536, 65537, 65836])
def test_roots_and_proofs_at_tile_boundaries(size: int) -> None:
    tree = TileTree(MemorySource(size), size)
    assert tree.root() == REFERENCE.root(size)
    for index in {0, size // 2, size - 1}:
        assert tree.inclusion_proof(index, size) == REFERENCE.inclusion_proof(index, size)
    for old in {1, size // 3 or 1, size}:
        assert tree.consistency_proof(old, size) == REFERENCE.consistency_proof(old, size)
    assert tree.compact_range() == REFERENCE.compact_range(size)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 1300), st.data())
def test_random_sizes_and_indexes(size: int, data: st.DataObject) -> None:
    tree = TileTree(MemorySource(size), size)
    index = data.draw(st.integers(0, size - 1))
    smaller = data.draw(st.integers(1, size))
    assert tree.inclusion_proof(index, size) == REFERENCE.inclusion_proof(index, size)
    assert tree.root(smaller) == REFERENCE.root(smaller)


@pytest.mark.parametrize("size", [300, 65537])
def test_tile_checker_accepts_true_tiles_and_refuses_an_altered_one(size: int) -> None:
    source = MemorySource(size)
    checker = TileChecker(source, size)
    for leaf in LEAVES[:size]:
        checker.add_leaf(leaf)
    checker.finish()
    name = sorted(source.files)[-1]
    source.files[name] = bytes(32) + source.files[name][32:]
    checker = TileChecker(source, size)
    with pytest.raises(VerificationError, match="hash tile differs"):
        for leaf in LEAVES[:size]:
            checker.add_leaf(leaf)
        checker.finish()
