"""``witness serve`` against the text of c2sp.org/tlog-witness (add-checkpoint), over raw
``http.client`` on 127.0.0.1, as another implementation's client would talk to it.

Each test names the clause it checks; the request and response examples are the spec's.
"""

from __future__ import annotations

import hashlib
import http.client
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.ledger.note import (
    COSIGNATURE_V1,
    NoteSignature,
    cosignature_timestamp,
    key_id,
    open_note,
    parse_note,
    parse_verifier_key,
    sign_note,
    sign_text,
)
from bias_ledger.ledger.tlog_checkpoint import Checkpoint
from bias_ledger.witness.protocol import AddCheckpoint, parse_add_checkpoint
from tests.witness.helpers import signature_line
from tests.witness.servers import RunningWitness, start_witness
from tests.witness.toylog import ToyLog

SPEC_REQUEST = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcy"
    "v2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V62"
    "67UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
).encode()
SPEC_RESPONSE = (
    "— witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLr"
    "dk3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n"
    "— witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+D"
    "lkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==\n"
    "— witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC"
    "3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==\n"
).encode()
EMPTY_ROOT = hashlib.sha256(b"").digest()
KEY = Ed25519PrivateKey.generate()
LOGS = ["fresh", "zero", "badzero", "same", "stale", "proof0", "dup", "extra", "bigger", "pq"]


def toy(name: str) -> ToyLog:
    return ToyLog(f"example.com/spec-{name}", KEY)


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str | None
    body: bytes


@pytest.fixture(scope="module")
def witness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningWitness]:
    logs = [(toy(name).origin, toy(name).verifier_key) for name in LOGS]
    running = start_witness(tmp_path_factory.mktemp("spec-witness") / "w1", logs)
    yield running
    running.stop()


