"""A log in memory for witness tests: RFC 6962 SHA-256 tree, checkpoints as signed notes."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.ledger.merkle import SHA256_HASHER, MerkleTree
from bias_ledger.ledger.note import note_verifier, sign_note
from bias_ledger.ledger.tlog_checkpoint import Checkpoint
from bias_ledger.witness.protocol import AddCheckpoint


@dataclass
class ToyLog:
    """Entries named ``<tag>-<n>``: two logs with other tags fork after their common prefix."""

    origin: str
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    tree: MerkleTree = field(default_factory=lambda: MerkleTree(SHA256_HASHER))
    tag: str = "a"

    @property
    def verifier_key(self) -> str:
        return note_verifier(self.origin, self.key.public_key()).verifier_key()

    def append(self, count: int = 1) -> ToyLog:
        for _ in range(count):
            entry = f"{self.tag}-{self.tree.size}".encode()
            self.tree.append(SHA256_HASHER.hash_leaf(entry))
        return self

    def fork(self, tag: str) -> ToyLog:
        """Same origin and key, same entries so far; new entries will differ."""
        leaves = [self.tree.subtree_hash(i, i + 1) for i in range(self.tree.size)]
        return ToyLog(self.origin, self.key, MerkleTree(SHA256_HASHER, leaves), tag)

    def checkpoint(self, size: int | None = None) -> Checkpoint:
        size = self.tree.size if size is None else size
        return Checkpoint(self.origin, size, self.tree.root(size))

    def note(self, size: int | None = None) -> bytes:
        return sign_note(self.checkpoint(size).text(), self.origin, self.key)

    def request(self, old: int, size: int | None = None) -> bytes:
        size = self.tree.size if size is None else size
        proof = self.tree.consistency_proof(old, size) if 0 < old < size else []
        return AddCheckpoint(old, tuple(proof), self.note(size)).encode()
