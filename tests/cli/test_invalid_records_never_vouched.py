"""A record its key could no longer sign (revoked, rotated out) is never reported, summarised
or attested as verified: ``report N``, ``report N --summary nyc-ll144`` and ``attest N`` refuse
it (exit 3), and the valid record before it still reports as verified for trust."""

from __future__ import annotations

from pathlib import Path

import pytest

from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record
from tests.attacks.cli import refused, run_cli
from tests.ledger.helpers import audit_payload, new_signer, write_small_csv


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_revoked_record_is_refused_by_report_and_attest(tmp_path: Path, version: str) -> None:
    ci, officer = new_signer(tmp_path / "ci"), new_signer(tmp_path / "officer")
    trusted = tmp_path / "trusted"
    trusted.write_text(f"ci {ci.public_line}\nofficer {officer.public_line}\n", encoding="ascii")
    ledger = tmp_path / "ledger"
    assert run_cli("init", "--format", version, ledger=ledger).returncode == 0
    payload = audit_payload(write_small_csv(tmp_path / "data.csv"))
    for _ in range(2):  # record 1: by the thief of the CI key
        append_record(ledger, RecordKind.AUDIT, payload, ci.key)
    revoke = ("key", "revoke", ci.fingerprint, "--after", "0", "--key", officer.path)
    done = run_cli(*revoke, ledger=ledger)
    assert done.returncode == 0, done.stderr

    report = tmp_path / "report.md"
    done = run_cli("report", "0", "--trusted-keys", trusted, "-o", report, ledger=ledger)
    assert done.returncode == 0, done.stderr
    assert "verified for integrity and trust" in " ".join(report.read_text().split())
    for args in (
        ("report", "1", "--trusted-keys", trusted, "-o", tmp_path / "r1.md"),
        ("report", "1", "-o", tmp_path / "r2.html"),
        ("attest", "1", "-o", tmp_path / "a.jsonl", "--key", ci.path),
    ):
        said = refused(run_cli(*args, ledger=ledger))
        assert said.startswith("record 1: invalid (signed by key "), (args, said)
        assert "which record 2 revoked" in said and "never reported or attested" in said, said
    assert not list(tmp_path.glob("r1.md*")) and not (tmp_path / "a.jsonl").exists()