def post(witness: RunningWitness, body: bytes) -> Answer:
    url = urllib.parse.urlsplit(witness.url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    try:
        connection.request("POST", "/add-checkpoint", body=body)
        response = connection.getresponse()
        return Answer(response.status, response.getheader("Content-Type"), response.read())
    finally:
        connection.close()


def test_the_spec_request_body_parses_and_encodes_byte_for_byte() -> None:
    request = parse_add_checkpoint(SPEC_REQUEST)
    assert request.old_size == 20852014
    assert len(request.proof) == 4
    note = parse_note(request.checkpoint_note)
    assert note.text.splitlines()[1] == "20852163"
    assert len(note.signatures) == 2  # "The submitted checkpoint MAY include multiple signatures"
    assert AddCheckpoint(request.old_size, request.proof, request.checkpoint_note).encode() == (
        SPEC_REQUEST
    )


def test_the_spec_response_body_is_signature_lines_a_client_can_append() -> None:
    # "the client MAY concatenate it to the checkpoint, and use a note verification function".
    checkpoint = parse_add_checkpoint(SPEC_REQUEST).checkpoint_note
    note = parse_note(checkpoint + SPEC_RESPONSE)
    names = [signature.name for signature in note.signatures]
    assert names == ["example.com/behind-the-sofa"] * 2 + ["witness.example/w1"] * 2 + [
        "witness.example/w2"
    ]


def test_a_200_answer_is_cosignature_lines_with_a_nonzero_timestamp(
    witness: RunningWitness,
) -> None:
    log = toy("fresh").append(3)
    answer = post(witness, log.request(0))
    assert answer.status == 200, answer.body
    lines = answer.body.decode().splitlines(keepends=True)
    assert lines and all(line.startswith("\u2014 ") and line.endswith("\n") for line in lines)
    verifier = parse_verifier_key(witness.verifier_key)
    assert verifier.signature_type == COSIGNATURE_V1
    opened = open_note(log.note() + answer.body, [verifier])
    cosignature = opened.verified[0]
    assert cosignature.key_id == key_id(witness.name, 0x04, verifier.public_key)
    assert cosignature_timestamp(cosignature) > 0  # "the timestamp MUST NOT be zero"


def test_a_size_zero_checkpoint_with_the_empty_root_is_cosigned(witness: RunningWitness) -> None:
    log = toy("zero")
    assert log.checkpoint(0).root_hash == EMPTY_ROOT
    assert post(witness, log.request(0, 0)).status == 200
    # Its size is now the witness's record: old size 0 is right, a proof from 0 is not needed.
    assert post(witness, log.append(2).request(0)).status == 200


def test_a_size_zero_checkpoint_with_another_root_is_422(witness: RunningWitness) -> None:
    # "A checkpoint of size zero MUST have the root hash of the empty tree ... Otherwise, the
    # witness MUST respond with a 422".
    origin = toy("badzero").origin
    note = sign_note(Checkpoint(origin, 0, bytes(32)).text(), origin, KEY)
    answer = post(witness, AddCheckpoint(0, (), note).encode())
    assert answer.status == 422, answer
    assert post(witness, toy("badzero").request(0, 0)).status == 200


def test_equal_sizes_with_another_root_are_422_not_409(witness: RunningWitness) -> None:
    # "If the old size matches the checkpoint size, the witness MUST check that the root hashes
    # are also identical. If they don't match, the witness MUST respond with a 422".
    honest = toy("same").append(4)
    fork = honest.fork("evil")
    honest.append(2)
    fork.append(2)
    assert post(witness, honest.request(0)).status == 200
    answer = post(witness, fork.request(6))
    assert answer.status == 422, answer
    assert post(witness, honest.request(6)).status == 200  # the honest one still is


def test_a_stale_old_size_is_409_with_the_size_as_text_x_tlog_size(
    witness: RunningWitness,
) -> None:
    log = toy("stale").append(5)
    assert post(witness, log.request(0)).status == 200
    for old in (0, 3):
        answer = post(witness, log.append(1).request(old))
        assert (answer.status, answer.body) == (409, b"5\n")
        assert answer.content_type == "text/x.tlog.size"
    # The client retries with the size the witness reported.
    assert post(witness, log.request(5)).status == 200


def test_a_proof_from_size_zero_is_422_and_an_old_size_too_big_is_400(
    witness: RunningWitness,
) -> None:
    log = toy("proof0").append(4)
    answer = post(witness, AddCheckpoint(0, (bytes(32),), log.note()).encode())
    assert answer.status == 422
    assert post(witness, log.request(0).replace(b"old 0\n", b"old 5\n", 1)).status == 400
    assert post(witness, log.request(0)).status == 200


def test_unknown_origin_404_and_untrusted_or_bad_signatures_403(witness: RunningWitness) -> None:
    log = toy("dup").append(2)
    assert post(witness, ToyLog("example.com/nobody", KEY).append(1).request(0)).status == 404
    assert post(witness, ToyLog(log.origin).append(2).request(0)).status == 403  # other key
    # "a signature line's key name and ID match a trusted key but the signature itself fails
    # to verify": 403, even when a valid line by the same key comes first.
    key = parse_verifier_key(log.verifier_key).key_id
    bad = NoteSignature(log.origin, key, bytes(64)).line().encode()
    assert post(witness, log.request(0) + bad).status == 403
    assert post(witness, log.request(0)).status == 200


def test_signatures_by_unknown_keys_are_ignored(witness: RunningWitness) -> None:
    log = toy("extra").append(3)
    text = log.checkpoint().text()
    stranger = sign_text(text, "other.example/key", Ed25519PrivateKey.generate()).line().encode()
    # Same name as the log, another key: not a trusted (name, ID), so ignored.
    same_name = sign_text(text, log.origin, Ed25519PrivateKey.generate()).line().encode()
    assert post(witness, log.request(0) + stranger + same_name).status == 200


def test_a_checkpoint_older_than_the_cosigned_one_is_refused(witness: RunningWitness) -> None:
    log = toy("bigger").append(9)
    assert post(witness, log.request(0)).status == 200
    older = log.request(0, 4)  # old 0 is not the cosigned 9
    assert (post(witness, older).status, post(witness, older).body) == (409, b"9\n")
    # From the cosigned size, a smaller checkpoint: old size above the checkpoint's, 400.
    assert post(witness, AddCheckpoint(9, (), log.note(4)).encode()).status == 400


def post_quantum_lines(count: int) -> bytes:
    """``count`` signature lines by unknown keys, each of an ML-DSA-87 cosignature's size (a key
    ID, a timestamp and a 4,627-byte signature)."""
    payload = bytes(4 + 8 + 4627)
    return b"".join(signature_line(f"pq{i}.example/w", payload) for i in range(count))


def test_a_note_of_16_post_quantum_sized_signatures_is_cosigned(witness: RunningWitness) -> None:
    # signed-note: verifiers "MUST accept at least up to 16 signatures. Remember that
    # post-quantum signatures can be up to nearly 5kB in size." (A 64 KiB limit answered 413.)
    log = toy("pq").append(3)
    request = log.request(0) + post_quantum_lines(15)
    assert len(parse_note(parse_add_checkpoint(request).checkpoint_note).signatures) == 16
    assert len(request) > 90_000
    answer = post(witness, request)
    assert answer.status == 200, answer.body
    assert open_note(log.note() + answer.body, [parse_verifier_key(witness.verifier_key)])
