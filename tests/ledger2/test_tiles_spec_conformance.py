"""A published log against the text of c2sp.org/tlog-tiles: its paths and files, and the HTTP
client against what the spec lets a log's server do (gzip unasked, partial tiles gone)."""

from __future__ import annotations

import gzip
import hashlib
import re
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.note import parse_note
from bias_ledger.ledger.tlog_checkpoint import parse_checkpoint
from bias_ledger.ledger.tlog_publish import publish
from bias_ledger.ledger.tlog_source import FileTooLarge, HttpSource, read_tile
from bias_ledger.ledger.tlog_tiles import (
    ENTRIES_LEVEL,
    MAX_ENTRY_SIZE,
    TILE_WIDTH,
    Tile,
    decode_bundle,
    leaf_hash,
    level_size,
    tile_levels,
    tiles_of,
)
from bias_ledger.ledger.tlog_verify import verify_log
from tests.ledger2.helpers import copied_v2
from tests.ledger2.local_http import QuietHandler, serving

TILE_PATH = re.compile(
    r"tile/(?P<level>entries|0|[1-9]|[1-5][0-9]|6[0-3])/(?P<index>(?:x[0-9]{3}/)*[0-9]{3})"
    r"(?:\.p/(?P<width>[1-9][0-9]?|1[0-9]{2}|2[0-4][0-9]|25[0-5]))?"
)


def test_the_spec_tree_of_70000_and_of_256() -> None:
    # "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0
    # tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one
    # partial level 2 tile of width 1. ... a tree of size 256 will be represented by a full
    # level 0 tile and a partial level 1 tile of width 1."
    widths = {level: [t.width for t in tiles_of(70_000, level)] for level in range(3)}
    assert widths == {0: [256] * 273 + [112], 1: [256, 17], 2: [1]}
    assert tile_levels(70_000) == 3
    assert [[t.width for t in tiles_of(256, level)] for level in range(2)] == [[256], [1]]
    assert Tile(2, 0, 1).path() == "tile/2/000.p/1"
    assert Tile(0, 1234067, 256).path() == "tile/0/x001/x234/067"


def test_a_published_log_is_exactly_the_spec_layout(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 260)
    site = tmp_path / "site"
    publish(ledger, site)
    checkpoint = parse_checkpoint(parse_note((site / "checkpoint").read_bytes()).text)
    size = checkpoint.size
    tiles = sorted(
        p.relative_to(site).as_posix() for p in (site / "tile").rglob("*") if p.is_file()
    )
    # Every tile a checkpoint of any size up to this one needs (each append signed one), but
    # no partial tile whose full tile exists, no empty tile, nothing else.
    expected = sorted(
        {
            tile.path()
            for level in [ENTRIES_LEVEL, *range(tile_levels(size))]
            for smaller in range(1, size + 1)
            for tile in tiles_of(smaller, level)
            if tile.width == TILE_WIDTH or (tile.index + 1) * TILE_WIDTH > level_size(size, level)
        }
    )
    assert tiles == expected
    for path in tiles:
        match = TILE_PATH.fullmatch(path)
        assert match, path
        width = int(match["width"] or TILE_WIDTH)
        data = (site / path).read_bytes()
        if match["level"] == "entries":
            entries = decode_bundle(data, width, where=path)  # uint16 big-endian lengths
            assert all(len(entry) <= MAX_ENTRY_SIZE for entry in entries)
            if match["index"] == "000" and width == TILE_WIDTH:
                hashes = b"".join(leaf_hash(entry) for entry in entries)
                assert (site / "tile/0/000").read_bytes() == hashes  # level 0: leaf hashes
        else:
            assert len(data) == 32 * width  # full tiles 8,192 bytes
    # Level 1 holds MTH of each full level-0 tile: the root of its 256 leaves.
    level0 = (site / "tile/0/000").read_bytes()
    row = [level0[i : i + 32] for i in range(0, len(level0), 32)]
    while len(row) > 1:
        row = [
            hashlib.sha256(b"\x01" + row[i] + row[i + 1]).digest() for i in range(0, len(row), 2)
        ]
    assert (site / "tile/1/000.p/1").read_bytes() == row[0]


