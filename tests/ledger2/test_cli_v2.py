"""The CLI on a format-2 ledger, end to end in real processes: init makes format 2, the
checkpoint is a signed note, proofs are base64 SHA-256, a key rotation verifies."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from bias_ledger.ledger import note
from bias_ledger.ledger.merkle import SHA256_HASHER
from bias_ledger.ledger.merkle_verify import verify_inclusion
from tests.ledger.helpers import cli_env, new_signer, run_cli


def test_format2_cli_end_to_end(tmp_path: Path) -> None:
    signer = new_signer(tmp_path / "key")
    ledger = tmp_path / "ledger"
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger), BIAS_LEDGER_KEY=str(signer.path))
    created = json.loads(
        run_cli("init", "--name", "example.org/cli", "--format", "2", "--json", env=env).stdout
    )
    assert json.loads((ledger / "ledger.json").read_text())["format_version"] == 2
    assert run_cli("fsck", env=env).stdout.startswith("ok: 0 records")
    new = new_signer(tmp_path / "new")
    assert run_cli("key", "rotate", "--new-key", new.path, env=env).returncode == 0
    checkpoint = run_cli("checkpoint", env=env).stdout
    vkey = run_cli("key", "show", "--note-key", env=env).stdout.strip()
    assert vkey.startswith(created["origin"] + "+")
    opened = note.open_note(checkpoint.encode(), [note.parse_verifier_key(vkey)])
    assert opened.text.split("\n")[1] == "1"
    proof = json.loads(run_cli("proof", "inclusion", "0", "--json", env=env).stdout)
    entry = base64.b64decode(proof["entry"])
    leaf = hashlib.sha256(b"\x00" + entry).digest()
    assert base64.b64decode(proof["leaf_hash"]) == leaf and proof["hash"] == "sha256"
    verify_inclusion(SHA256_HASHER, 0, 1, leaf, [], base64.b64decode(proof["root_hash"]))
    verified = run_cli("verify", "--trusted-key", signer.fingerprint, "--json", env=env)
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["format_version"] == 2
    assert run_cli("fsck", env=env).stdout.startswith("ok: 1 record,")
    refused = run_cli("proof", "consistency", "1", "2", env=env)
    assert refused.returncode == 2 and "expected 1 <= A <= B <= 1" in refused.stderr
