"""What reads a version-3 bundle besides `verify`: `report BUNDLE.tar`, `gate --baseline
BUNDLE.tar` and `verify --recompute`, on real audits of the sample data; each verifies first
and refuses an altered bundle with exit 3, and reads what it verified (a private copy)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bias_ledger.ledger.keys import public_key_openssh
from tests.bundle3.helpers import members, rewrite
from tests.ledger.helpers import SAMPLE, cli_env, new_signer, run_cli

CONFIG = SAMPLE / "bias-ledger.toml"
REGRESSION = SAMPLE / "policies" / "regression.toml"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    root = tmp_path_factory.mktemp("consumers")
    signer = new_signer(root / "key")
    env = cli_env(root, BIAS_LEDGER_DIR=str(root / "ledger"), BIAS_LEDGER_KEY=str(signer.path))
    assert run_cli("init", env=env).returncode == 0
    for prediction in ("approved_v1", "approved_v2"):
        done = run_cli("audit", "--config", CONFIG, "--prediction", prediction, "-q", env=env)
        assert done.returncode in (0, 1), done.stderr
    trusted = root / "allowed_signers"
    trusted.write_text(f"auditor {public_key_openssh(signer.key.public_key())}\n")
    bundle = root / "audits.tar"
    done = run_cli("export", "--all", "-o", bundle, env=env)
    assert done.returncode == 0, done.stderr
    return bundle, env, trusted


def _altered(bundle: Path) -> Path:
    """The bundle with one byte of record 1 changed (its signed JSON)."""
    items = members(bundle)
    edited = [
        (name, data.replace(b"approved_v2", b"approved_v3") if name == "records/1.json" else data)
        for name, data in items
    ]
    assert edited != items
    return rewrite(bundle, edited, name="altered.tar")


def test_report_of_a_tar_bundle(
    exported: tuple[Path, dict[str, str], Path], tmp_path: Path
) -> None:
    bundle, env, trusted = exported
    out = tmp_path / "report.html"
    done = run_cli("report", bundle, "-o", out, "--trusted-keys", trusted, env=env)
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert "tar -xf BUNDLE.tar -C bundle" in html and "unzip" not in html
    assert "approved_v2" in html and "<svg" in html
    done = run_cli("report", _altered(bundle), "-o", out, "--trusted-keys", trusted, env=env)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "altered.tar" in done.stderr and "records/1.json" in done.stderr
    assert "bias-ledger-bundle-" not in done.stderr  # the user's path, not the private copy


def test_gate_baseline_from_a_tar_bundle(exported: tuple[Path, dict[str, str], Path]) -> None:
    bundle, env, trusted = exported
    gate: list[str | Path] = ["gate", "--policy", REGRESSION, "--config", CONFIG, "--json"]
    gate += ["--prediction", "approved_v2", "--trusted-keys", trusted]
    done = run_cli(*gate, "--baseline", bundle, env=env)
    assert done.returncode in (0, 1), done.stderr
    baseline = json.loads(done.stdout)["baseline"]
    assert (baseline["kind"], baseline["record_index"]) == ("bundle", 1)
    record = dict(members(bundle))["records/1.json"]
    import blake3

    assert baseline["record_hash"] == blake3.blake3(record).hexdigest()
    done = run_cli(*gate, "--baseline", _altered(bundle), env=env)
    assert done.returncode == 3, done.stdout + done.stderr


def test_recompute_of_a_tar_bundle(exported: tuple[Path, dict[str, str], Path]) -> None:
    bundle, env, trusted = exported
    verify: list[str | Path] = ["verify", bundle, "--trusted-keys", trusted, "--recompute"]
    done = run_cli(*verify, "--data", SAMPLE / "lending.csv", "--json", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    recompute = json.loads(done.stdout)["recompute"]
    assert recompute["ok"] and [r["index"] for r in recompute["records"] if r["recomputed"]] == [
        0,
        1,
    ]
    done = run_cli(
        "verify",
        _altered(bundle),
        "--trusted-keys",
        trusted,
        "--recompute",
        "--data",
        SAMPLE / "lending.csv",
        env=env,
    )
    assert done.returncode == 3, done.stdout + done.stderr
