"""``bias-ledger audit --engine duckdb`` on a hive-partitioned directory, as a user runs it: the
record verifies, holds the manifest, and equals the arrow engine's numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.ledger.keys import public_key_openssh
from tests.engines.data import frame, hive_directory, write


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(cwd), "BIAS_LEDGER_DIR": str(cwd / "ledger")}
    env.pop("BIAS_LEDGER_KEY_DATA", None)
    return subprocess.run(
        [sys.executable, "-m", "bias_ledger", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
    )


def test_directory_audit_records_and_verifies(tmp_path: Path) -> None:
    table = frame(21, 4_000)
    root = hive_directory(table, tmp_path / "scores", by="sex")
    single = write(table, tmp_path / "all.parquet")
    key = Ed25519PrivateKey.generate()
    key_path = tmp_path / "id_ed25519"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    assert _run("init", cwd=tmp_path).returncode == 0
    common: list[str | Path] = [
        "--label",
        "label",
        "--prediction",
        "prediction",
        "--sensitive",
        "sex",
        "--sensitive",
        "region",
        "--key",
        key_path,
        "--json",
    ]
    duck = _run("audit", root, "--engine", "duckdb", *common, cwd=tmp_path)
    assert duck.returncode == 0, duck.stderr
    arrow = _run("audit", single, *common, cwd=tmp_path)
    assert arrow.returncode == 0, arrow.stderr
    from_duck, from_arrow = json.loads(duck.stdout), json.loads(arrow.stdout)
    assert from_duck["results"] == from_arrow["results"]
    assert from_duck["parameters"]["engine"] == "duckdb"
    assert len(from_duck["inputs"][0]["manifest"]) == 3

    signers = tmp_path / "allowed_signers"
    signers.write_text(f"ci {public_key_openssh(key.public_key())}\n")
    verified = _run("verify", "--trusted-keys", signers, cwd=tmp_path)
    assert verified.returncode == 0, verified.stderr

    bad = _run(
        "audit",
        root,
        "--engine",
        "duckdb",
        "--label",
        "labels",
        "--prediction",
        "prediction",
        "--sensitive",
        "sex",
        "--no-record",
        cwd=tmp_path,
    )
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "no label column 'labels'" in bad.stderr
    assert "Traceback" not in bad.stderr
