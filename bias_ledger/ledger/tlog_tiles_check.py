"""Checks a log's hash tiles against the leaf hashes computed from its entries, as they stream.

Each level keeps at most one tile's worth of hashes: when 256 are in, the stored full tile must
equal them and their subtree root moves up a level; at the end every partial tile must match.
"""

from __future__ import annotations

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.tlog_source import LogSource, read_tile
from bias_ledger.ledger.tlog_tiles import TILE_WIDTH, Tile, level_size, subtree_root


class TileChecker:
    """Feed leaf hashes in order with :meth:`add_leaf`, then call :meth:`finish`."""

    def __init__(self, source: LogSource, size: int) -> None:
        self.source = source
        self.size = size
        self._rows: list[list[bytes]] = []
        self._done: list[int] = []
        """Full tiles checked so far, per level."""

    def _check(self, level: int, row: list[bytes]) -> None:
        index = self._done[level]
        tile = Tile(level, index, len(row))
        stored = read_tile(self.source, tile)
        if stored != b"".join(row):
            raise VerificationError(
                f"{self.source.name}/{tile.path()}: hash tile differs from the hashes of the "
                "entries (the tiles or the entries were altered)"
            )

    def _add(self, level: int, node: bytes) -> None:
        if level == len(self._rows):
            self._rows.append([])
            self._done.append(0)
        row = self._rows[level]
        row.append(node)
        if len(row) == TILE_WIDTH:
            self._check(level, row)
            self._done[level] += 1
            self._rows[level] = []
            self._add(level + 1, subtree_root(row))

    def add_leaf(self, leaf: bytes) -> None:
        self._add(0, leaf)

    def finish(self) -> None:
        for level, row in enumerate(self._rows):
            expected = level_size(self.size, level) % TILE_WIDTH
            if len(row) != expected:
                raise VerificationError(
                    f"{self.source.name}: level {level} has {len(row)} pending hashes, "
                    f"expected {expected}"
                )
            if row:
                self._check(level, row)
