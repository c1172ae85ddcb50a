"""Checking RFC 9162 inclusion and consistency proofs (sections 2.1.3.2 and 2.1.4.2).

Pure functions that return None or raise :class:`VerificationError` saying what was expected
and what was found; they live apart from the code that builds proofs (``merkle.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.merkle import Hasher


def _hex(value: bytes) -> str:
    return value.hex()


def _check_hashes(hasher: Hasher, what: str, named: Iterable[tuple[str, bytes]]) -> None:
    for name, value in named:
        if len(value) != hasher.digest_size:
            raise VerificationError(
                f"{what}: expected a {hasher.digest_size}-byte {hasher.name} hash as {name}, "
                f"got {len(value)} bytes"
            )


def _named_proof(proof: Sequence[bytes]) -> list[tuple[str, bytes]]:
    return [(f"proof[{position}]", value) for position, value in enumerate(proof)]


def _inclusion_length(index: int, size: int) -> int:
    """The number of hashes in PATH(index, D[0:size])."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def verify_inclusion(
    hasher: Hasher, index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    Follows RFC 9162 section 2.1.3.2. Returns None, or raises :class:`VerificationError`.
    """
    what = f"inclusion proof of leaf {index} in tree of size {size}"
    if size < 1:
        raise VerificationError(f"{what}: expected a tree size of at least 1, got {size}")
    if not 0 <= index < size:
        raise VerificationError(f"{what}: expected a leaf index below {size}, got {index}")
    expected_length = _inclusion_length(index, size)
    if len(proof) != expected_length:
        raise VerificationError(f"{what}: expected {expected_length} hashes, got {len(proof)}")
    _check_hashes(hasher, what, [("leaf hash", leaf_hash), *_named_proof(proof)])
    fn, sn, node = index, size - 1, leaf_hash
    for sibling in proof:
        if fn & 1 or fn == sn:
            node = hasher.hash_children(sibling, node)
            # Skip the levels where this node is the lone right-border child.
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            node = hasher.hash_children(node, sibling)
        fn >>= 1
        sn >>= 1
    if node != root:
        raise VerificationError(f"{what}: expected root {root.hex()}, got {node.hex()}")


def _consistency_length(old_size: int, new_size: int) -> int:
    """The number of hashes in PROOF(old_size, D[0:new_size]) for 0 < old_size < new_size."""
    shift = (old_size & -old_size).bit_length() - 1
    index = (old_size - 1) >> shift
    seed = 1 if index else 0
    return seed + _inclusion_length(index, ((new_size - 1) >> shift) + 1)


def verify_consistency(
    hasher: Hasher,
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> None:
    """Check that the tree of ``old_size`` leaves with ``old_root`` is a prefix of the tree of
    ``new_size`` leaves with ``new_root``.

    Follows RFC 9162 section 2.1.4.2. Returns None, or raises :class:`VerificationError`.
    """
    what = f"consistency proof from size {old_size} to size {new_size}"
    if old_size < 1:
        raise VerificationError(f"{what}: expected an old size of at least 1, got {old_size}")
    if new_size < old_size:
        raise VerificationError(f"{what}: expected a new size of at least {old_size}")
    expected_length = 0 if old_size == new_size else _consistency_length(old_size, new_size)
    if len(proof) != expected_length:
        raise VerificationError(f"{what}: expected {expected_length} hashes, got {len(proof)}")
    _check_hashes(hasher, what, _named_proof(proof))
    if old_size == new_size:
        if old_root != new_root:
            raise VerificationError(f"{what}: expected root {old_root.hex()}, got {new_root.hex()}")
        return
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old_node = new_node = path[0]
    for sibling in path[1:]:
        if fn & 1 or fn == sn:
            old_node = hasher.hash_children(sibling, old_node)
            new_node = hasher.hash_children(sibling, new_node)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            new_node = hasher.hash_children(new_node, sibling)
        fn >>= 1
        sn >>= 1
    if old_node != old_root:
        raise VerificationError(f"{what}: expected old root {old_root.hex()}, got {old_node.hex()}")
    if new_node != new_root:
        raise VerificationError(f"{what}: expected new root {new_root.hex()}, got {new_node.hex()}")
