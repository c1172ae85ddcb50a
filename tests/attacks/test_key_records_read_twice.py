"""Attack: a log server (or a directory rewritten during the read) that answers the first read
of the entries, the one that finds the revocations in effect, without a revocation, and the
verified read with it. Every record, tile and the root then verify; only comparing the key
records of both reads shows that the revocation was hidden from the key walk."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record
from bias_ledger.ledger.tlog_tiles import decode_bundle, encode_bundle
from tests.attacks.cli import refused, run_cli
from tests.attacks.hostile_http import answer, hostile_server
from tests.ledger.helpers import audit_payload, new_signer, write_small_csv

BUNDLE = "tile/entries/000.p/3"


def _ledger(root: Path) -> tuple[Path, Path]:
    """Records 0 and 1 audits by the CI key, 2 the officer revokes it after record 0 (so record
    1 is invalid). Returns the ledger and the allowed_signers of both keys."""
    ci, officer = new_signer(root / "ci"), new_signer(root / "officer")
    trusted = root / "trusted"
    trusted.write_text(f"ci {ci.public_line}\nofficer {officer.public_line}\n", encoding="ascii")
    ledger = root / "ledger"
    done = run_cli("init", ledger=ledger)
    assert done.returncode == 0, done.stderr
    payload = audit_payload(write_small_csv(root / "data.csv"))
    for _ in range(2):
        append_record(ledger, RecordKind.AUDIT, payload, ci.key)
    done = run_cli(
        "key", "revoke", ci.fingerprint, "--after", "0", "--key", officer.path, ledger=ledger
    )
    assert done.returncode == 0, done.stderr
    return ledger, trusted


@pytest.mark.parametrize(
    ("first_read", "message"),
    [
        # Record 2 as a copy of audit 0: no revocation, so record 1 would pass as valid.
        ((0, 1, 0), "record 2: a key_revocation record that the first read of the log did not "),
        # Record 1 as a copy of the revocation: one the verified read does not show.
        ((0, 2, 2), "the first read of the log showed 2 key record(s), the verified read 1"),
    ],
    ids=["revocation-left-out", "revocation-added"],
)
def test_key_records_that_differ_between_the_two_reads_are_refused(
    tmp_path: Path, first_read: tuple[int, int, int], message: str
) -> None:
    ledger, trusted = _ledger(tmp_path)
    honest = run_cli("verify", ledger, "--trusted-keys", trusted, "--json")
    assert honest.returncode == 0, honest.stderr
    assert "record 1: invalid" in honest.stdout  # what the first lie would hide
    entries = decode_bundle((ledger / BUNDLE).read_bytes(), 3, where=BUNDLE)
    lie = encode_bundle([entries[at] for at in first_read])
    asked: list[str] = []

    def rule(handler: BaseHTTPRequestHandler, path: str, data: bytes | None) -> bool:
        if path != BUNDLE:
            return False
        asked.append(path)
        if len(asked) == 1:  # the first read; every later one is answered honestly
            answer(handler, 200, lie)
            return True
        return False

    with hostile_server(ledger, rule) as url:
        done = run_cli("verify", url, "--trusted-keys", trusted)
    said = refused(done)
    assert len(asked) == 2, asked
    assert message in said and "the log changed while it was read" in said, said
