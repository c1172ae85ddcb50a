"""Inclusion and consistency proofs over a stored ledger, checked before they are handed out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bias_ledger.errors import InputError, VerificationError
from bias_ledger.ledger.checkpoint import Checkpoint, parse_signed_checkpoint
from bias_ledger.ledger.merkle import BLAKE3_HASHER, MerkleTree
from bias_ledger.ledger.merkle_verify import verify_consistency, verify_inclusion
from bias_ledger.ledger.reader import CHECKPOINT_FILE, StoredLedger, read_ledger


@dataclass(frozen=True)
class InclusionProof:
    """RFC 9162 inclusion proof of one record's entry line."""

    index: int
    size: int
    leaf_hash: bytes
    root_hash: bytes
    hashes: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "hash": "blake3-256",
            "index": self.index,
            "size": self.size,
            "leaf_hash": self.leaf_hash.hex(),
            "root_hash": self.root_hash.hex(),
            "proof": [node.hex() for node in self.hashes],
        }


@dataclass(frozen=True)
class ConsistencyProof:
    """RFC 9162 consistency proof between two tree sizes."""

    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    hashes: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "hash": "blake3-256",
            "old_size": self.old_size,
            "new_size": self.new_size,
            "old_root": self.old_root.hex(),
            "new_root": self.new_root.hex(),
            "proof": [node.hex() for node in self.hashes],
        }


def tree_of(stored: StoredLedger) -> MerkleTree:
    return MerkleTree(BLAKE3_HASHER, (BLAKE3_HASHER.hash_leaf(line) for line in stored.lines))


def inclusion_in(tree: MerkleTree, index: int, size: int) -> InclusionProof:
    if not 1 <= size <= tree.size:
        raise InputError(f"--size {size}: expected a tree size from 1 to {tree.size}")
    if not 0 <= index < size:
        raise InputError(f"record {index}: expected an index below the tree size {size}")
    hashes = tuple(tree.inclusion_proof(index, size))
    proof = InclusionProof(
        index, size, tree.subtree_hash(index, index + 1), tree.root(size), hashes
    )
    verify_inclusion(BLAKE3_HASHER, index, size, proof.leaf_hash, hashes, proof.root_hash)
    return proof


def consistency_in(tree: MerkleTree, old_size: int, new_size: int) -> ConsistencyProof:
    if not 1 <= old_size <= new_size <= tree.size:
        raise InputError(f"sizes {old_size} and {new_size}: expected 1 <= A <= B <= {tree.size}")
    hashes = tuple(tree.consistency_proof(old_size, new_size))
    proof = ConsistencyProof(old_size, new_size, tree.root(old_size), tree.root(new_size), hashes)
    verify_consistency(BLAKE3_HASHER, old_size, new_size, proof.old_root, proof.new_root, hashes)
    return proof


def _stored(path: Path) -> tuple[StoredLedger, Checkpoint, str]:
    """The ledger and its checkpoint, refused when the checkpoint is damaged, missing beside
    committed records (removed: exit 3) or not yet signed (exit 2): no proof is handed out of
    a ledger in any of those states."""
    from bias_ledger.ledger.repair import missing_checkpoint

    stored = read_ledger(path)
    if stored.checkpoint is None:
        raise missing_checkpoint(path)
    source = str(stored.path / CHECKPOINT_FILE)
    return stored, parse_signed_checkpoint(stored.checkpoint, source=source)[0], source


def inclusion(path: Path, index: int, size: int | None) -> InclusionProof:
    """Inclusion proof of record ``index`` in the tree of ``size`` (default: the checkpoint's,
    whose root the records are checked to match; an explicit size proves against the records
    as they are, for comparison with a root kept elsewhere)."""
    stored, signed, source = _stored(path)
    tree = tree_of(stored)
    if size is not None:
        return inclusion_in(tree, index, size)
    proof = inclusion_in(tree, index, signed.size)
    if proof.root_hash != signed.root_hash:
        # A proof against a root nobody signed would prove nothing to its reader.
        raise VerificationError(
            f"{source}: expected root hash {signed.root_hash.hex()} over the first "
            f"{signed.size} records, computed {proof.root_hash.hex()}; run 'bias-ledger verify'"
        )
    return proof


def consistency(path: Path, old_size: int, new_size: int) -> ConsistencyProof:
    """Consistency proof between two tree sizes, over the records as they are."""
    return consistency_in(tree_of(_stored(path)[0]), old_size, new_size)
