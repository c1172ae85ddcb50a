"""The push client against misbehaving witnesses (stdlib HTTP servers on 127.0.0.1)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.ledger.merkle import SHA256_HASHER
from bias_ledger.ledger.merkle_verify import verify_consistency
from bias_ledger.ledger.note import COSIGNATURE_V1, cosign_text, note_verifier, parse_note
from bias_ledger.witness.client import TIMEOUT_ENV, push_checkpoint
from bias_ledger.witness.config import HINTS_FILE, WitnessConfig, make_witness
from bias_ledger.witness.protocol import parse_add_checkpoint
from tests.witness.toylog import ToyLog

WITNESS_KEY = Ed25519PrivateKey.generate()
WITNESS_NAME = "w.example/fake"
Reply = Callable[[bytes], tuple[int, str, bytes]]


class FakeWitness:
    """Answers each POST with ``reply(body)``; keeps the bodies it got."""

    def __init__(self, reply: Reply) -> None:
        self.reply, self.bodies = reply, list[bytes]()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                fake.bodies.append(body)
                status, content_type, answer = fake.reply(body)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def config(self) -> WitnessConfig:
        host, port = self.server.server_address[:2]
        vkey = note_verifier(WITNESS_NAME, WITNESS_KEY.public_key(), COSIGNATURE_V1)
        return make_witness("fake", f"http://{host!s}:{port}/prefix/", vkey.verifier_key())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake() -> Iterator[Callable[[Reply], FakeWitness]]:
    started: list[FakeWitness] = []

    def start(reply: Reply) -> FakeWitness:
        started.append(FakeWitness(reply))
        return started[-1]

    yield start
    for witness in started:
        witness.close()


def honest_reply(body: bytes) -> tuple[int, str, bytes]:
    text = parse_note(parse_add_checkpoint(body).checkpoint_note).text
    return 200, "text/plain", cosign_text(text, WITNESS_NAME, WITNESS_KEY, 5).line().encode()


def push(tmp_path: Path, log: ToyLog, witness: FakeWitness) -> tuple[bool, str]:
    note = log.note()
    (tmp_path / "checkpoint").write_bytes(note)
    results = push_checkpoint(tmp_path, note, [witness.config], log.tree.consistency_proof)
    return results[0].cosigned, results[0].message


def test_the_hinted_size_is_sent_with_a_valid_proof(
    tmp_path: Path, fake: Callable[[Reply], FakeWitness]
) -> None:
    log = ToyLog("example.com/a").append(11)
    witness = fake(honest_reply)
    (tmp_path / HINTS_FILE).write_text('{"fake":4}\n')
    assert push(tmp_path, log, witness) == (True, "cosigned")
    request = parse_add_checkpoint(witness.bodies[0])
    assert request.old_size == 4
    verify_consistency(SHA256_HASHER, 4, 11, log.tree.root(4), log.tree.root(), request.proof)
    stored = parse_note((tmp_path / "checkpoint").read_bytes())
    assert [sig.name for sig in stored.signatures] == ["example.com/a", WITNESS_NAME]
    assert (tmp_path / HINTS_FILE).read_text() == '{"fake":11}\n'


def test_a_409_is_retried_from_the_size_the_witness_reports(
    tmp_path: Path, fake: Callable[[Reply], FakeWitness]
) -> None:
    log = ToyLog("example.com/a").append(9)

    def reply(body: bytes) -> tuple[int, str, bytes]:
        if parse_add_checkpoint(body).old_size != 6:
            return 409, "text/x.tlog.size", b"6\n"
        return honest_reply(body)

    witness = fake(reply)
    (tmp_path / HINTS_FILE).write_text("not json")  # a damaged hint is no hint
    assert push(tmp_path, log, witness) == (True, "cosigned")
    assert [parse_add_checkpoint(body).old_size for body in witness.bodies] == [0, 6]


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (lambda body: (200, "text/plain", b"hello\n"), "without a valid cosignature"),
        (
            lambda body: (
                200,
                "text/plain",
                cosign_text("other\n", WITNESS_NAME, WITNESS_KEY, 5).line().encode(),
            ),
            "invalid cosignature/v1 signature",
        ),
        (lambda body: (409, "text/x.tlog.size", b"seven\n"), "409 with a malformed size"),
        (lambda body: (409, "text/x.tlog.size", b"99\n"), "has cosigned size 99, beyond"),
        (
            lambda body: (403, "text/plain", b"no valid\x1b[2J signature\n"),
            "HTTP 403: no valid[2J sig",
        ),
    ],
    ids=["garbage", "wrong-text", "bad-409", "ahead", "403"],
)
def test_misbehaving_witnesses_are_reported_and_nothing_is_stored(
    tmp_path: Path, fake: Callable[[Reply], FakeWitness], reply: Reply, message: str
) -> None:
    log = ToyLog("example.com/a").append(3)
    cosigned, said = push(tmp_path, log, fake(reply))
    assert not cosigned
    assert message in said
    assert (tmp_path / "checkpoint").read_bytes() == log.note()


def test_a_witness_moving_its_size_every_time_is_given_up(
    tmp_path: Path, fake: Callable[[Reply], FakeWitness]
) -> None:
    sizes = iter(range(1, 100))
    witness = fake(lambda body: (409, "text/x.tlog.size", f"{next(sizes)}\n".encode()))
    assert push(tmp_path, ToyLog("example.com/a").append(50), witness) == (
        False,
        "kept answering 409 with other sizes",
    )


def test_a_witness_that_never_answers_costs_only_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, "0.5")
    with socket.socket() as black_hole:  # the kernel accepts connections; nobody answers
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen(8)
        port = black_hole.getsockname()[1]
        vkey = note_verifier(WITNESS_NAME, WITNESS_KEY.public_key(), COSIGNATURE_V1)
        silent = make_witness("silent", f"http://127.0.0.1:{port}", vkey.verifier_key())
        log = ToyLog("example.com/a").append(2)
        started = time.monotonic()
        [result] = push_checkpoint(tmp_path, log.note(), [silent], log.tree.consistency_proof)
        assert time.monotonic() - started < 3
    assert not result.cosigned
    assert result.message.startswith("unreachable")


def test_an_append_without_witnesses_does_not_load_an_http_client(tmp_path: Path) -> None:
    """The append hook runs on every append; httpx alone takes 0.1-0.8 s to import."""
    code = (
        "import sys, pathlib; from bias_ledger.witness.client import push_after_append; "
        f"push_after_append(pathlib.Path({str(tmp_path)!r}), b''); print('httpx' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (done.stdout, done.stderr) == ("False\n", "")
