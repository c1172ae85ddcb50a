"""Per-record facts held in runs, not one by one: the indexes of a bundle as ascending ranges,
and a value per record (the principals a trusted key vouches for) as runs of equal values.

A ledger's records come in order and in long runs (``--all``, one signer for many records), so
both stay O(runs) where a tuple or a dict would hold a few dozen bytes for every record."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from heapq import merge
from typing import overload


class IndexRanges(Sequence[int]):
    """Ascending distinct indexes, given as maximal inclusive ranges, read as a sequence."""

    def __init__(self, ranges: Sequence[tuple[int, int]]) -> None:
        self.ranges = tuple(ranges)
        self._firsts = [first for first, _ in self.ranges]
        self._starts: list[int] = []
        done = 0
        for first, last in self.ranges:
            self._starts.append(done)
            done += last - first + 1
        self._count = done

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, position: int) -> int: ...
    @overload
    def __getitem__(self, position: slice) -> Sequence[int]: ...
    def __getitem__(self, position: int | slice) -> int | Sequence[int]:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(self._count))]
        if position < 0:
            position += self._count
        if not 0 <= position < self._count:
            raise IndexError(position)
        slot = bisect_right(self._starts, position) - 1
        return self.ranges[slot][0] + position - self._starts[slot]

    def __iter__(self) -> Iterator[int]:
        for first, last in self.ranges:
            yield from range(first, last + 1)

    def position(self, index: int) -> int | None:
        """Where ``index`` stands in the sequence, or None if it is not in it."""
        slot = bisect_right(self._firsts, index) - 1
        if slot < 0 or index > self.ranges[slot][1]:
            return None
        return self._starts[slot] + index - self.ranges[slot][0]

    def __contains__(self, index: object) -> bool:
        return isinstance(index, int) and self.position(index) is not None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IndexRanges):
            return self.ranges == other.ranges
        if isinstance(other, (tuple, list)):
            return len(other) == self._count and all(
                a == b for a, b in zip(self, other, strict=True)
            )
        return NotImplemented

    def __hash__(self) -> int:
        # Equal to the tuple of its indexes, so hashed as that tuple (O(n); nothing hot hashes it).
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"IndexRanges({list(self.ranges)!r})"


class IndexRuns(Mapping[int, str]):
    """A value for some indexes, added in ascending order, held as runs of consecutive
    indexes with equal values."""

    def __init__(self) -> None:
        self._firsts: list[int] = []
        self._lasts: list[int] = []
        self._values: list[str] = []
        self._count = 0

    def add(self, index: int, value: str) -> None:
        if self._lasts and index <= self._lasts[-1]:
            raise ValueError(f"index {index} added after {self._lasts[-1]}: expected ascending")
        if self._lasts and index == self._lasts[-1] + 1 and value == self._values[-1]:
            self._lasts[-1] = index
        else:
            self._firsts.append(index)
            self._lasts.append(index)
            self._values.append(value)
        self._count += 1

    def __getitem__(self, index: int) -> str:
        slot = bisect_right(self._firsts, index) - 1
        if slot < 0 or index > self._lasts[slot]:
            raise KeyError(index)
        return self._values[slot]

    def __iter__(self) -> Iterator[int]:
        for first, last in zip(self._firsts, self._lasts, strict=True):
            yield from range(first, last + 1)

    def __len__(self) -> int:
        return self._count


class AscendingRanges:
    """Indexes added in ascending order (repeats allowed), kept as maximal inclusive ranges."""

    def __init__(self) -> None:
        self._firsts: list[int] = []
        self._lasts: list[int] = []

    def add(self, index: int) -> None:
        if self._lasts and index <= self._lasts[-1] + 1:
            if index < self._firsts[-1]:
                raise ValueError(f"index {index} added after {self._lasts[-1]}: expected ascending")
            self._lasts[-1] = max(self._lasts[-1], index)
        else:
            self._firsts.append(index)
            self._lasts.append(index)

    def __contains__(self, index: object) -> bool:
        if not isinstance(index, int):
            return False
        slot = bisect_right(self._firsts, index) - 1
        return slot >= 0 and index <= self._lasts[slot]

    def __bool__(self) -> bool:
        return bool(self._firsts)

    def ranges(self) -> tuple[tuple[int, int], ...]:
        return tuple(zip(self._firsts, self._lasts, strict=True))


def union(*sources: Iterable[int]) -> Iterator[int]:
    """The distinct indexes of ascending ``sources``, ascending."""
    last = None
    for index in merge(*sources):
        if index != last:
            yield index
            last = index
