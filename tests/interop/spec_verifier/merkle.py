"""RFC 6962 / RFC 9162 section 2.1 Merkle trees over any 32-byte hash, written from the RFC."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import blake3

Hash = Callable[[bytes], bytes]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def blake3_256(data: bytes) -> bytes:
    return blake3.blake3(data).digest()


def leaf_hash(h: Hash, entry: bytes) -> bytes:
    return h(b"\x00" + entry)


def node_hash(h: Hash, left: bytes, right: bytes) -> bytes:
    return h(b"\x01" + left + right)


def root(h: Hash, leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 2.1.1 given the leaf hashes: split at the largest power of 2 < n."""
    n = len(leaves)
    if n == 0:
        return h(b"")
    if n == 1:
        return leaves[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(h, root(h, leaves[:k]), root(h, leaves[k:]))


def inclusion_proof(h: Hash, index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1, from the leaf upwards."""
    n = len(leaves)
    if n <= 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if index < k:
        return [*inclusion_proof(h, index, leaves[:k]), root(h, leaves[k:])]
    return [*inclusion_proof(h, index - k, leaves[k:]), root(h, leaves[:k])]


def verify_inclusion(
    h: Hash, index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2, step by step."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(h, p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(h, r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == expected


def verify_consistency(
    h: Hash, first: int, second: int, old: bytes, new: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2, step by step."""
    if first > second:
        return False
    if first == second:
        return not proof and old == new
    if first == 0:
        return not proof
    path = list(proof)
    if first & (first - 1) == 0:
        path = [old, *path]
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(h, c, fr), node_hash(h, c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(h, sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old and sr == new and sn == 0
