"""The Merkle module against every published RFC 6962 SHA-256 vector, positive and tampered."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.merkle import SHA256_HASHER, CompactRange, MerkleTree
from bias_ledger.ledger.merkle_verify import verify_consistency, verify_inclusion

from .vectors import VECTORS_PATH, load_vectors, unhex

VECTORS = load_vectors()
H = SHA256_HASHER


def _tree() -> MerkleTree:
    return MerkleTree(H, [H.hash_leaf(leaf) for leaf in unhex(VECTORS["leaves"])])


def _id(case: dict[str, Any]) -> str:
    return str(case.get("file") or case.get("desc") or case)


# SHA-256 of shared/vectors/rfc6962-sha256.json as published; the committed copy must match.
VECTORS_SHA256 = "53ef26836567c61a2e1e2165a39ad309875f9a8c128fdd5eccfdbe6bcd143dc1"


def test_committed_copy_is_the_published_file() -> None:
    assert hashlib.sha256(VECTORS_PATH.read_bytes()).hexdigest() == VECTORS_SHA256
    shared = VECTORS_PATH.parents[3] / "shared" / "vectors" / "rfc6962-sha256.json"
    if shared.exists():
        assert shared.read_bytes() == VECTORS_PATH.read_bytes()


@pytest.mark.parametrize("case", VECTORS["hasher_vectors"], ids=_id)
def test_hasher_vectors(case: dict[str, Any]) -> None:
    if case["op"] == "empty_root":
        got = H.empty_root()
    elif case["op"] == "hash_leaf":
        got = H.hash_leaf(bytes.fromhex(case["input_hex"]))
    else:
        got = H.hash_children(bytes.fromhex(case["left_hex"]), bytes.fromhex(case["right_hex"]))
    assert got.hex() == case["expected"]


def test_node_hashes_are_the_complete_subtrees() -> None:
    tree = _tree()
    for level, row in enumerate(VECTORS["node_hashes"]):
        width = 1 << level
        got = [tree.subtree_hash(i * width, (i + 1) * width).hex() for i in range(len(row))]
        assert got == row


@pytest.mark.parametrize("case", VECTORS["roots"], ids=lambda c: f"size-{c['tree_size']}")
def test_roots(case: dict[str, Any]) -> None:
    size = case["tree_size"]
    leaf_hashes = [H.hash_leaf(leaf) for leaf in unhex(VECTORS["leaves"])][:size]
    assert _tree().root(size).hex() == case["root"]
    compact = CompactRange.of(H, leaf_hashes)
    assert compact.root(H).hex() == case["root"]
    assert _tree().compact_range(size) == compact


@pytest.mark.parametrize("case", VECTORS["inclusion_proofs"], ids=_id)
def test_inclusion_proofs(case: dict[str, Any]) -> None:
    index, size = case["leaf_index"], case["tree_size"]
    proof = _tree().inclusion_proof(index, size)
    assert [p.hex() for p in proof] == case["proof"]
    leaf_hash, root = bytes.fromhex(case["leaf_hash"]), bytes.fromhex(case["root"])
    verify_inclusion(H, index, size, leaf_hash, proof, root)


@pytest.mark.parametrize("case", VECTORS["consistency_proofs"], ids=_id)
def test_consistency_proofs(case: dict[str, Any]) -> None:
    old, new = case["size1"], case["size2"]
    proof = _tree().consistency_proof(old, new)
    assert [p.hex() for p in proof] == case["proof"]
    old_root, new_root = bytes.fromhex(case["root1"]), bytes.fromhex(case["root2"])
    verify_consistency(H, old, new, old_root, new_root, proof)


@pytest.mark.parametrize("case", VECTORS["inclusion_probes"], ids=_id)
def test_inclusion_probes(case: dict[str, Any]) -> None:
    args = (
        H,
        case["leaf_index"],
        case["tree_size"],
        bytes.fromhex(case["leaf_hash"]),
        unhex(case["proof"]),
        bytes.fromhex(case["root"]),
    )
    if case["want_err"]:
        with pytest.raises(VerificationError, match=r"inclusion proof of leaf .*: expected"):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("case", VECTORS["consistency_probes"], ids=_id)
def test_consistency_probes(case: dict[str, Any]) -> None:
    args = (
        H,
        case["size1"],
        case["size2"],
        bytes.fromhex(case["root1"]),
        bytes.fromhex(case["root2"]),
        unhex(case["proof"]),
    )
    if case["want_err"]:
        with pytest.raises(VerificationError, match=r"consistency proof from size .*: expected"):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


@pytest.mark.parametrize(
    "case",
    VECTORS["extra"]["ct_merkle_bpath_single_index"],
    ids=lambda c: f"{c['leaf_index']}-of-{c['num_leaves']}",
)
def test_ct_merkle_bpath(case: dict[str, Any]) -> None:
    n = case["num_leaves"]
    tree = MerkleTree(H, [H.hash_leaf(i.to_bytes(2, "big")) for i in range(n)])
    proof = tree.inclusion_proof(case["leaf_index"])
    assert [p.hex() for p in proof] == case["proof"]
    leaf_hash = H.hash_leaf(case["leaf_index"].to_bytes(2, "big"))
    verify_inclusion(H, case["leaf_index"], n, leaf_hash, proof, tree.root())


def _is_subtree(start: int, end: int) -> bool:
    """Whether [start, end) is a node's range, as the PLANTS draft defines it."""
    if start in (0, end):
        return True
    width = end - start
    return start % (1 << (width - 1).bit_length()) == 0


def test_plants_subtree_hash_rolling_vector() -> None:
    # This version of the draft's vector also folds in the empty ranges [s, s), for s <= end.
    extra = VECTORS["extra"]["plants_subtree_rolling_hashes"]
    tree = MerkleTree(H, [H.hash_leaf(bytes([i])) for i in range(extra["max"])])
    rolling = hashlib.sha256()
    for end in range(extra["max"] + 1):
        for start in range(end + 1):
            if _is_subtree(start, end):
                rolling.update(f"[{start}, {end}) {tree.subtree_hash(start, end).hex()}\n".encode())
    assert rolling.hexdigest() == extra["subtree_hash"]


def test_plants_subtree_inclusion_rolling_vector() -> None:
    extra = VECTORS["extra"]["plants_subtree_rolling_hashes"]
    rolling = hashlib.sha256()
    for end in range(1, extra["max"] + 1):
        for start in range(end):
            if not _is_subtree(start, end):
                continue
            subtree = MerkleTree(H, [H.hash_leaf(bytes([i])) for i in range(start, end)])
            for index in range(start, end):
                hashes = "".join(f" {p.hex()}" for p in subtree.inclusion_proof(index - start))
                rolling.update(f"{index} [{start}, {end}){hashes}\n".encode())
    assert rolling.hexdigest() == extra["subtree_inclusion_proof"]
