"""The witness server over real HTTP on 127.0.0.1: every answer tlog-witness prescribes."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.ledger.note import cosignature_timestamp, open_note, parse_verifier_key
from bias_ledger.witness.protocol import AddCheckpoint
from tests.witness.helpers import run_notetool
from tests.witness.servers import RunningWitness, start_witness
from tests.witness.toylog import ToyLog

KEY = Ed25519PrivateKey.generate()
# One witness serves the module (starting Python is the slow part); each test has its own log.
LOGS = [
    "new",
    "stale",
    "fork",
    "bad",
    "race",
    "damaged",
    "monitor",
    "legacy",
    *(f"many{i}" for i in range(6)),
]


def toy(name: str) -> ToyLog:
    return ToyLog(f"example.com/{name}", KEY)


@pytest.fixture(scope="module")
def witness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningWitness]:
    logs = [(toy(name).origin, toy(name).verifier_key) for name in LOGS]
    running = start_witness(tmp_path_factory.mktemp("witness") / "w1", logs)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


PostFn = Callable[[bytes], httpx.Response]


@pytest.fixture
def post(witness: RunningWitness, http: httpx.Client) -> PostFn:
    return lambda body: http.post(witness.url + "/add-checkpoint", content=body)


def test_cosigns_a_new_log_then_each_consistent_extension(
    witness: RunningWitness, post: PostFn, notetool: Path
) -> None:
    log = toy("new").append(3)
    before = int(time.time())
    first = post(log.request(0))
    assert first.status_code == 200, first.text
    cosigned = open_note(log.note() + first.content, [parse_verifier_key(witness.verifier_key)])
    assert cosigned.verified[0].name == witness.name
    timestamp = cosignature_timestamp(cosigned.verified[0])
    assert before <= timestamp <= time.time() + 1
    # Checked by the Go tool too (crypto/ed25519, no code of ours).
    public = base64.b64encode(parse_verifier_key(witness.verifier_key).public_key).decode()
    go = run_notetool(
        notetool, "check-cosig", witness.name, public, stdin=log.note() + first.content
    )
    assert (go.returncode, go.stdout) == (0, f"{timestamp}\n".encode()), go.stderr
    for grow in (1, 4, 9):
        old = log.tree.size
        response = post(log.append(grow).request(old))
        assert response.status_code == 200, response.text
        assert response.content.startswith("— witness.example/w1 ".encode())
    # The same checkpoint again: cosigned again (a client that lost the answer retries).
    assert post(log.request(log.tree.size)).status_code == 200


def test_a_stale_old_size_gets_409_with_the_cosigned_size(post: PostFn) -> None:
    log = toy("stale").append(7)
    assert post(log.request(0)).status_code == 200
    stale = post(log.append(2).request(3))
    assert stale.status_code == 409
    assert stale.headers["content-type"] == "text/x.tlog.size"
    assert stale.content == b"7\n"
    assert post(log.request(7)).status_code == 200


def test_forks_with_the_same_key_are_refused(post: PostFn) -> None:
    honest = toy("fork").append(5)
    fork = honest.fork("evil")
    honest.append(3)
    fork.append(3)
    assert post(honest.request(0)).status_code == 200
    same_size = post(fork.request(8))  # tlog-witness: equal sizes, other root: 422
    assert same_size.status_code == 422, same_size.text
    fork.append(2)
    # The fork's own proof from size 8 checks against its own root, not the cosigned one.
    assert post(fork.request(8)).status_code == 422
    # Nor can the honest log's proof bridge to the fork's root.
    bridge = AddCheckpoint(8, tuple(honest.append(2).tree.consistency_proof(8, 10)), fork.note())
    assert post(bridge.encode()).status_code == 422
    assert post(honest.request(8)).status_code == 200


def test_status_codes_for_bad_requests(
    post: PostFn, http: httpx.Client, witness: RunningWitness
) -> None:
    log = toy("bad").append(4)
    stranger = ToyLog("example.com/stranger", KEY).append(4)
    impostor = ToyLog(log.origin).append(4)  # the right origin, another key
    assert post(stranger.request(0)).status_code == 404
    assert post(impostor.request(0)).status_code == 403
    for malformed in (
        b"old 0\n",
        b"old 00\n\n" + log.note(),
        b"new 0\n\n" + log.note(),
        b"old 0\n\n" + log.note()[:-1],
        log.request(0).replace(b"old 0", b"old 5"),  # beyond the checkpoint's size
        b"old 0\n" + (b"A" * 43 + b"=\n") * 64 + b"\n" + log.note(),  # over 63 proof lines
        b"old 0\nAAAA\n\n" + log.note(),  # a 3-byte hash
    ):
        response = post(malformed)
        assert response.status_code == 400, (malformed[:20], response.text)
    assert post(AddCheckpoint(0, (bytes(32),), log.note()).encode()).status_code == 422
    assert http.get(witness.url + "/add-checkpoint").status_code == 405
    # None of it was cosigned: the witness has still never seen this log.
    assert post(log.request(0)).status_code == 200


def test_concurrent_requests_advance_exactly_once(post: PostFn) -> None:
    log = toy("race").append(2)
    assert post(log.request(0)).status_code == 200
    log.append(30)
    bodies = [log.request(2, size) for size in range(3, 33)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda body: post(body).status_code, bodies))
    assert statuses.count(200) == 1
    assert statuses.count(409) == len(bodies) - 1
    winner = 3 + statuses.index(200)
    assert post(log.request(0)).content == f"{winner}\n".encode()


def test_many_logs_at_once(post: PostFn) -> None:
    logs = [toy(f"many{i}").append(1) for i in range(6)]

    def grow(log: ToyLog) -> list[int]:
        statuses = [post(log.request(0)).status_code]
        for _ in range(5):
            old = log.tree.size
            statuses.append(post(log.append(3).request(old)).status_code)
        return statuses

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(grow, logs)) == [[200] * 6] * 6


def test_a_damaged_state_file_is_never_taken_for_a_new_log(
    witness: RunningWitness, post: PostFn
) -> None:
    log = toy("damaged").append(5)
    answer = post(log.request(0))
    assert answer.status_code == 200
    digest = hashlib.sha256(log.origin.encode()).hexdigest()
    state_file = witness.directory / "state" / "origins" / digest
    assert state_file.read_bytes() == log.note() + answer.content  # and the cosignature
    state_file.write_bytes(b"garbage")
    fork = log.fork("evil").append(1)
    assert post(fork.request(0)).status_code == 500
    assert post(fork.request(5)).status_code == 500


def test_a_second_process_cannot_share_the_state(witness: RunningWitness) -> None:
    with pytest.raises(RuntimeError, match="another witness process holds"):
        start_witness(witness.directory, [(toy("new").origin, toy("new").verifier_key)])


@pytest.mark.slow
def test_kill_9_and_restart_keeps_the_cosigned_state(tmp_path: Path) -> None:
    log = toy("restart").append(6)
    fork = log.fork("evil").append(1)
    logs = [(log.origin, log.verifier_key)]
    first = start_witness(tmp_path / "w", logs)
    assert httpx.post(first.url + "/add-checkpoint", content=log.request(0)).status_code == 200
    assert (
        httpx.post(first.url + "/add-checkpoint", content=log.append(1).request(6)).status_code
        == 200
    )
    first.kill()
    again = start_witness(tmp_path / "w", logs)
    try:
        with httpx.Client(base_url=again.url, timeout=10) as http:
            assert again.verifier_key == first.verifier_key
            assert http.post("/add-checkpoint", content=fork.request(0)).content == b"7\n"
            assert http.post("/add-checkpoint", content=fork.request(7)).status_code == 422
            assert http.post("/add-checkpoint", content=log.request(6, 6)).status_code == 409
            assert http.post("/add-checkpoint", content=log.append(1).request(7)).status_code == 200
    finally:
        again.stop()
    # The refused fork is on record (stderr), as evidence of the log's misbehaviour.
    assert f"refused {log.origin} size 7: a different root hash" in again.stderr()


def test_the_monitoring_endpoint_serves_the_latest_cosigned_checkpoint(
    witness: RunningWitness, http: httpx.Client, post: PostFn, notetool: Path
) -> None:
    """tlog-witness: GET <monitoring prefix>/<hex SHA-256 of origin>/checkpoint, with the
    cosignature add-checkpoint returned and the log's signatures the witness verified; 404
    for a log it never cosigned."""
    log = toy("monitor")
    digest = hashlib.sha256(log.origin.encode()).hexdigest()
    url = f"{witness.url}/{digest}/checkpoint"
    assert http.get(url).status_code == 404
    assert http.get(f"{witness.url}/{digest.upper()}/checkpoint").status_code == 404
    assert http.get(f"{witness.url}/{'0' * 64}/checkpoint").status_code == 404
    stranger = ToyLog(log.origin, Ed25519PrivateKey.generate())  # a signature nobody trusts
    for grow in (3, 2):
        old = log.tree.size
        note = log.append(grow).note()
        foreign = stranger.append(1).note().split(b"\n\n", 1)[1]
        proof = log.tree.consistency_proof(old, log.tree.size) if old else []
        answer = post(AddCheckpoint(old, tuple(proof), note + foreign).encode())
        assert answer.status_code == 200, answer.text
        served = http.get(url)
        assert served.status_code == 200
        assert served.headers["content-type"].startswith("text/plain")
        # Exactly the checkpoint, its log signature and the cosignature just returned.
        assert served.content == note + answer.content, served.content
    public = base64.b64encode(parse_verifier_key(witness.verifier_key).public_key).decode()
    go = run_notetool(notetool, "check-cosig", witness.name, public, stdin=served.content)
    assert go.returncode == 0, go.stderr


def test_a_state_written_before_the_monitoring_endpoint_is_served_cosigned(
    witness: RunningWitness, http: httpx.Client, post: PostFn
) -> None:
    log = toy("legacy").append(4)
    assert post(log.request(0)).status_code == 200
    digest = hashlib.sha256(log.origin.encode()).hexdigest()
    (witness.directory / "state" / "origins" / digest).write_bytes(log.note())  # as received
    served = http.get(f"{witness.url}/{digest}/checkpoint")
    assert served.status_code == 200
    opened = open_note(served.content, [parse_verifier_key(witness.verifier_key)])
    assert opened.note.text.encode() == log.note().split(b"\n\n", 1)[0] + b"\n"
