"""The key walk on real signed ledgers: revocations reach back, take effect in index order, and a
revoked key's revocation counts for nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bias_ledger.errors import LedgerError, VerificationError
from bias_ledger.ledger.keys import public_key_openssh
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record, init_ledger
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.verify import verify_ledger
from tests.ledger.helpers import (
    Signer,
    line_hash,
    new_signer,
    read_lines,
    record_of,
    resign_checkpoint,
    signed_line,
    write_lines,
)


def revocation(of: Signer, after: int) -> dict[str, object]:
    return {
        "revoked_public_key": public_key_openssh(of.key.public_key()),
        "revoked_fingerprint": of.fingerprint,
        "invalid_after": after,
        "reason": "test",
    }


def test_two_compromised_keys_cannot_cancel_each_other_out(tmp_path: Path) -> None:
    k, m = new_signer(tmp_path / "k"), new_signer(tmp_path / "m")
    trusted = TrustedKeys.from_fingerprints([k.fingerprint, m.fingerprint])
    path = tmp_path / "ledger"
    init_ledger(path, name="walk", format_version=1)
    append_record(path, RecordKind.GATE, {"note": "k"}, k.key)
    append_record(path, RecordKind.GATE, {"note": "m"}, m.key)
    append_record(path, RecordKind.KEY_REVOCATION, revocation(m, 0), k.key)
    with pytest.raises(
        LedgerError, match=re.escape(f"key {m.fingerprint} was revoked by record 2")
    ):
        append_record(path, RecordKind.KEY_REVOCATION, revocation(k, 0), m.key)
    # Written behind the store's back: M, already revoked, revokes K.
    lines = read_lines(path)
    last = record_of(lines[2])
    forged = {
        **last,
        "index": 3,
        "previous_hash": line_hash(lines[2]),
        "signer": {"fingerprint": m.fingerprint, "public_key": m.public_line},
        "key_revocation": revocation(k, 0),
    }
    write_lines(path, [*lines, signed_line(forged, m.key)])
    resign_checkpoint(path, k.key)
    report = verify_ledger(path, trusted=trusted)
    invalid = [w for w in report.warnings if "invalid, not trusted" in w]
    assert [w.split(":")[0].rsplit(" ", 1)[1] for w in invalid] == ["1", "3"]
    assert all(m.fingerprint in w and "which record 2 revoked" in w for w in invalid)
    # K's own records, the revocation among them, stay valid.
    assert dict(report.signers)[k.fingerprint] == ""


def test_a_revocation_counts_only_when_its_signer_is_trusted(tmp_path: Path) -> None:
    k, stranger = new_signer(tmp_path / "k"), new_signer(tmp_path / "s")
    path = tmp_path / "ledger"
    init_ledger(path, name="walk", format_version=1)
    append_record(path, RecordKind.GATE, {"note": "k"}, k.key)
    append_record(path, RecordKind.KEY_REVOCATION, revocation(k, -1), stranger.key)
    both = TrustedKeys.from_fingerprints([k.fingerprint, stranger.fingerprint])
    report = verify_ledger(path, trusted=both)  # trusted: K's record 0 is invalid
    assert any("record 0: invalid" in w for w in report.warnings)
    only_k = TrustedKeys.from_fingerprints([k.fingerprint])
    with pytest.raises(VerificationError, match="untrusted key"):
        verify_ledger(path, trusted=only_k)  # the stranger's record itself is not trusted
