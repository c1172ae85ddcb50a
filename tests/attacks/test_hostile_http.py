"""Attacks by the server a log is read from, or a witness answers from (real sockets on
127.0.0.1): answers that trickle in forever, never end, lie about their length, redirect, or
differ from the ledger. Each ends in one named error, never a hang or a memory blow-up."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from functools import partial
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.note import COSIGNATURE_V1, note_verifier
from bias_ledger.ledger.tlog_source import HttpSource
from bias_ledger.ledger.tlog_verify import verify_log
from bias_ledger.witness.client import MAX_RESPONSE_BYTES, TIMEOUT_ENV, push_checkpoint
from bias_ledger.witness.config import make_witness
from tests.attacks.hostile_http import answer, drip, drip_headers, endless, hostile_server
from tests.ledger2.helpers import copied_v2
from tests.witness.toylog import ToyLog

Behaviour = Callable[[BaseHTTPRequestHandler], None]


def _on_records(behave: Behaviour) -> Callable[[BaseHTTPRequestHandler, str, bytes | None], bool]:
    def rule(handler: BaseHTTPRequestHandler, path: str, data: bytes | None) -> bool:
        if path.startswith("records/"):
            behave(handler)
            return True
        return False

    return rule


def _verify_url(ledger: Path, rule: Callable[..., bool]) -> str:
    with hostile_server(ledger, rule) as url:
        source = HttpSource(url, timeout=0.5, deadline=1.5)
        try:
            with pytest.raises(VerificationError) as caught:
                verify_log(source, trusted=None, trust_log_keys=True)
        finally:
            source.close()
    return caught.value.message


@pytest.mark.parametrize(
    ("behave", "message"),
    [
        # 200 bytes: fewer than any record holds, and 10 s at a byte per 50 ms.
        (partial(drip, length=200), "TimeoutError: timed out"),
        (drip_headers, "TimeoutError: timed out"),
        (endless, "bytes (the record was altered)"),
    ],
    ids=["body-trickles-forever", "header-trickles-forever", "body-never-ends"],
)
def test_attack_http_log_server_that_never_finishes_a_record(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, behave: Behaviour, message: str
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 3)
    started = time.monotonic()
    said = _verify_url(ledger, _on_records(behave))
    # Bounded by the per-file deadline (1.5 s here), not by the server's patience.
    assert time.monotonic() - started < 30
    assert said.startswith("http://127.0.0.1:")
    assert "/records/" in said
    assert said.endswith(message)


def test_attack_http_log_server_shorter_content_length(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 3)

    def rule(handler: BaseHTTPRequestHandler, path: str, data: bytes | None) -> bool:
        if path.startswith("records/") and data is not None:
            answer(handler, 200, data, Content_Length=str(len(data) - 1))
            return True
        return False

    said = _verify_url(ledger, rule)
    assert " record 0: " in said, said
    assert said.endswith(" (the record was altered)"), said


def test_attack_http_log_server_longer_content_length(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 3)

    def rule(handler: BaseHTTPRequestHandler, path: str, data: bytes | None) -> bool:
        if path.startswith("records/") and data is not None:
            answer(handler, 200, data, Content_Length=str(len(data) + 100))
            return True
        return False

    said = _verify_url(ledger, rule)
    # Refused on its headers: more than the entry says the record holds.
    assert " record 0: " in said, said
    assert "more than the " in said and " (the record was altered)" in said, said


def test_attack_http_log_server_resets_the_connection_mid_body(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Half a record, then a TCP reset (not a close): the short body is named as such, and
    not retried as a kept-alive connection the server had closed."""
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 3)

    def rule(handler: BaseHTTPRequestHandler, path: str, data: bytes | None) -> bool:
        if path.startswith("records/") and data is not None:
            handler.send_response(200)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data[: len(data) // 2])
            handler.wfile.flush()
            time.sleep(0.05)  # the half arrives first
            linger = struct.pack("ii", 1, 0)  # close with a reset
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            handler.connection.close()
            return True
        return False

    said = _verify_url(ledger, rule)
    assert ".json: the answer ended " in said, said
    assert said.endswith(" bytes short of its Content-Length"), said


def test_attack_http_log_server_redirects_to_another_host(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 3)

    def rule(handler: BaseHTTPRequestHandler, path: str, data: bytes | None) -> bool:
        if path == "checkpoint":
            answer(handler, 302, b"", Location="http://attacker.example/checkpoint")
            return True
        return False

    assert _verify_url(ledger, rule).endswith("/checkpoint: HTTP 302")


def test_attack_http_log_server_404_for_a_tile(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 3)

    def rule(handler: BaseHTTPRequestHandler, path: str, data: bytes | None) -> bool:
        if path.startswith("tile/0/"):
            answer(handler, 404, b"gone\n")
            return True
        return False

    assert _verify_url(ledger, rule).endswith("/tile/0/000.p/3: tile missing")


def test_attack_http_log_server_tile_that_differs_from_the_ledger(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 3)

    def rule(handler: BaseHTTPRequestHandler, path: str, data: bytes | None) -> bool:
        if path.startswith("tile/0/") and data is not None:
            answer(handler, 200, bytes([data[0] ^ 1]) + data[1:])
            return True
        return False

    said = _verify_url(ledger, rule)
    assert said.endswith(
        "/tile/0/000.p/3: hash tile differs from the hashes of the entries "
        "(the tiles or the entries were altered)"
    ), said


# The witness client: a push must end, whatever the witness does.

WITNESS_KEY = Ed25519PrivateKey.generate()


@pytest.mark.parametrize(
    ("behave", "message"),
    [
        (drip, "unreachable: timed out"),
        (drip_headers, "unreachable: timed out"),
        (endless, f"answered with more than {MAX_RESPONSE_BYTES} bytes"),
    ],
    ids=["body-trickles-forever", "header-trickles-forever", "body-never-ends"],
)
def test_attack_witness_that_never_finishes_its_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, behave: Behaviour, message: str
) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, "1")
    log = ToyLog("example.com/a").append(3)
    (tmp_path / "checkpoint").write_bytes(log.note())

    def rule(handler: BaseHTTPRequestHandler, path: str, body: bytes | None) -> bool:
        behave(handler)
        return True

    vkey = note_verifier("w.example/x", WITNESS_KEY.public_key(), COSIGNATURE_V1)
    with hostile_server(tmp_path, rule) as url:
        witness = make_witness("hostile", url.rstrip("/"), vkey.verifier_key())
        started = time.monotonic()
        [result] = push_checkpoint(tmp_path, log.note(), [witness], log.tree.consistency_proof)
        assert time.monotonic() - started < 20
    assert (result.cosigned, result.message) == (False, message)
    assert (tmp_path / "checkpoint").read_bytes() == log.note()
