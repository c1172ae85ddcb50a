"""The whole record or none: kill -9 in the middle of a 36 MB write, and a really full disk.

The full-disk tests mount a small tmpfs (they need root, as in CI; elsewhere they are skipped
with the reason). The kill test kills a real appending process while its write is in flight.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bias_ledger.errors import LedgerError
from bias_ledger.ledger.reader import CHECKPOINT_FILE, RECORDS_FILE, STATE_FILE
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.repair import fsck
from bias_ledger.ledger.store import append_record, init_ledger
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.verify import LedgerVerification, verify_ledger
from tests.ledger.helpers import (
    Signer,
    audit_payload,
    cli_env,
    new_signer,
    run_cli,
    write_small_csv,
)

WORKER = Path(__file__).with_name("append_worker.py")
BIG_PAD = 36_000_000
"""Characters of padding: a 36 MB record, whose write takes long enough to be killed in."""


def verified(path: Path, signer: Signer) -> LedgerVerification:
    return verify_ledger(path, trusted=TrustedKeys.from_fingerprints([signer.fingerprint]))


def _kill_during_write(ledger: Path, signer: Signer) -> bytes:
    """Start a process appending a 36 MB record; SIGKILL it once its write has begun."""
    records = ledger / RECORDS_FILE
    before = records.stat().st_size
    worker = subprocess.Popen(
        [sys.executable, str(WORKER), str(ledger), str(signer.path), "1", "big", str(BIG_PAD)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while records.stat().st_size == before and worker.poll() is None:
        assert time.monotonic() < deadline, "the worker never started writing"
    if worker.poll() is None:
        worker.send_signal(signal.SIGKILL)
    out, err = worker.communicate(timeout=60)
    data = records.read_bytes()
    if worker.returncode == 0:  # it finished first (acknowledged): nothing was interrupted
        assert data.endswith(b"\n") and out
        return data
    assert worker.returncode == -signal.SIGKILL, err
    if not data.endswith(b"\n"):
        assert out == b"", "the worker acknowledged a record it was killed while writing"
    return data


@pytest.mark.slow
def test_kill_9_in_the_middle_of_a_36_mb_record(tmp_path: Path) -> None:
    alice = new_signer(tmp_path / "alice")
    ledger = tmp_path / "ledger"
    init_ledger(ledger, name="crash", format_version=1)
    for note in ("one", "two"):
        append_record(ledger, RecordKind.GATE, {"note": note}, alice.key)
    committed = (ledger / RECORDS_FILE).read_bytes()
    checkpoint = (ledger / CHECKPOINT_FILE).read_bytes()
    for _attempt in range(5):
        after = _kill_during_write(ledger, alice)
        if not after.endswith(b"\n"):
            break
        committed = after  # the kill came after the commit: try again on top of it
        checkpoint = (ledger / CHECKPOINT_FILE).read_bytes()
    else:
        pytest.fail("five kills all landed after the write: the test proved nothing")
    assert after.startswith(committed) and len(after) > len(committed)  # half a record on disk
    size = committed.count(b"\n")
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger))
    done = run_cli("verify", "--trusted-key", alice.fingerprint, env=env)
    assert done.returncode == 0, done.stderr
    assert "an interrupted append, not a record" in done.stdout + done.stderr
    result = verified(ledger, alice)
    assert result.size == size
    assert (ledger / CHECKPOINT_FILE).read_bytes() == checkpoint
    assert fsck(ledger, repair=False).clean
    # The next append needs no repair: it overwrites the uncommitted bytes.
    appended = append_record(ledger, RecordKind.GATE, {"note": "after the crash"}, alice.key)
    assert appended.index == size and not appended.warnings
    data = (ledger / RECORDS_FILE).read_bytes()
    assert data.startswith(committed) and data.endswith(b"\n")
    assert data.count(b"\n") == size + 1 and len(data) - len(committed) < 10_000
    assert verified(ledger, alice).size == size + 1


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MiB tmpfs, so that ENOSPC comes from the kernel, not from a mock."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def _fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` so that about ``leave`` bytes stay free (tmpfs counts whole pages)."""
    filler = disk / "filler"
    filler.unlink(missing_ok=True)
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    with filler.open("wb") as handle:
        handle.write(b"\0" * max(0, free - leave))
    return filler


