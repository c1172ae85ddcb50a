"""Messages put the right indefinite article before a kind name: "an approval record", "a gate
record" (wording.with_article), in the core and through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.record import parse_header
from bias_ledger.wording import with_article
from tests.ledger.helpers import SAMPLE, cli_env, new_signer, run_cli


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("approval", "an approval"),
        ("audit", "an audit"),
        ("record", "a record"),
        ("gate", "a gate"),
        ("key_rotation", "a key_rotation"),
        ("key_revocation record", "a key_revocation record"),
        ("regression", "a regression"),
        ("multiclass_classification", "a multiclass_classification"),
        ("ledger", "a ledger"),
        ("unique name", "a unique name"),
        ("user", "a user"),
        ("one-off", "a one-off"),
        ("hour", "a hour"),  # spelling decides, not sound: no kind name starts so
        ("Approval", "an Approval"),
        ("'approval'", "an 'approval'"),
        ("'gate'", "a 'gate'"),
        ("", "a "),
    ],
)
def test_with_article(phrase: str, expected: str) -> None:
    assert with_article(phrase) == expected


def test_header_without_its_payload_says_an_approval_record() -> None:
    record = {
        "format_version": 1,
        "index": 3,
        "kind": "approval",
        "labels": {},
        "origin": "x",
        "previous_hash": "0" * 64,
        "signer": {"fingerprint": "SHA256:x", "public_key": "ssh-ed25519 AAAA"},
        "timestamp": "2026-01-02T03:04:05.000000Z",
    }
    with pytest.raises(VerificationError) as caught:
        parse_header(record, where="record 3", versions=frozenset({1}))
    assert caught.value.message == "record 3: an approval record must hold an 'approval' object"


def test_gate_baseline_that_is_an_approval_says_an_approval_record(tmp_path: Path) -> None:
    signer = new_signer(tmp_path / "key")
    ledger, key = str(tmp_path / "ledger"), str(signer.path)
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=ledger, BIAS_LEDGER_KEY=key)
    config = SAMPLE / "bias-ledger.toml"
    assert run_cli("init", env=env).returncode == 0
    audit = run_cli("audit", "--config", config, "--prediction", "approved_v2", "-q", env=env)
    assert audit.returncode == 0, audit.stderr
    assert run_cli("approve", "0", env=env).returncode == 0
    done = run_cli(
        "gate",
        "--policy",
        SAMPLE / "policies" / "regression.toml",
        "--config",
        config,
        "--prediction",
        "approved_v2",
        "--baseline",
        "1",
        "--trust-ledger-keys",
        env=env,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "expected an audit record, found an approval record" in done.stderr, done.stderr
    assert "a approval" not in done.stderr
