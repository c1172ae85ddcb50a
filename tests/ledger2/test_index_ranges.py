"""IndexRanges reads like the tuple of its indexes: length, items, membership, equality, hash."""

from __future__ import annotations

import random

import pytest

from bias_ledger.ledger.index_runs import IndexRanges


def _ranges_of(indexes: list[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for index in indexes:
        if ranges and ranges[-1][1] == index - 1:
            ranges[-1] = (ranges[-1][0], index)
        else:
            ranges.append((index, index))
    return ranges


@pytest.mark.parametrize("seed", range(5))
def test_reads_like_the_tuple_of_its_indexes(seed: int) -> None:
    rng = random.Random(seed)
    indexes = sorted(rng.sample(range(500), rng.randint(1, 200)))
    ranges = IndexRanges(_ranges_of(indexes))
    expected = tuple(indexes)
    assert len(ranges) == len(expected)
    assert tuple(ranges) == expected
    assert [ranges[i] for i in range(-len(expected), len(expected))] == list(expected * 2)
    assert list(ranges[3:40:7]) == list(expected[3:40:7])
    for probe in range(-2, 502):
        assert (probe in ranges) == (probe in expected)
        position = ranges.position(probe)
        assert position == (expected.index(probe) if probe in expected else None)
    assert ranges == expected and ranges == list(expected)
    assert hash(ranges) == hash(expected)
    assert {expected: "found"}[ranges] == "found"  # type: ignore[index]
    assert ranges != expected + (1000,)
    with pytest.raises(IndexError):
        ranges[len(expected)]