def _ledger_on(disk: Path, template: Path) -> Path:
    copy = disk / "ledger"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(template, copy)
    return copy


def _template(tmp_path: Path, signer: Signer) -> Path:
    template = tmp_path / "template"
    init_ledger(template, name="full-disk", format_version=1)
    append_record(template, RecordKind.GATE, {"note": "first"}, signer.key)
    return template


def test_no_space_for_the_record_leaves_the_ledger_unchanged(
    tmp_path: Path, small_disk: Path
) -> None:
    alice = new_signer(tmp_path / "alice")
    ledger = _ledger_on(small_disk, _template(tmp_path, alice))
    before = {name: (ledger / name).read_bytes() for name in (RECORDS_FILE, CHECKPOINT_FILE)}
    filler = _fill(small_disk, leave=64 * 1024)
    with pytest.raises(LedgerError) as caught:
        append_record(ledger, RecordKind.GATE, {"note": "x" * 300_000}, alice.key)
    message = caught.value.message
    assert str(ledger / RECORDS_FILE) in message and "No space left on device" in message
    assert "record 1 was not appended" in message
    for name, data in before.items():
        assert (ledger / name).read_bytes() == data, f"{name} changed"
    assert verified(ledger, alice).size == 1
    assert not [p for p in ledger.iterdir() if p.name.endswith(".tmp")]  # no temp left behind
    filler.unlink()
    appended = append_record(ledger, RecordKind.GATE, {"note": "x" * 300_000}, alice.key)
    assert appended.index == 1 and verified(ledger, alice).size == 2


def test_every_amount_of_free_space_gives_the_whole_record_or_none(
    tmp_path: Path, small_disk: Path
) -> None:
    """Sweep the free space across the record, checkpoint and state writes: every outcome
    that is reported as a failure left no record, every success left a verifiable one."""
    alice = new_signer(tmp_path / "alice")
    template = _template(tmp_path, alice)
    payload = {"note": "y" * 20_000}  # about five pages
    outcomes: set[str] = set()
    page = os.sysconf("SC_PAGE_SIZE")
    for pages in range(0, 12):
        ledger = _ledger_on(small_disk, template)
        records_before = (ledger / RECORDS_FILE).read_bytes()
        filler = _fill(small_disk, leave=pages * page)
        try:
            appended = append_record(ledger, RecordKind.GATE, payload, alice.key)
        except LedgerError as exc:
            assert str(ledger / RECORDS_FILE) in exc.message, exc.message
            assert (ledger / RECORDS_FILE).read_bytes() == records_before
            assert verified(ledger, alice).size == 1
            outcomes.add("refused")
        else:
            result = verified(ledger, alice)
            assert result.size == 2 and appended.index == 1
            if appended.warnings:
                assert all("not updated" in w and "No space" in w for w in appended.warnings)
                outcomes.add("committed, checkpoint or state behind")
            else:
                assert result.checkpoint is not None and result.checkpoint.size == 2
                outcomes.add("committed")
        assert not [p for p in ledger.iterdir() if p.name.endswith(".tmp")]
        filler.unlink()
        # Whatever happened, the next append needs no repair and everything verifies.
        again = append_record(ledger, RecordKind.GATE, {"note": "next"}, alice.key)
        assert not again.warnings and verified(ledger, alice).size == again.index + 1
        assert fsck(ledger, repair=False).clean
    assert outcomes == {"refused", "committed, checkpoint or state behind", "committed"}


def test_a_full_disk_exits_2_naming_the_file(tmp_path: Path, small_disk: Path) -> None:
    alice = new_signer(tmp_path / "alice")
    template = tmp_path / "template"
    init_ledger(template, name="full-disk", format_version=1)
    payload = audit_payload(write_small_csv(tmp_path / "data.csv"))
    append_record(template, RecordKind.AUDIT, payload, alice.key)
    ledger = _ledger_on(small_disk, template)
    _fill(small_disk, leave=0)
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger), BIAS_LEDGER_KEY=str(alice.path))
    done = run_cli("approve", "0", "--note", "n" * 20_000, env=env)
    assert done.returncode == 2, done.stderr
    assert f"{ledger / RECORDS_FILE}: record 1 was not appended: No space left on device" in (
        done.stderr.replace("\n", "")
    )
    assert "Traceback" not in done.stderr
    assert verified(ledger, alice).size == 1