class _Gzipping(QuietHandler):
    """Serves every file gzipped with ``Content-Encoding: gzip`` whatever the request asked (as
    a bucket of pre-compressed objects does), or with ``coding`` when set."""

    protocol_version = "HTTP/1.1"
    accepted: list[str | None]
    coding = "gzip"
    payload: bytes | None = None

    def do_GET(self) -> None:
        self.accepted.append(self.headers.get("Accept-Encoding"))
        path = Path(self.translate_path(self.path))
        if self.payload is None and not path.is_file():
            self.send_error(404)
            return
        plain = self.payload if self.payload is not None else path.read_bytes()
        body = gzip.compress(plain) if self.coding == "gzip" else plain
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Encoding", self.coding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def _server(directory: Path, **options: Any) -> Iterator[tuple[str, list[str | None]]]:
    accepted: list[str | None] = []
    with serving(directory, _Gzipping, accepted=accepted, **options) as url:
        yield url, accepted


def test_a_log_that_gzips_every_file_unasked_verifies(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # "Logs MAY use Content-Encoding: gzip with no negotiation ... Clients SHOULD include gzip
    # and identity in their Accept-Encoding headers."
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 60)
    site = tmp_path / "site"
    publish(ledger, site)
    with _server(site) as (url, accepted):
        source = HttpSource(url)
        try:
            assert source.read("checkpoint") == (site / "checkpoint").read_bytes()
            assert verify_log(source, trusted=None, trust_log_keys=True).size == 60
        finally:
            source.close()
    assert accepted and all(
        value is not None and {"gzip", "identity"} <= {c.strip() for c in value.split(",")}
        for value in accepted
    ), accepted


class _GzippingProxy(_Gzipping):
    """The same, asked as an HTTP proxy: the request target is the absolute URL."""

    def translate_path(self, path: str) -> str:
        return super().translate_path(urllib.parse.urlsplit(path).path)


def test_a_log_that_gzips_every_file_verifies_through_a_proxy(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Through a proxy (the *_proxy variables) requests go through httpx: they too name gzip, and
    # a gzipped answer is unzipped (it used to be read as sent, and then failed its hash).
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 60)
    site = tmp_path / "site"
    publish(ledger, site)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    accepted: list[str | None] = []
    with serving(site, _GzippingProxy, accepted=accepted) as proxy:
        monkeypatch.setenv("http_proxy", proxy)
        source = HttpSource("http://log.example.invalid/")
        try:
            assert source.read("checkpoint") == (site / "checkpoint").read_bytes()
            assert verify_log(source, trusted=None, trust_log_keys=True).size == 60
            with pytest.raises(FileTooLarge, match="bytes it may hold"):
                source.read("checkpoint", limit=10)
        finally:
            source.close()
    assert accepted and set(accepted) == {"gzip, identity"}, accepted


def test_a_gzipped_answer_too_large_once_unzipped_or_in_another_coding_is_refused(
    tmp_path: Path,
) -> None:
    with _server(tmp_path, payload=bytes(1 << 20)) as (url, _):
        source = HttpSource(url)
        try:
            assert len(source.read("anything") or b"") == 1 << 20
            with pytest.raises(FileTooLarge, match="once unzipped"):
                source.read("anything", limit=1 << 16)  # 1 MiB of zeros gzips to 1 KiB
        finally:
            source.close()
    with _server(tmp_path, payload=b"plain", coding="br") as (url, _):
        source = HttpSource(url)
        try:
            with pytest.raises(VerificationError, match="Content-Encoding 'br'"):
                source.read("anything")
        finally:
            source.close()


def test_a_missing_partial_tile_is_cut_from_the_full_one_over_http(tmp_path: Path) -> None:
    # "MAY delete any partial tile once the corresponding full tile is available"; a client
    # "MAY fetch the full tile ... as a fallback in case the partial tile is not available".
    hashes = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(256))
    (tmp_path / "tile/0").mkdir(parents=True)
    (tmp_path / "tile/0/000").write_bytes(hashes)
    with _server(tmp_path, coding="identity") as (url, _):
        source = HttpSource(url)
        try:
            assert read_tile(source, Tile(0, 0, 5)) == hashes[: 5 * 32]
        finally:
            source.close()
