"""Merkle benchmark: proofs in a 1,000,000-leaf BLAKE3 tree (target: verification under 1 ms).

Run: python benchmarks/bench_merkle.py [--leaves N] [--samples K]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from bias_ledger.ledger.merkle import BLAKE3_HASHER, CompactRange, MerkleTree
from bias_ledger.ledger.merkle_verify import verify_consistency, verify_inclusion

T = TypeVar("T")


def _measure(label: str, action: Callable[[int], T], inputs: Sequence[int]) -> dict[int, T]:
    """Run ``action`` on every input; print the median and 99th percentile time per call."""
    results: dict[int, T] = {}
    times: list[float] = []
    for value in inputs:
        start = time.perf_counter()
        results[value] = action(value)
        times.append((time.perf_counter() - start) * 1e6)
    p99 = statistics.quantiles(times, n=100)[98]
    print(f"{label:<40} median {statistics.median(times):8.1f} us   p99 {p99:8.1f} us")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2_000)
    args = parser.parse_args()
    h, n = BLAKE3_HASHER, args.leaves
    rng = random.Random(6962)
    print(f"BLAKE3 Merkle tree of {n:,} leaves, {args.samples:,} random proofs per figure")

    start = time.perf_counter()
    leaf_hashes = [h.hash_leaf(i.to_bytes(8, "big")) for i in range(n)]
    print(f"{'hash the leaves':<40} {time.perf_counter() - start:8.2f} s")
    start = time.perf_counter()
    tree = MerkleTree(h, leaf_hashes)
    print(f"{'build the subtree cache (MerkleTree)':<40} {time.perf_counter() - start:8.2f} s")
    root = tree.root()

    start = time.perf_counter()
    state = CompactRange(0)
    for leaf_hash in leaf_hashes:
        state = state.append(h, leaf_hash)
    per_leaf = (time.perf_counter() - start) / n * 1e6
    assert state.root(h) == root
    print(f"{'compact range append, per leaf':<40} {per_leaf:8.2f} us")

    # A million long-lived hashes would otherwise make every GC pass scan them all.
    gc.collect()
    gc.freeze()
    indices = [rng.randrange(n) for _ in range(args.samples)]
    proofs = _measure("inclusion proof generation", tree.inclusion_proof, indices)
    _measure(
        "inclusion proof verification",
        lambda i: verify_inclusion(h, i, n, leaf_hashes[i], proofs[i], root),
        indices,
    )
    olds = [rng.randrange(1, n) for _ in range(args.samples)]
    consistency = _measure("consistency proof generation", tree.consistency_proof, olds)
    old_roots = {m: tree.root(m) for m in olds}
    _measure(
        "consistency proof verification",
        lambda m: verify_consistency(h, m, n, old_roots[m], root, consistency[m]),
        olds,
    )
    longest = max(len(p) for p in proofs.values())
    print(
        f"longest proofs: inclusion {longest}, consistency "
        f"{max(len(p) for p in consistency.values())} hashes"
    )


if __name__ == "__main__":
    main()
