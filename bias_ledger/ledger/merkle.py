"""RFC 9162 section 2.1 Merkle trees: roots, inclusion and consistency proofs, compact ranges.

The hash function is a parameter (:class:`Hasher`); proofs are built by :class:`MerkleTree` and
checked by the pure functions of ``merkle_verify.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import blake3

from bias_ledger.errors import LedgerError

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


@dataclass(frozen=True)
class Hasher:
    """A hash function plugged into the RFC 9162 leaf and node hashing rules."""

    name: str
    """Short name of the hash function, e.g. ``"blake3"`` or ``"sha256"``."""
    digest_size: int
    """Length in bytes of every hash this hasher returns."""
    digest: Callable[[bytes], bytes] = field(repr=False)
    """The bare hash function: bytes in, ``digest_size`` bytes out."""

    def hash_leaf(self, data: bytes) -> bytes:
        """Return ``H(0x00 || data)``, the hash of a leaf."""
        return self.digest(_LEAF_PREFIX + data)

    def hash_children(self, left: bytes, right: bytes) -> bytes:
        """Return ``H(0x01 || left || right)``, the hash of an interior node."""
        return self.digest(_NODE_PREFIX + left + right)

    def empty_root(self) -> bytes:
        """Return ``H()``, the root of the empty tree."""
        return self.digest(b"")


def _blake3_256(data: bytes) -> bytes:
    return blake3.blake3(data).digest()


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


BLAKE3_HASHER = Hasher("blake3", 32, _blake3_256)
"""BLAKE3 with 256-bit output: the hasher of bias-ledger's record tree."""
SHA256_HASHER = Hasher("sha256", 32, _sha256)
"""SHA-256: the hasher of RFC 6962/9162 and of its published test vectors."""


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


SubtreeHash = Callable[[int, int], bytes]
"""MTH(D[start:end]) of a tree, as ``subtree_hash(start, end)``."""


