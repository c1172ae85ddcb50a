"""Files planted in a ledger directory: a poisoned state.json, symlinks, FIFOs, /dev/zero.

Anyone who can write the directory can plant them; none may make an append reuse an index or
write outside the ledger, and none may hang or exhaust a reader (verify exits 3 in one line).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bias_ledger.errors import LedgerError
from bias_ledger.ledger import canonical
from bias_ledger.ledger.merkle import BLAKE3_HASHER, CompactRange
from bias_ledger.ledger.reader import CHECKPOINT_FILE, LOCK_FILE, RECORDS_FILE, STATE_FILE
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.repair import fsck
from bias_ledger.ledger.store import append_record, init_ledger
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.verify import verify_ledger
from tests.ledger.helpers import Signer, cli_env, line_hash, new_signer, read_lines, run_cli


@pytest.fixture
def alice(tmp_path: Path) -> Signer:
    return new_signer(tmp_path / "alice")


@pytest.fixture
def ledger(tmp_path: Path, alice: Signer) -> Path:
    path = tmp_path / "ledger"
    init_ledger(path, name="untrusted", format_version=1)
    for note in ("zero", "one", "two"):
        append_record(path, RecordKind.GATE, {"note": note}, alice.key)
    return path


def _size(ledger: Path, alice: Signer) -> int:
    trusted = TrustedKeys.from_fingerprints([alice.fingerprint])
    return verify_ledger(ledger, trusted=trusted).size


def _poison_state_one_behind(ledger: Path) -> None:
    """A state.json that agrees with the log's length and last hash but claims one record less:
    the cheap checks of the tail pass, and the next index would be one already used."""
    lines = read_lines(ledger)
    tree = CompactRange.of(BLAKE3_HASHER, (BLAKE3_HASHER.hash_leaf(x) for x in lines[:-1]))
    state = {
        "size": len(lines) - 1,
        "byte_length": (ledger / RECORDS_FILE).stat().st_size,
        "last_hash": line_hash(lines[-1]),
        "tree": tree.to_json(),
    }
    (ledger / STATE_FILE).write_bytes(canonical.encode(state) + b"\n")


def test_a_poisoned_state_never_reuses_an_index_and_fsck_reports_it(
    ledger: Path, alice: Signer, tmp_path: Path
) -> None:
    _poison_state_one_behind(ledger)
    report = fsck(ledger, repair=False)
    assert not report.clean
    assert any("state.json: disagrees with records.log" in p for p in report.problems)
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger))
    done = run_cli("fsck", env=env)
    assert done.returncode == 3 and "disagrees with records.log" in done.stderr
    appended = append_record(ledger, RecordKind.GATE, {"note": "three"}, alice.key)
    assert appended.index == 3
    assert _size(ledger, alice) == 4
    assert fsck(ledger, repair=False).clean


def test_a_stale_state_is_a_note_not_a_problem(ledger: Path, alice: Signer) -> None:
    early = (ledger / STATE_FILE).read_bytes()
    append_record(ledger, RecordKind.GATE, {"note": "three"}, alice.key)
    (ledger / STATE_FILE).write_bytes(early)  # as after a crash before the state write
    report = fsck(ledger, repair=False)
    assert report.clean and any("state.json is stale" in n for n in report.notes)
    assert append_record(ledger, RecordKind.GATE, {"note": "four"}, alice.key).index == 4


def test_symlinks_at_the_old_temporary_names_write_nothing_outside(
    ledger: Path, alice: Signer, tmp_path: Path
) -> None:
    """Before, temp files were named .<file>.<pid>.tmp and opened with O_TRUNC, following links."""
    precious = tmp_path / "precious"
    precious.write_bytes(b"not yours\n")
    for name in (STATE_FILE, CHECKPOINT_FILE):
        (ledger / f".{name}.{os.getpid()}.tmp").symlink_to(precious)
    append_record(ledger, RecordKind.GATE, {"note": "three"}, alice.key)
    assert precious.read_bytes() == b"not yours\n"
    for name in (STATE_FILE, CHECKPOINT_FILE):
        assert not (ledger / name).is_symlink()
    assert _size(ledger, alice) == 4


@pytest.mark.parametrize("name", [RECORDS_FILE, CHECKPOINT_FILE, LOCK_FILE])
def test_a_ledger_file_that_is_a_symlink_is_refused(
    ledger: Path, alice: Signer, tmp_path: Path, name: str
) -> None:
    outside = tmp_path / "outside"
    if (ledger / name).exists():
        (ledger / name).rename(outside)
    else:
        outside.write_bytes(b"")
    before = outside.read_bytes()
    (ledger / name).symlink_to(outside)
    with pytest.raises(LedgerError, match=rf"{name}: is a symbolic link, expected a regular"):
        append_record(ledger, RecordKind.GATE, {"note": "three"}, alice.key)
    assert outside.read_bytes() == before


def test_a_state_file_that_is_a_symlink_is_replaced_not_followed(
    ledger: Path, alice: Signer, tmp_path: Path
) -> None:
    outside = tmp_path / "outside-state"
    outside.write_bytes((ledger / STATE_FILE).read_bytes())
    (ledger / STATE_FILE).unlink()
    (ledger / STATE_FILE).symlink_to(outside)
    before = outside.read_bytes()
    append_record(ledger, RecordKind.GATE, {"note": "three"}, alice.key)
    assert outside.read_bytes() == before
    assert not (ledger / STATE_FILE).is_symlink()
    assert json.loads((ledger / STATE_FILE).read_bytes())["size"] == 4


def _replace_with_fifo(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)


@pytest.mark.parametrize(
    ("name", "plant", "expected"),
    [
        (RECORDS_FILE, "fifo", "is a FIFO (named pipe), expected a regular file"),
        (CHECKPOINT_FILE, "fifo", "is a FIFO (named pipe), expected a regular file"),
        ("ledger.json", "fifo", "is a FIFO (named pipe), expected a regular file"),
        (RECORDS_FILE, "dev-zero", "is a symbolic link, expected a regular file"),
    ],
)
def test_verify_refuses_non_regular_ledger_files_at_once(
    ledger: Path, alice: Signer, tmp_path: Path, name: str, plant: str, expected: str
) -> None:
    target = ledger / name
    if plant == "fifo":
        _replace_with_fifo(target)
    else:
        target.unlink()
        target.symlink_to("/dev/zero")
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger))
    done = run_cli("verify", "--trusted-key", alice.fingerprint, env=env, timeout=60)
    assert done.returncode == 3, done.stderr
    assert f"{target}: {expected}" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    done = run_cli("log", env=env, timeout=60)
    assert done.returncode == 2 and f"{target}: {expected}" in done.stderr


def test_a_fifo_state_file_is_ignored_and_replaced(ledger: Path, alice: Signer) -> None:
    _replace_with_fifo(ledger / STATE_FILE)
    assert append_record(ledger, RecordKind.GATE, {"note": "three"}, alice.key).index == 3
    assert (ledger / STATE_FILE).is_file() and _size(ledger, alice) == 4
