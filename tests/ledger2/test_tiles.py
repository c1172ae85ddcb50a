"""C2SP tlog-tiles coordinates, paths and entry bundles, against the spec's own examples."""

from __future__ import annotations

import pytest

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.tlog_tiles import (
    ENTRIES_LEVEL,
    Tile,
    decode_bundle,
    encode_bundle,
    encode_index,
    tile_levels,
    tiles_of,
)


@pytest.mark.parametrize(
    ("index", "path"),
    [(0, "000"), (7, "007"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067")],
)
def test_index_path_encoding_follows_the_spec(index: int, path: str) -> None:
    assert encode_index(index) == path


def test_tile_paths_for_full_partial_and_entry_tiles() -> None:
    assert Tile(0, 1234067, 256).path() == "tile/0/x001/x234/067"
    assert Tile(1, 3, 7).path() == "tile/1/003.p/7"
    assert Tile(ENTRIES_LEVEL, 2, 256).path() == "tile/entries/002"
    assert Tile(ENTRIES_LEVEL, 2, 9).path() == "tile/entries/002.p/9"
    assert Tile(ENTRIES_LEVEL, 2, 9).full_path() == "tile/entries/002"


def test_tiles_of_a_tree_cover_it_with_one_partial_tile_per_level() -> None:
    size = 256 * 256 + 256 * 3 + 5
    assert [t.width for t in tiles_of(size, 0)][-2:] == [256, 5]
    assert len(list(tiles_of(size, 0))) == 256 + 3 + 1
    assert [(t.index, t.width) for t in tiles_of(size, 1)] == [(0, 256), (1, 3)]
    assert [(t.index, t.width) for t in tiles_of(size, 2)] == [(0, 1)]
    assert tile_levels(size) == 3
    assert tile_levels(255) == 1
    assert tile_levels(0) == 0


def test_entry_bundles_round_trip_and_refuse_trailing_or_missing_bytes() -> None:
    entries = [b"", b"a", b"x" * 65535]
    data = encode_bundle(entries)
    assert data[:2] == b"\x00\x00" and data[2:4] == b"\x00\x01"
    assert decode_bundle(data, 3, where="b") == entries
    with pytest.raises(VerificationError, match="expected 2 entries, found 3"):
        decode_bundle(data, 2, where="b")
    with pytest.raises(VerificationError, match="declares 65535 bytes"):
        decode_bundle(data[:-1], 3, where="b")
    with pytest.raises(VerificationError, match="inside a length prefix"):
        decode_bundle(data + b"\x00", 3, where="b")
    with pytest.raises(ValueError, match="at most 65535"):
        encode_bundle([b"x" * 65536])
