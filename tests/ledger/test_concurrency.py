"""Concurrent appends, SIGKILLed appenders, torn tails, stale append state, lost checkpoints."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bias_ledger.errors import LedgerError, VerificationError
from bias_ledger.ledger.reader import (
    CHECKPOINT_FILE,
    RECORDS_FILE,
    STATE_FILE,
    WRITER_WAIT_SECONDS,
    StoredLedger,
    read_ledger,
    read_meta,
)
from bias_ledger.ledger.record import (
    FORMAT_VERSION,
    RecordHeader,
    RecordKind,
    Signer,
    build_record,
    utc_timestamp,
)
from bias_ledger.ledger.repair import fsck
from bias_ledger.ledger.store import append_record, init_ledger, ledger_lock
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.verify import LedgerVerification, verify_ledger
from tests.ledger.helpers import Signer as KeyOnDisk
from tests.ledger.helpers import cli_env, line_hash, new_signer, read_lines, run_cli, signed_line

WORKER = Path(__file__).with_name("append_worker.py")


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger"
    init_ledger(path, name="concurrency", format_version=1)
    return path


@pytest.fixture
def alice(tmp_path: Path) -> KeyOnDisk:
    return new_signer(tmp_path / "alice")


def verified(path: Path, signer: KeyOnDisk) -> LedgerVerification:
    return verify_ledger(path, trusted=TrustedKeys.from_fingerprints([signer.fingerprint]))


def start_worker(path: Path, signer: KeyOnDisk, count: int, tag: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(path), str(signer.path), str(count), tag],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def acknowledged(output: str) -> dict[int, str]:
    """Complete acknowledgement lines only: a kill can cut the last one."""
    found: dict[int, str] = {}
    for line in output.split("\n")[:-1]:
        index, digest = line.split()
        found[int(index)] = digest
    return found


def test_eight_processes_append_25_records_each(ledger: Path, alice: KeyOnDisk) -> None:
    workers = [start_worker(ledger, alice, 25, f"w{n}") for n in range(8)]
    acks: dict[int, str] = {}
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        got = acknowledged(out)
        assert len(got) == 25
        assert not acks.keys() & got.keys()  # no index handed out twice
        acks.update(got)
    report = verified(ledger, alice)
    assert report.size == 200 and report.checkpoint is not None and report.checkpoint.size == 200
    lines = read_lines(ledger)
    assert sorted(acks) == list(range(200))
    assert all(line_hash(lines[i]) == digest for i, digest in acks.items())
    notes = {json.loads(line.split(b"\t")[0])["gate"]["note"] for line in lines}
    assert notes == {f"w{n}-{i}" for n in range(8) for i in range(25)}


def _size(ledger: Path) -> int:
    records = ledger / RECORDS_FILE
    return records.read_bytes().count(b"\n") if records.exists() else 0


def test_sigkill_at_random_moments_loses_no_acknowledged_record(
    ledger: Path, alice: KeyOnDisk
) -> None:
    rng = random.Random(20261128)
    acks: dict[int, str] = {}
    for round_number in range(4):
        before = _size(ledger)
        workers = [start_worker(ledger, alice, 0, f"r{round_number}w{n}") for n in range(3)]
        # Past interpreter start-up, into the appends (however loaded the machine is).
        deadline = time.monotonic() + 60
        while _size(ledger) < before + 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.random() * 0.3)
        for worker in workers:
            time.sleep(rng.random() * 0.15)
            os.kill(worker.pid, signal.SIGKILL)
        for worker in workers:
            out, _ = worker.communicate(timeout=30)
            assert worker.returncode == -signal.SIGKILL
            got = acknowledged(out)
            assert not acks.keys() & got.keys()
            acks.update(got)
    assert len(acks) >= 4, "the workers never got to append: the kill test proved nothing"
    assert fsck(ledger, repair=False).clean  # a kill leaves nothing to repair
    result = verified(ledger, alice)
    lines = read_lines(ledger)
    assert result.size == len(lines) >= len(acks)
    for index, digest in acks.items():
        assert line_hash(lines[index]) == digest, f"acknowledged record {index} changed or lost"


TORN = b'{"format_version":1,"kind":"aud'


def _tear(ledger: Path, garbage: bytes = TORN) -> None:
    with (ledger / RECORDS_FILE).open("ab") as handle:
        handle.write(garbage)


def _two_records(ledger: Path, signer: KeyOnDisk) -> None:
    for note in ("one", "two"):
        append_record(ledger, RecordKind.GATE, {"note": note}, signer.key)


def test_an_interrupted_append_is_not_a_record_and_the_next_append_overwrites_it(
    ledger: Path, alice: KeyOnDisk, tmp_path: Path
) -> None:
    """Bytes after the last LF (what a crash mid-write leaves) never block a reader or writer."""
    _two_records(ledger, alice)
    whole = (ledger / RECORDS_FILE).read_bytes()
    _tear(ledger)
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger))
    done = run_cli("verify", "--trusted-key", alice.fingerprint, "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert f"{len(TORN)} bytes after record 1 are an interrupted append" in done.stdout
    for reader in (["log"], ["show", "1"]):
        done = run_cli(*reader, env=env)
        assert done.returncode == 0 and "ends in an interrupted append" in done.stderr, done.stderr
    done = run_cli("fsck", env=env)
    assert done.returncode == 0, done.stderr
    assert f"note: {len(TORN)} bytes of an interrupted append after record 1" in done.stdout
    assert (ledger / RECORDS_FILE).read_bytes() == whole + TORN  # plain fsck only looks
    appended = append_record(ledger, RecordKind.GATE, {"note": "three"}, alice.key)
    assert appended.index == 2
    data = (ledger / RECORDS_FILE).read_bytes()
    assert data.startswith(whole) and TORN not in data[len(whole) :] and data.endswith(b"\n")
    assert verified(ledger, alice).size == 3
    _tear(ledger)
    done = run_cli("fsck", "--repair", env=env)
    assert done.returncode == 0, done.stderr
    assert f"truncated {RECORDS_FILE} to 3 records ({len(data)} bytes)" in done.stdout
    assert (ledger / RECORDS_FILE).read_bytes() == data


@pytest.mark.parametrize("state", ["kept", "removed"])
def test_fsck_drops_an_unreadable_record_after_the_checkpoint(
    ledger: Path, alice: KeyOnDisk, state: str
) -> None:
    _two_records(ledger, alice)
    whole = (ledger / RECORDS_FILE).read_bytes()
    _tear(ledger, b"not a record\n")
    if state == "removed":
        (ledger / STATE_FILE).unlink()
    # Appending after it would seal the garbage into the next signed checkpoint.
    with pytest.raises(LedgerError, match=r"record 2: expected '<record>TAB<signature>'.*fsck"):
        append_record(ledger, RecordKind.GATE, {"note": "three"}, alice.key)
    assert (ledger / RECORDS_FILE).read_bytes() == whole + b"not a record\n"
    report = fsck(ledger, repair=False)
    assert report.dropped_records == 1 and not report.clean
    assert (ledger / RECORDS_FILE).read_bytes() == whole + b"not a record\n"
    report = fsck(ledger, repair=True)
    assert (ledger / RECORDS_FILE).read_bytes() == whole
    assert verified(ledger, alice).size == 2
    append_record(ledger, RecordKind.GATE, {"note": "three"}, alice.key)
    assert verified(ledger, alice).size == 3


def test_fsck_never_drops_a_record_the_checkpoint_covers(
    ledger: Path, alice: KeyOnDisk, tmp_path: Path
) -> None:
    _two_records(ledger, alice)
    lines = read_lines(ledger)
    lines[-1] = lines[-1].replace(b"\t", b" ")  # the last record, unreadable but whole
    damaged = b"".join(line + b"\n" for line in lines)
    (ledger / RECORDS_FILE).write_bytes(damaged)
    for repair in (False, True):
        with pytest.raises(
            VerificationError, match=r"records 1\.\.1 are covered by the signed checkpoint"
        ):
            fsck(ledger, repair=repair)
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger))
    done = run_cli("fsck", "--repair", env=env)
    assert done.returncode == 3 and "fsck will not drop them" in done.stderr
    assert (ledger / RECORDS_FILE).read_bytes() == damaged
    with pytest.raises(VerificationError):
        verified(ledger, alice)


@pytest.mark.parametrize("damage", ["missing", "garbage", "stale", "ahead"])
def test_append_state_is_rebuilt(ledger: Path, alice: KeyOnDisk, damage: str) -> None:
    _two_records(ledger, alice)
    early = (ledger / STATE_FILE).read_bytes()
    _two_records(ledger, alice)
    state = ledger / STATE_FILE
    if damage == "missing":
        state.unlink()
    elif damage == "garbage":
        state.write_text("{not json")
    elif damage == "stale":
        state.write_bytes(early)  # two records behind: caught up from the log
    else:
        ahead = json.loads(state.read_bytes())
        ahead["byte_length"] += 1000
        state.write_text(json.dumps(ahead))
    append_record(ledger, RecordKind.GATE, {"note": "after"}, alice.key)
    assert verified(ledger, alice).size == 5
    assert json.loads(state.read_bytes())["size"] == 5


def test_crash_between_record_and_checkpoint(ledger: Path, alice: KeyOnDisk) -> None:
    """A record written by hand, signed, but with no checkpoint or state update after it."""
    _two_records(ledger, alice)
    lines = read_lines(ledger)
    header = RecordHeader(
        format_version=FORMAT_VERSION,
        kind=RecordKind.GATE,
        index=2,
        timestamp=utc_timestamp(),
        previous_hash=line_hash(lines[-1]),
        origin=read_meta(ledger).origin,
        signer=Signer(fingerprint=alice.fingerprint, public_key=alice.public_line),
    )
    line = signed_line(build_record(header, {"note": "orphan"}), alice.key)
    checkpoint = (ledger / CHECKPOINT_FILE).read_bytes()
    with (ledger / RECORDS_FILE).open("ab") as handle:
        handle.write(line + b"\n")
    result = verified(ledger, alice)
    assert result.size == 3
    assert result.checkpoint is not None and result.checkpoint.size == 2
    assert any("1 record(s) after the latest checkpoint" in w for w in result.warnings)
    assert fsck(ledger, repair=False).clean  # a whole, signed record is not damage
    append_record(ledger, RecordKind.GATE, {"note": "next"}, alice.key)
    result = verified(ledger, alice)
    assert (ledger / CHECKPOINT_FILE).read_bytes() != checkpoint
    assert result.size == 4 and result.checkpoint is not None and result.checkpoint.size == 4
    assert not any("after the latest checkpoint" in w for w in result.warnings)


def test_a_reader_does_not_mistake_an_append_in_progress_for_a_torn_tail(
    ledger: Path, alice: KeyOnDisk
) -> None:
    """A writer holds the lock with half a record on disk; the reader waits, then sees it whole."""
    _two_records(ledger, alice)
    header = RecordHeader(
        format_version=FORMAT_VERSION,
        kind=RecordKind.GATE,
        index=2,
        timestamp=utc_timestamp(),
        previous_hash=line_hash(read_lines(ledger)[-1]),
        origin=read_meta(ledger).origin,
        signer=Signer(fingerprint=alice.fingerprint, public_key=alice.public_line),
    )
    line = signed_line(build_record(header, {"note": "slow"}), alice.key) + b"\n"
    seen: list[StoredLedger] = []
    with ledger_lock(ledger), (ledger / RECORDS_FILE).open("ab") as handle:
        handle.write(line[:100])
        handle.flush()
        reader = threading.Thread(target=lambda: seen.append(read_ledger(ledger)))
        reader.start()
        time.sleep(0.3)
        assert not seen, "the reader did not wait for the writer"
        handle.write(line[100:])
    reader.join(timeout=30)
    assert seen and seen[0].torn_tail == b"" and len(seen[0].lines) == 3


def test_fsck_holding_the_lock_does_not_wait_for_itself(ledger: Path, alice: KeyOnDisk) -> None:
    _two_records(ledger, alice)
    _tear(ledger)
    start = time.monotonic()
    report = fsck(ledger, repair=False)
    assert report.torn_bytes == len(TORN) and report.clean
    assert time.monotonic() - start < WRITER_WAIT_SECONDS / 2


def test_verify_while_another_process_appends(ledger: Path, alice: KeyOnDisk) -> None:
    """Readers take no part in the writers' lock protocol, yet never see a false failure."""
    _two_records(ledger, alice)
    worker = start_worker(ledger, alice, 60, "busy")
    checked = 0
    while worker.poll() is None:
        report = verified(ledger, alice)
        assert report.size >= 2
        checked += 1
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert checked > 5 and verified(ledger, alice).size == 62
