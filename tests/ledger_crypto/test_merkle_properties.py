"""Property tests of the Merkle module against a naive recursive RFC 9162 tree."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bias_ledger.errors import LedgerError, VerificationError
from bias_ledger.ledger.merkle import (
    BLAKE3_HASHER,
    SHA256_HASHER,
    CompactRange,
    Hasher,
    MerkleTree,
    consistency_proof,
    inclusion_proof,
    root,
)
from bias_ledger.ledger.merkle_verify import verify_consistency, verify_inclusion

HASHERS = st.sampled_from([BLAKE3_HASHER, SHA256_HASHER])
SIZES = st.integers(min_value=1, max_value=70)


def ref_mth(h: Hasher, d: list[bytes]) -> bytes:
    """MTH(D[n]) written straight from RFC 9162 section 2.1.1, over leaf data."""
    if not d:
        return h.empty_root()
    if len(d) == 1:
        return h.hash_leaf(d[0])
    k = 1
    while k * 2 < len(d):
        k *= 2
    return h.hash_children(ref_mth(h, d[:k]), ref_mth(h, d[k:]))


def ref_path(h: Hasher, m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) from RFC 9162 section 2.1.3.1."""
    if len(d) == 1:
        return []
    k = 1
    while k * 2 < len(d):
        k *= 2
    if m < k:
        return [*ref_path(h, m, d[:k]), ref_mth(h, d[k:])]
    return [*ref_path(h, m - k, d[k:]), ref_mth(h, d[:k])]