def inclusion_path(index: int, size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1, leaf-side hash first, for any tree
    that gives its subtree hashes (in memory, or read from tiles); arguments already checked."""
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(subtree_hash(start + k, end))
            end = start + k
        else:
            path.append(subtree_hash(start, start + k))
            start += k
    path.reverse()
    return path


def consistency_path(old_size: int, new_size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """PROOF(old_size, D[0:new_size]) of RFC 9162 section 2.1.4.1 for
    ``1 <= old_size < new_size`` (arguments already checked)."""
    proof: list[bytes] = []
    start, end, complete = 0, new_size, True
    m = old_size
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append(subtree_hash(start + k, end))
            end = start + k
        else:
            proof.append(subtree_hash(start, start + k))
            m -= k
            start += k
            complete = False
    if not complete:
        proof.append(subtree_hash(start, end))
    proof.reverse()
    return proof


class MerkleTree:
    """Every full subtree hash of a growing list of leaf hashes, for fast proof building.

    Level 0 holds the leaf hashes; level ``k`` holds the hashes of the aligned, complete subtrees
    of ``2**k`` leaves, packed into one ``bytearray`` per level so that a million-leaf tree costs
    about 32 MB beyond the leaves. Any subtree or proof then needs O(log n) hashing at most.
    """

    def __init__(self, hasher: Hasher, leaf_hashes: Iterable[bytes] = ()) -> None:
        self.hasher = hasher
        self._leaves: list[bytes] = list(leaf_hashes)
        self._levels: list[bytearray] = []
        for position, leaf_hash in enumerate(self._leaves):
            self._check_leaf(position, leaf_hash)
        # Build whole levels at once: several times faster than appending leaf by leaf.
        level = self._leaves
        while len(level) > 1:
            # An odd last node has no sibling yet, so it starts no node on the next level.
            pairs = zip(level[::2], level[1::2], strict=False)
            level = [hasher.hash_children(left, right) for left, right in pairs]
            self._levels.append(bytearray(b"".join(level)))

    @property
    def size(self) -> int:
        """The number of leaves."""
        return len(self._leaves)

    def _check_leaf(self, position: int, leaf_hash: bytes) -> None:
        size = self.hasher.digest_size
        if not isinstance(leaf_hash, bytes) or len(leaf_hash) != size:
            got = len(leaf_hash) if isinstance(leaf_hash, bytes) else type(leaf_hash).__name__
            raise LedgerError(f"leaf {position}: expected a {size}-byte leaf hash, got {got}")

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf hash at the right edge of the tree."""
        self._check_leaf(self.size, leaf_hash)
        self._leaves.append(leaf_hash)
        node, index, level = leaf_hash, len(self._leaves) - 1, 0
        # A node completes its parent exactly when it is a right child (odd index).
        while index & 1:
            left = self._node(level, index - 1)
            node = self.hasher.hash_children(left, node)
            index >>= 1
            level += 1
            if len(self._levels) < level:
                self._levels.append(bytearray())
            self._levels[level - 1] += node

    def _node(self, level: int, index: int) -> bytes:
        if level == 0:
            return self._leaves[index]
        size = self.hasher.digest_size
        return bytes(self._levels[level - 1][index * size : (index + 1) * size])

    def subtree_hash(self, start: int, end: int) -> bytes:
        """Return MTH(D[start:end]), the RFC 9162 hash of leaves ``start`` to ``end - 1``."""
        if not 0 <= start <= end <= self.size:
            raise LedgerError(
                f"expected a leaf range within [0, {self.size}), got [{start}, {end})"
            )
        n = end - start
        if n == 0:
            return self.hasher.empty_root()
        if n & (n - 1) == 0 and start % n == 0:
            return self._node(n.bit_length() - 1, start // n)
        k = _split(n)
        left = self.subtree_hash(start, start + k)
        return self.hasher.hash_children(left, self.subtree_hash(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        """Return the root of the tree made of the first ``size`` leaves (default: all)."""
        return self.subtree_hash(0, self._check_size(size))

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise LedgerError(f"expected a tree size between 0 and {self.size}, got {size}")
        return size

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1, leaf-side hash first."""
        size = self._check_size(size)
        if not 0 <= index < size:
            raise LedgerError(f"expected a leaf index below the tree size {size}, got {index}")
        return inclusion_path(index, size, self.subtree_hash)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Return PROOF(old_size, D[0:new_size]) of RFC 9162 section 2.1.4.1.

        The proof is empty when ``old_size`` equals ``new_size``. An old size of 0 is refused,
        as by the verifier: every tree extends the empty tree, so there is nothing to prove.
        """
        new_size = self._check_size(new_size)
        if not 1 <= old_size <= new_size:
            raise LedgerError(f"expected an old size between 1 and {new_size}, got {old_size}")
        if old_size == new_size:
            return []
        return consistency_path(old_size, new_size, self.subtree_hash)

    def compact_range(self, size: int | None = None) -> CompactRange:
        """Return the compact range of the first ``size`` leaves (default: all)."""
        size = self._check_size(size)
        hashes: list[bytes] = []
        start = 0
        for level in reversed(range(size.bit_length())):
            if size >> level & 1:
                hashes.append(self._node(level, start >> level))
                start += 1 << level
        return CompactRange(size, tuple(hashes))


def root(hasher: Hasher, leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the RFC 9162 root of a list of leaf hashes."""
    return CompactRange.of(hasher, leaf_hashes).root(hasher)


def inclusion_proof(hasher: Hasher, leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """Return the inclusion proof of leaf ``index`` in the tree of ``leaf_hashes``.

    This hashes the whole tree (O(n)); build a :class:`MerkleTree` once to answer many proofs.
    """
    return MerkleTree(hasher, leaf_hashes).inclusion_proof(index)


def consistency_proof(hasher: Hasher, leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """Return the proof that the tree of ``leaf_hashes[:old_size]`` is a prefix of the whole."""
    return MerkleTree(hasher, leaf_hashes).consistency_proof(old_size)


@dataclass(frozen=True)
class CompactRange:
    """The O(log n) append state of a tree: its size and its right-border subtree hashes."""

    size: int
    """The number of leaves covered."""
    hashes: tuple[bytes, ...] = ()
    """Hashes of the complete subtrees that make up the tree, largest (leftmost) first: one per
    set bit of ``size``."""

    def __post_init__(self) -> None:
        if self.size < 0 or len(self.hashes) != self.size.bit_count():
            raise LedgerError(
                f"compact range of size {self.size}: expected {max(self.size, 0).bit_count()} "
                f"subtree hashes, got {len(self.hashes)}"
            )

    @classmethod
    def of(cls, hasher: Hasher, leaf_hashes: Iterable[bytes]) -> CompactRange:
        """Return the compact range of a list of leaf hashes."""
        state = cls(0)
        for leaf_hash in leaf_hashes:
            state = state.append(hasher, leaf_hash)
        return state

    def append(self, hasher: Hasher, leaf_hash: bytes) -> CompactRange:
        """Return the compact range with one more leaf; hashes at most log2(size) nodes."""
        hashes = list(self.hashes)
        node, size = leaf_hash, self.size
        # Each trailing one bit of the old size is a subtree the new leaf now completes.
        while size & 1:
            node = hasher.hash_children(hashes.pop(), node)
            size >>= 1
        hashes.append(node)
        return CompactRange(self.size + 1, tuple(hashes))

    def root(self, hasher: Hasher) -> bytes:
        """Return the RFC 9162 root hash of the covered tree."""
        if not self.hashes:
            return hasher.empty_root()
        node = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            node = hasher.hash_children(left, node)
        return node

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-able form: ``{"size": n, "hashes": [hex, ...]}``."""
        return {"size": self.size, "hashes": [h.hex() for h in self.hashes]}

    @classmethod
    def from_json(cls, value: Mapping[str, Any], *, source: str) -> CompactRange:
        """Rebuild a compact range from :meth:`to_json` output; ``source`` names it in errors."""
        size, hashes = value.get("size"), value.get("hashes")
        if type(size) is not int or not isinstance(hashes, list):
            raise LedgerError(f"{source}: expected a compact range with size and hashes")
        try:
            decoded = tuple(bytes.fromhex(h) for h in hashes)
        except (TypeError, ValueError) as exc:
            raise LedgerError(f"{source}: compact range hashes are not hex: {exc}") from exc
        try:
            return cls(size, decoded)
        except LedgerError as exc:
            raise LedgerError(f"{source}: {exc.message}") from exc
