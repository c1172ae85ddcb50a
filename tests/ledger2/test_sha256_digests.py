"""Audit records carry SHA-256 beside BLAKE3 for every input file and the model artifact."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import blake3

from bias_ledger.io.digest import digest_file, file_digests
from tests.ledger.helpers import cli_env, new_signer, run_cli, write_small_csv


def test_file_digests_match_hashlib_and_blake3(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 70_000)
    digests = file_digests(path)
    assert digests.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert digests.blake3 == blake3.blake3(path.read_bytes()).hexdigest()
    assert digest_file(path) == (digests.blake3, digests.size)


def test_audit_records_sha256_of_inputs_and_model(tmp_path: Path) -> None:
    data = write_small_csv(tmp_path / "data.csv")
    model = tmp_path / "model.onnx"
    model.write_bytes(b"not really a model, but bytes to fingerprint")
    signer = new_signer(tmp_path / "key")
    env = cli_env(
        tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "ledger"), BIAS_LEDGER_KEY=str(signer.path)
    )
    assert run_cli("init", env=env).returncode == 0
    done = run_cli(
        "audit",
        data,
        "--label",
        "label",
        "--prediction",
        "pred",
        "--sensitive",
        "group",
        "--model",
        model,
        "--json",
        "-q",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(run_cli("show", "0", "--json", env=env).stdout)["record"]["audit"]
    assert shown["inputs"][0]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert shown["subject"]["artifact"]["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert shown["inputs"][0]["blake3"] == blake3.blake3(data.read_bytes()).hexdigest()
