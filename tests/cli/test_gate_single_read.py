"""The gate relies only on the records of the one read it verified (time of check = time of use):
a format-2 ledger swapped for another validly signed state right after its verification does
not change what the gate relies on; and the pinned source that makes it so."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bias_ledger.errors import VerificationError
from bias_ledger.gate import resolve_baseline
from bias_ledger.gate_trust import GateTrust, verify_for_gate
from bias_ledger.ledger import tlog_verify
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record
from bias_ledger.ledger.tlog_snapshot import SnapshotSource
from bias_ledger.ledger.tlog_source import DirectorySource
from bias_ledger.ledger.trust import load_allowed_signers
from bias_ledger.verify import log as verify_log_module
from tests.cli.test_gate_rollback import World, _build, _restore_old
from tests.ledger2.helpers import copied_v2


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> World:
    return _build(tmp_path_factory.mktemp("single-read"), 2)


def _swapping_after_verification(
    monkeypatch: pytest.MonkeyPatch, swap: Callable[[], None]
) -> list[int]:
    """Make the format-2 verifier call ``swap`` as soon as it has verified the log (where the
    gate used to read the ledger a second time); returns the sizes it verified."""
    original = tlog_verify.verify_log
    verified: list[int] = []

    def verify_then_swap(*args: Any, **kwargs: Any) -> tlog_verify.LogVerification:
        result = original(*args, **kwargs)
        verified.append(result.size)
        swap()
        return result

    monkeypatch.setattr(tlog_verify, "verify_log", verify_then_swap)
    monkeypatch.setattr(verify_log_module, "verify_log", verify_then_swap)
    return verified


def test_a_ledger_swapped_after_its_verification_is_not_relied_on(
    built: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger, old = tmp_path / "ledger", tmp_path / "old"
    shutil.copytree(built.ledger, ledger)
    shutil.copytree(built.old, old)
    world = World(built.root, ledger, old, built.ci, built.officer, built.officers, built.env)
    trust = GateTrust(approvers=load_allowed_signers(world.officers))
    # Without the race: approval 3 was made by a key revoked since; approval 1 is the baseline.
    assert (
        resolve_baseline(verify_for_gate(ledger, trust), "latest-approved", trust).source[
            "approval_index"
        ]
        == 1
    )

    verified = _swapping_after_verification(monkeypatch, lambda: _restore_old(world))
    relied_on = verify_for_gate(ledger, trust)
    assert verified == [5]
    assert len(relied_on.records) == 5  # the records verified, not the 4 now on disk
    base = resolve_baseline(relied_on, "latest-approved", trust)
    assert base.source["approval_index"] == 1  # the revoked approval 3 does not come back


def test_the_snapshot_answers_with_the_bytes_it_read_first(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 3)
    snapshot = SnapshotSource(DirectorySource(ledger))
    first = snapshot.read("checkpoint")
    assert first is not None and snapshot.read("no/such/file") is None
    (ledger / "checkpoint").write_bytes(b"rewritten")
    (ledger / "no" / "such").mkdir(parents=True)
    (ledger / "no" / "such" / "file").write_bytes(b"now there")
    assert snapshot.read("checkpoint") == first
    assert snapshot.read("no/such/file") is None
    snapshot.seal()
    with pytest.raises(VerificationError, match="not read while the ledger was verified"):
        snapshot.read("tile/entries/000.p/3")


def test_the_snapshot_holds_a_large_file_by_digest_and_refuses_it_changed(tmp_path: Path) -> None:
    """A record-sized file is not held twice: read again, it must hash to what was read first."""
    (tmp_path / "records").mkdir()
    large = tmp_path / "records" / "big"
    original = bytes(range(256)) * 20  # over PINNED_WHOLE
    large.write_bytes(original)
    snapshot = SnapshotSource(DirectorySource(tmp_path))
    assert snapshot.read("records/big") == original
    snapshot.seal()
    assert snapshot.read("records/big") == original  # read again, unchanged: answered
    large.write_bytes(original[:-1] + b"!")
    with pytest.raises(VerificationError, match="changed since the ledger was verified"):
        snapshot.read("records/big")
    large.unlink()
    with pytest.raises(VerificationError, match="changed since the ledger was verified"):
        snapshot.read("records/big")


def test_the_snapshot_reads_a_partial_tile_a_writer_just_widened(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 3)
    narrow = (ledger / "tile" / "entries" / "000.p" / "3").read_bytes()
    append_record(ledger, RecordKind.GATE, {"note": "one more"}, signer.key)
    assert not (ledger / "tile" / "entries" / "000.p" / "3").exists()  # pruned
    snapshot = SnapshotSource(DirectorySource(ledger))
    assert snapshot.read("tile/entries/000.p/3") == narrow


def test_a_concurrent_append_neither_fails_nor_tears_the_gates_read(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Real appends (crossing the first full tile, which prunes the partial ones) while the
    gate verifies again and again: every read is one checkpoint's records, whole."""
    import threading

    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 250)
    trust = GateTrust(trust_ledger_keys=True)
    done = threading.Event()
    failures: list[BaseException] = []

    def append() -> None:
        try:
            for number in range(12):
                append_record(ledger, RecordKind.GATE, {"note": f"late {number}"}, signer.key)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            done.set()

    writer = threading.Thread(target=append)
    writer.start()
    sizes: list[int] = []
    while not done.is_set() or not sizes:
        relied_on = verify_for_gate(ledger, trust)
        assert [record["index"] for record in relied_on.records] == list(
            range(len(relied_on.records))
        )
        sizes.append(len(relied_on.records))
    writer.join()
    assert failures == []
    assert sizes == sorted(sizes) and sizes[0] >= 250 and sizes[-1] <= 262
