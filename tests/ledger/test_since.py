"""``verify --since CHECKPOINT``: a ledger must extend the checkpoint a verifier kept earlier,
so a rollback (truncation with an old checkpoint restored) or a rewritten history shows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record, init_ledger
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.verify import verify_ledger
from tests.ledger.helpers import (
    build_ledger,
    cli_env,
    read_lines,
    run_cli,
    write_lines,
)


def _trust(*fingerprints: str) -> TrustedKeys:
    return TrustedKeys.from_fingerprints(fingerprints)


def test_ledger_extending_the_kept_checkpoint_passes(tmp_path: Path) -> None:
    built = build_ledger(tmp_path / "a")
    kept = (built.path / "checkpoint").read_bytes()
    append_record(built.path, RecordKind.GATE, {"note": "later"}, built.bob.key)
    report = verify_ledger(
        built.path, trusted=_trust(built.alice.fingerprint), since=(kept, "kept")
    )
    assert any(step.what == "since" and "size 5" in step.detail for step in report.steps)


def test_rollback_to_an_older_state_is_detected(tmp_path: Path) -> None:
    built = build_ledger(tmp_path / "a")
    # The attacker saved the ledger when it held 5 records; the verifier kept a later checkpoint.
    saved = tmp_path / "saved"
    shutil.copytree(built.path, saved)
    append_record(built.path, RecordKind.GATE, {"note": "six"}, built.bob.key)
    kept = (built.path / "checkpoint").read_bytes()
    shutil.rmtree(built.path)
    shutil.copytree(saved, built.path)
    verify_ledger(built.path, trusted=_trust(built.alice.fingerprint))  # valid on its own
    with pytest.raises(VerificationError, match=r"rollback: the ledger holds 5 records, fewer"):
        verify_ledger(built.path, trusted=_trust(built.alice.fingerprint), since=(kept, "kept"))


def test_rewritten_history_is_a_fork(tmp_path: Path) -> None:
    built = build_ledger(tmp_path / "a")
    kept = (built.path / "checkpoint").read_bytes()
    # Same origin, same keys, different records: rewrite record 4 and re-append history.
    lines = read_lines(built.path)
    write_lines(built.path, lines[:4])
    (built.path / "state.json").unlink()
    append_record(built.path, RecordKind.GATE, {"note": "rewritten"}, built.bob.key)
    verify_ledger(built.path, trusted=_trust(built.alice.fingerprint))  # valid on its own
    with pytest.raises(VerificationError, match=r"fork: at size 5 the ledger's root"):
        verify_ledger(built.path, trusted=_trust(built.alice.fingerprint), since=(kept, "kept"))


def test_checkpoint_of_another_ledger_or_untrusted_signer(tmp_path: Path) -> None:
    built = build_ledger(tmp_path / "a")
    other = tmp_path / "other"
    init_ledger(other, name="elsewhere", format_version=1)
    append_record(other, RecordKind.GATE, {"note": "x"}, built.alice.key)
    foreign = (other / "checkpoint").read_bytes()
    with pytest.raises(VerificationError, match=r"not the same ledger"):
        verify_ledger(built.path, trusted=_trust(built.alice.fingerprint), since=(foreign, "f"))
    kept = (built.path / "checkpoint").read_bytes()
    with pytest.raises(VerificationError, match=r"untrusted key"):
        verify_ledger(built.path, trusted=_trust(built.mallory.fingerprint), since=(kept, "k"))


def test_cli_since(tmp_path: Path) -> None:
    built = build_ledger(tmp_path / "a")
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(built.path))
    kept = tmp_path / "kept"
    done = run_cli("checkpoint", env=env)
    assert done.returncode == 0
    kept.write_text(done.stdout)
    ok = run_cli("verify", "--trusted-key", built.alice.fingerprint, "--since", kept, env=env)
    assert ok.returncode == 0, ok.stderr
    assert "since" in ok.stdout
    lines = read_lines(built.path)
    write_lines(built.path, lines[:2])
    (built.path / "state.json").unlink()
    bad = run_cli("verify", "--trusted-key", built.alice.fingerprint, "--since", kept, env=env)
    assert bad.returncode == 3
    assert "fewer than" in bad.stderr or "records were removed" in bad.stderr
