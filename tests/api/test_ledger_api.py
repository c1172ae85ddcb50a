"""Records made from Python are the records the CLI makes: ``bias-ledger verify`` accepts them,
trusting the key from outside, and ``show`` reads them back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import bias_ledger
from bias_ledger.errors import BiasLedgerError, InputError
from bias_ledger.ledger.keys import public_key_openssh

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "lending.csv"


def _key(path: Path) -> tuple[Path, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path, key


def _cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bias_ledger", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def test_append_and_approve_from_python_verify_with_the_cli(tmp_path: Path) -> None:
    key_path, key = _key(tmp_path / "id_ed25519")
    ledger = bias_ledger.Ledger.init(tmp_path / "ledger", name="notebook")
    frame = pd.read_csv(SAMPLE)
    result = bias_ledger.audit(
        frame, label="repaid", prediction="approved_v1", sensitive="sex", model_name="credit"
    )
    appended = ledger.append(result, key=key_path)
    approval = ledger.approve(appended.index, note="reviewed", key=key)
    assert (appended.index, approval.index) == (0, 1)
    assert len(ledger) == 2
    kinds = [record["kind"] for record in ledger.records()]
    assert kinds == ["audit", "approval"]
    stored, full = next(ledger.records()), next(ledger.records(expanded=True))
    assert "ci_level" not in stored["audit"]["parameters"]  # results schema 4: held once
    assert full["audit"]["parameters"]["ci_level"] == 0.95
    assert full["audit"]["parameters"]["bootstrap"] == 0
    assert full["audit"]["results"]["task"] == "binary_classification"

    signers = tmp_path / "allowed_signers"
    signers.write_text(f"alice {public_key_openssh(key.public_key())}\n")
    done = _cli("verify", "--ledger", ledger.path, "--trusted-keys", signers, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shown = _cli("show", "0", "--json", "--ledger", ledger.path, cwd=tmp_path)
    record = json.loads(shown.stdout)["record"]
    assert record["audit"]["results"] == result.to_json()["results"]  # as recorded
    assert record["audit"]["inputs"][0]["format"] == "table"
    assert record["audit"]["inputs"][0]["blake3"] == result.inputs[0].blake3

    # Someone else's key is not trusted.
    stranger = tmp_path / "other_signers"
    other = Ed25519PrivateKey.generate().public_key()
    stranger.write_text(f"mallory {public_key_openssh(other)}\n")
    refused = _cli("verify", "--ledger", ledger.path, "--trusted-keys", stranger, cwd=tmp_path)
    assert refused.returncode == 3


def test_open_and_approve_refuse_what_is_not_there(tmp_path: Path) -> None:
    with pytest.raises(BiasLedgerError, match="ledger"):
        bias_ledger.Ledger.open(tmp_path / "nothing")
    ledger = bias_ledger.Ledger.init(tmp_path / "ledger")
    _, key = _key(tmp_path / "k")
    with pytest.raises(InputError, match="record 0"):
        ledger.approve(0, key=key)