def test_an_io_error_at_the_commit_is_rolled_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EIO cannot be provoked on demand without a faulty device, so this one is injected at
    the os.fsync boundary, on the fsync that makes the LF durable (the commit itself)."""
    alice = new_signer(tmp_path / "alice")
    ledger = _template(tmp_path, alice)
    before = (ledger / RECORDS_FILE).read_bytes()
    state_before = (ledger / STATE_FILE).read_bytes()
    real_fsync = os.fsync
    calls = {"n": 0}

    def failing_fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the first makes the entry durable, the second its LF
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(LedgerError, match=r"records\.log: record 1 was not appended: .*errno 5"):
        append_record(ledger, RecordKind.GATE, {"note": "lost"}, alice.key)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert (ledger / RECORDS_FILE).read_bytes() == before
    assert (ledger / STATE_FILE).read_bytes() == state_before
    assert append_record(ledger, RecordKind.GATE, {"note": "kept"}, alice.key).index == 1


def test_an_output_that_does_not_fit_says_the_record_was_appended(
    tmp_path: Path, small_disk: Path
) -> None:
    """The record is committed before -o is written: its failure must not read as the audit's."""
    ledger = tmp_path / "ledger"
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger))
    for args in (["init"], ["key", "generate"]):
        assert run_cli(*args, env=env).returncode == 0
    data = write_small_csv(tmp_path / "data.csv")
    _fill(small_disk, leave=0)
    target = small_disk / "audit.json"
    args = ["--label", "label", "--prediction", "pred", "--sensitive", "group", "-q"]
    done = run_cli("audit", data, *args, "-o", target, env=env)
    assert done.returncode == 2, done.stderr
    message = done.stderr.replace("\n", "")
    assert f"{target}: cannot write the audit -o (No space left on device)" in message
    assert "record 0 was appended" in message
    assert run_cli("verify", "--trust-ledger-keys", env=env).returncode == 0
    assert not [p for p in small_disk.iterdir() if p.name.endswith(".tmp")]


def test_the_cli_reports_a_committed_record_as_a_success_with_a_warning(
    tmp_path: Path, small_disk: Path
) -> None:
    """Free space for the record but not for the checkpoint after it: exit 0 and a warning."""
    alice = new_signer(tmp_path / "alice")
    template = tmp_path / "template"
    init_ledger(template, name="full-disk", format_version=1)
    payload = audit_payload(write_small_csv(tmp_path / "data.csv"))
    append_record(template, RecordKind.AUDIT, payload, alice.key)
    page = os.sysconf("SC_PAGE_SIZE")
    # How long an approval line is beyond its note, measured by a real approve elsewhere.
    dry = tmp_path / "dry"
    shutil.copytree(template, dry)
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(dry), BIAS_LEDGER_KEY=str(alice.path))
    before = (dry / RECORDS_FILE).stat().st_size
    assert run_cli("approve", "0", "--note", "n" * 1000, env=env).returncode == 0
    overhead = (dry / RECORDS_FILE).stat().st_size - before - 1000
    # A line that ends just inside the second free page: the record fits, the checkpoint not.
    slack = -before % page
    note = "n" * (slack + 2 * page - 64 - overhead)
    ledger = _ledger_on(small_disk, template)
    _fill(small_disk, leave=2 * page)
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger), BIAS_LEDGER_KEY=str(alice.path))
    done = run_cli("approve", "0", "--note", note, env=env)
    assert done.returncode == 0, done.stderr
    message = done.stderr.replace("\n", "")
    assert f"{ledger / CHECKPOINT_FILE}: the signed checkpoint not updated" in message
    assert "No space left on device" in message and "the next append writes it" in message
    result = verified(ledger, alice)
    assert result.size == 2 and result.checkpoint is not None and result.checkpoint.size == 1
