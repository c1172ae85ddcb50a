"""A format-2 record's ``signer.fingerprint`` is derived from ``signer.public_key``: a record
without the field verifies (and exports), one holding it must hold the key's own, and the
readers of the fingerprint show the key's, whatever the field says."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bias_ledger.errors import VerificationError
from bias_ledger.ledger import canonical
from bias_ledger.ledger.keys import fingerprint, generate_key, public_key_openssh
from bias_ledger.ledger.record import (
    FINGERPRINT_HELD,
    RecordHeader,
    build_record,
    parse_header,
    signer_fingerprint,
)
from bias_ledger.ledger.tlog_source import DirectorySource
from bias_ledger.ledger.tlog_verify import verify_log
from tests.bundle3.helpers import bias_ledger, members
from tests.ledger2.bulk import audit_payload, write_ledger

Edit = Callable[[dict[str, Any]], None]


def _records(edit: Edit) -> Callable[[RecordHeader], bytes]:
    def make(header: RecordHeader) -> bytes:
        record = build_record(header, audit_payload(header.index, 300))
        edit(record)
        return canonical.encode(record)

    return make


def _drop(record: dict[str, Any]) -> None:
    record["signer"].pop("fingerprint", None)


def _ledger(tmp_path: Path, edit: Edit, size: int = 3) -> tuple[Path, Path, str]:
    key = generate_key()
    ledger = tmp_path / "ledger"
    write_ledger(ledger, size, key, _records(edit))
    public = key.public_key()
    signers = tmp_path / "allowed_signers"
    signers.write_text(
        f'{fingerprint(public)} namespaces="bias-ledger" {public_key_openssh(public)}\n'
    )
    return ledger, signers, fingerprint(public)


def test_records_without_the_field_verify_and_export_with_the_keys_fingerprint(
    tmp_path: Path,
) -> None:
    ledger, signers, expected = _ledger(tmp_path, _drop)
    raw = next((ledger / "records").iterdir()).read_bytes()
    record = json.loads(raw)
    assert set(record["signer"]) == {"public_key"}
    assert parse_header(record, where="r", versions=frozenset({2})).signer.fingerprint == expected
    assert signer_fingerprint(record) == expected
    done = bias_ledger("verify", "--ledger", ledger, "--trusted-keys", signers)
    assert done.returncode == 0, done.stderr
    assert "VALID: 3 records" in " ".join(done.stdout.split())
    bundle = tmp_path / "b.tar"
    done = bias_ledger("export", "--ledger", ledger, "--all", "-o", bundle)
    assert done.returncode == 0, done.stderr
    listed = dict(members(bundle))["keys/allowed_signers"].decode()
    assert f"{expected} " in listed
    done = bias_ledger("verify", bundle, "--trusted-keys", signers)
    assert done.returncode == 0, done.stderr


def test_a_held_fingerprint_of_another_key_is_refused(tmp_path: Path) -> None:
    other = fingerprint(generate_key().public_key())

    def forge(record: dict[str, Any]) -> None:
        if record["index"] == 1:
            record["signer"]["fingerprint"] = other

    ledger, _, expected = _ledger(tmp_path, forge)
    with pytest.raises(VerificationError) as caught:
        verify_log(DirectorySource(ledger), trusted=None, trust_log_keys=True)
    message = str(caught.value)
    assert "record 1" in message and other in message and expected in message, message


def test_a_format_1_record_must_still_hold_it() -> None:
    assert 1 in FINGERPRINT_HELD
    key = public_key_openssh(generate_key().public_key())
    record = {
        "format_version": 1,
        "kind": "gate",
        "index": 0,
        "timestamp": "2026-01-02T03:04:05.678901Z",
        "previous_hash": None,
        "origin": "o/0123456789abcdef",
        "signer": {"public_key": key},
        "labels": {},
        "gate": {},
    }
    with pytest.raises(VerificationError, match="missing field 'fingerprint'"):
        parse_header(record, where="r", versions=frozenset({1}))


def test_an_unreadable_key_without_the_field_is_refused_naming_it() -> None:
    record = {
        "format_version": 2,
        "kind": "gate",
        "index": 0,
        "timestamp": "2026-01-02T03:04:05.678901Z",
        "previous_hash": None,
        "origin": "o/0123456789abcdef",
        "signer": {"public_key": "ssh-rsa AAAA"},
        "labels": {},
        "gate": {},
    }
    with pytest.raises(VerificationError, match="r signer: public_key is not an OpenSSH"):
        parse_header(record, where="r", versions=frozenset({2}))
