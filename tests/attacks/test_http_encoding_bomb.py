"""Attack: a server (or a proxy) answering a record with ``Content-Encoding: gzip`` and a gzip
bomb, 1 MiB that inflates to 1 GiB. Through a proxy, ``verify URL`` reads with httpx, whose
own decoding inflated the body before the size limit saw it (hundreds of MiB for a record of
14 KB). It reads the bytes as sent and unzips them itself, stopping at the record's size: the
record is refused by its size, and the memory the read takes stays that of the compressed
answer."""

from __future__ import annotations

import tracemalloc
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.tlog_source import HttpSource
from bias_ledger.ledger.tlog_verify import verify_log
from tests.attacks.hostile_http import answer, hostile_server
from tests.ledger2.helpers import copied_v2


def _bomb() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    block = b"\0" * (1 << 20)
    return b"".join(packer.compress(block) for _ in range(1024)) + packer.flush()


def test_attack_gzip_bomb_through_a_proxy(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 3)
    bomb, asked = _bomb(), []

    def rule(handler: BaseHTTPRequestHandler, path: str, data: bytes | None) -> bool:
        relative = urllib.parse.urlsplit(handler.path).path.lstrip("/")  # asked as a proxy
        asked.append(handler.headers.get("Accept-Encoding"))
        if relative.startswith("records/"):
            answer(handler, 200, bomb, Content_Encoding="gzip", Connection="close")
        elif (ledger / relative).is_file():
            answer(handler, 200, (ledger / relative).read_bytes(), Connection="close")
        else:
            answer(handler, 404, b"", Connection="close")
        return True  # the server then closes the connection, as it says

    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with hostile_server(ledger, rule) as proxy:
        monkeypatch.setenv("http_proxy", proxy)
        source = HttpSource("http://log.example.invalid/")
        tracemalloc.start()
        try:
            with pytest.raises(VerificationError) as caught:
                verify_log(source, trusted=None, trust_log_keys=True)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            source.close()
    assert "bytes it may hold" in caught.value.message, caught.value.message
    assert "/records/" in caught.value.message
    assert asked and set(asked) == {"gzip, identity"}, asked  # tlog-tiles: clients SHOULD
    assert peak < 64 << 20, f"{peak >> 20} MiB held while refusing a {len(bomb) >> 10} KiB bomb"
