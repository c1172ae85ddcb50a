"""``verify BUNDLE --recompute [--engine E]``: a record recounted by its own engine or another
gives identical numbers; a directory input is recompared by its freshly computed manifest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.ledger.keys import public_key_openssh
from tests.engines.data import frame, hive_directory, write

COLUMNS = ["--label", "label", "--prediction", "prediction", "--sensitive", "sex"]


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


def _bundle(tmp_path: Path, data: Path, engine: str) -> tuple[Path, Path]:
    """A ledger with one audit of ``data`` by ``engine``, exported; and the trusted signers."""
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
    done = _run(
        "audit",
        data,
        *COLUMNS,
        "--sensitive",
        "region",
        "--engine",
        engine,
        "--key",
        key_path,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    bundle = tmp_path / "audit.zip"
    exported = _run("export", "--all", "-o", bundle, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"ci {public_key_openssh(key.public_key())}\n")
    return bundle, signers


def _recompute(
    bundle: Path, signers: Path, data: Path, *engine: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    return _run(
        "verify",
        bundle,
        "--trusted-keys",
        signers,
        "--recompute",
        "--data",
        data,
        *engine,
        "--json",
        cwd=cwd,
    )


def test_a_file_recounted_by_its_engine_and_by_duckdb(tmp_path: Path) -> None:
    data = write(frame(5, 3_000), tmp_path / "data.csv")
    bundle, signers = _bundle(tmp_path, data, "arrow")
    for engine in ([], ["--engine", "arrow"], ["--engine", "duckdb"]):
        done = _recompute(bundle, signers, data, *engine, cwd=tmp_path)
        assert done.returncode == 0, (engine, done.stdout, done.stderr)
        recomputed = json.loads(done.stdout)["recompute"]
        assert recomputed["ok"] and recomputed["records"][0]["recomputed"]
        assert recomputed["records"][0]["mismatches"] == []


def test_an_unknown_engine_is_a_usage_error(tmp_path: Path) -> None:
    data = write(frame(6, 500), tmp_path / "data.parquet")
    bundle, signers = _bundle(tmp_path, data, "arrow")
    done = _recompute(bundle, signers, data, "--engine", "pandas", cwd=tmp_path)
    assert done.returncode == 2
    assert "--engine 'pandas': expected one of arrow, duckdb, spark" in done.stderr


def test_a_directory_is_recompared_by_its_manifest(tmp_path: Path) -> None:
    root = hive_directory(frame(7, 4_000), tmp_path / "scores", by="region")
    bundle, signers = _bundle(tmp_path, root, "duckdb")
    done = _recompute(bundle, signers, root, cwd=tmp_path)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert json.loads(done.stdout)["recompute"]["records"][0]["recomputed"]
    # One more file in the directory: a different manifest, so the record is not recomputed.
    extra = root / "region=99" / "part-0.parquet"
    extra.parent.mkdir()
    write(frame(8, 10), extra)
    done = _recompute(bundle, signers, root, cwd=tmp_path)
    assert done.returncode == 3
    assert "DIFFERS from" in done.stdout


@pytest.mark.slow
def test_recounted_by_spark(tmp_path: Path) -> None:
    data = write(frame(5, 2_000), tmp_path / "data.parquet")
    bundle, signers = _bundle(tmp_path, data, "duckdb")
    done = _recompute(bundle, signers, data, "--engine", "spark", cwd=tmp_path)
    assert done.returncode == 0, (done.stdout, done.stderr[-2000:])
    assert json.loads(done.stdout)["recompute"]["records"][0]["recomputed"]