def ref_subproof(h: Hasher, m: int, d: list[bytes], complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) from RFC 9162 section 2.1.4.1."""
    if m == len(d):
        return [] if complete else [ref_mth(h, d)]
    k = 1
    while k * 2 < len(d):
        k *= 2
    if m <= k:
        return [*ref_subproof(h, m, d[:k], complete), ref_mth(h, d[k:])]
    return [*ref_subproof(h, m - k, d[k:], False), ref_mth(h, d[:k])]


def _data(n: int) -> list[bytes]:
    return [f"leaf {i}".encode() for i in range(n)]


def _leaf_hashes(h: Hasher, n: int) -> list[bytes]:
    return [h.hash_leaf(x) for x in _data(n)]


@settings(max_examples=60, deadline=None)
@given(h=HASHERS, n=st.integers(min_value=0, max_value=70))
def test_root_matches_reference(h: Hasher, n: int) -> None:
    leaf_hashes = _leaf_hashes(h, n)
    expected = ref_mth(h, _data(n))
    assert root(h, leaf_hashes) == expected
    assert MerkleTree(h, leaf_hashes).root() == expected
    assert CompactRange.of(h, leaf_hashes).root(h) == expected


@settings(max_examples=80, deadline=None)
@given(h=HASHERS, n=SIZES, data=st.data())
def test_inclusion_matches_reference_and_verifies(h: Hasher, n: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    leaf_hashes = _leaf_hashes(h, n)
    proof = inclusion_proof(h, leaf_hashes, index)
    assert proof == ref_path(h, index, _data(n))
    verify_inclusion(h, index, n, leaf_hashes[index], proof, ref_mth(h, _data(n)))


@settings(max_examples=80, deadline=None)
@given(h=HASHERS, n=SIZES, data=st.data())
def test_consistency_matches_reference_and_verifies(h: Hasher, n: int, data: st.DataObject) -> None:
    old = data.draw(st.integers(min_value=1, max_value=n))
    d = _data(n)
    proof = consistency_proof(h, _leaf_hashes(h, n), old)
    assert proof == ref_subproof(h, old, d, True)
    verify_consistency(h, old, n, ref_mth(h, d[:old]), ref_mth(h, d), proof)


@settings(max_examples=40, deadline=None)
@given(h=HASHERS, n=SIZES)
def test_compact_range_agrees_at_every_size(h: Hasher, n: int) -> None:
    leaf_hashes = _leaf_hashes(h, n)
    tree = MerkleTree(h, leaf_hashes)
    grown = MerkleTree(h)
    state = CompactRange(0)
    for size, leaf_hash in enumerate(leaf_hashes, start=1):
        state = state.append(h, leaf_hash)
        grown.append(leaf_hash)
        assert state.root(h) == tree.root(size) == grown.root()
        assert state == tree.compact_range(size) == grown.compact_range()
        assert grown.inclusion_proof(size - 1) == tree.inclusion_proof(size - 1, size)
        assert len(state.hashes) == size.bit_count()
    assert CompactRange.from_json(json.loads(json.dumps(state.to_json())), source="t") == state


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=2, max_value=70), data=st.data())
def test_any_flipped_bit_in_an_inclusion_proof_fails(n: int, data: st.DataObject) -> None:
    h = BLAKE3_HASHER
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    leaf_hashes = _leaf_hashes(h, n)
    tree = MerkleTree(h, leaf_hashes)
    proof = tree.inclusion_proof(index)
    position = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=8 * h.digest_size - 1))
    tampered = list(proof)
    flipped = bytearray(tampered[position])
    flipped[bit // 8] ^= 1 << (bit % 8)
    tampered[position] = bytes(flipped)
    with pytest.raises(VerificationError, match=f"expected root {tree.root().hex()}, got "):
        verify_inclusion(h, index, n, leaf_hashes[index], tampered, tree.root())


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=2, max_value=70), data=st.data())
def test_any_flipped_bit_in_a_consistency_proof_fails(n: int, data: st.DataObject) -> None:
    h = BLAKE3_HASHER
    old = data.draw(st.integers(min_value=1, max_value=n - 1))
    tree = MerkleTree(h, _leaf_hashes(h, n))
    proof = tree.consistency_proof(old)
    position = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    tampered = list(proof)
    tampered[position] = bytes([tampered[position][0] ^ 0x80]) + tampered[position][1:]
    with pytest.raises(VerificationError, match=r"expected (old|new) root [0-9a-f]{64}, got "):
        verify_consistency(h, old, n, tree.root(old), tree.root(), tampered)


def test_inclusion_rejections_say_what_was_expected() -> None:
    h = BLAKE3_HASHER
    tree = MerkleTree(h, _leaf_hashes(h, 5))
    leaf, proof, top = tree.subtree_hash(2, 3), tree.inclusion_proof(2), tree.root()
    cases = [
        ((5, 5, leaf, proof, top), "expected a leaf index below 5, got 5"),
        ((0, 0, leaf, [], top), "expected a tree size of at least 1, got 0"),
        ((-1, 5, leaf, proof, top), "expected a leaf index below 5, got -1"),
        ((2, 5, leaf, [*proof, proof[0]], top), "expected 3 hashes, got 4"),
        ((2, 5, leaf, proof[:-1], top), "expected 3 hashes, got 2"),
        ((2, 5, leaf[:31], proof, top), "expected a 32-byte blake3 hash as leaf hash, got 31"),
        ((2, 5, leaf, [proof[0], b"x", proof[2]], top), r"as proof\[1\], got 1 bytes"),
        ((3, 5, leaf, proof, top), f"expected root {top.hex()}, got "),
        ((2, 4, leaf, proof[:2], top), f"expected root {top.hex()}, got "),
    ]
    for args, message in cases:
        with pytest.raises(VerificationError, match=message):
            verify_inclusion(h, *args)


def test_consistency_rejections_say_what_was_expected() -> None:
    h = BLAKE3_HASHER
    tree = MerkleTree(h, _leaf_hashes(h, 7))
    r3, r7, proof = tree.root(3), tree.root(7), tree.consistency_proof(3)
    cases = [
        ((0, 7, h.empty_root(), r7, []), "expected an old size of at least 1, got 0"),
        ((7, 3, r7, r3, proof), "expected a new size of at least 7"),
        ((3, 7, r3, r7, []), f"expected {len(proof)} hashes, got 0"),
        ((3, 7, r3, r7, [*proof, r3]), f"expected {len(proof)} hashes, got {len(proof) + 1}"),
        ((7, 7, r7, r7, [r7]), "expected 0 hashes, got 1"),
        ((7, 7, r7, r3, []), f"expected root {r7.hex()}, got {r3.hex()}"),
        ((3, 7, r7, r7, proof), f"expected old root {r7.hex()}, got {r3.hex()}"),
        ((3, 7, r3, r3, proof), f"expected new root {r3.hex()}, got {r7.hex()}"),
    ]
    for args, message in cases:
        with pytest.raises(VerificationError, match=message):
            verify_consistency(h, *args)


def test_tree_refuses_bad_requests() -> None:
    h = BLAKE3_HASHER
    tree = MerkleTree(h, _leaf_hashes(h, 4))
    with pytest.raises(LedgerError, match="^leaf 4: expected a 32-byte leaf hash, got 3$"):
        tree.append(b"abc")
    with pytest.raises(LedgerError, match="^leaf 1: expected a 32-byte leaf hash, got str$"):
        MerkleTree(h, [h.empty_root(), "not bytes"])  # type: ignore[list-item]
    with pytest.raises(LedgerError, match="expected a tree size between 0 and 4, got 5"):
        tree.root(5)
    with pytest.raises(LedgerError, match="expected a leaf index below the tree size 4, got 4"):
        tree.inclusion_proof(4)
    with pytest.raises(LedgerError, match="expected an old size between 1 and 4, got 0"):
        tree.consistency_proof(0)


def test_compact_range_refuses_inconsistent_state() -> None:
    with pytest.raises(LedgerError, match="compact range of size 3: expected 2 subtree hashes"):
        CompactRange(3, (b"\x00" * 32,))
    with pytest.raises(LedgerError, match="state.json: compact range hashes are not hex"):
        CompactRange.from_json({"size": 1, "hashes": ["zz"]}, source="state.json")
    with pytest.raises(LedgerError, match="state.json: expected a compact range"):
        CompactRange.from_json({"size": "1", "hashes": []}, source="state.json")
