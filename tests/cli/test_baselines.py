"""Gate baselines that must be approved by a trusted key, and schema 1 records that still
verify and recompute after the results schema moved to 2."""

from __future__ import annotations

import json
from pathlib import Path

from bias_ledger.ledger.keys import public_key_openssh
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record
from tests.ledger.helpers import SAMPLE, cli_env, new_signer, run_cli

REGRESSION = SAMPLE / "policies" / "regression.toml"
CONFIG = SAMPLE / "bias-ledger.toml"


def test_baseline_must_be_approved_by_a_trusted_approver(tmp_path: Path) -> None:
    auditor = new_signer(tmp_path / "auditor")
    officer = new_signer(tmp_path / "officer")
    stranger = new_signer(tmp_path / "stranger")
    env = cli_env(
        tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "ledger"), BIAS_LEDGER_KEY=str(auditor.path)
    )
    assert run_cli("init", env=env).returncode == 0
    v2: list[str | Path] = ["--config", CONFIG, "--prediction", "approved_v2", "-q"]
    assert run_cli("audit", *v2, env=env).returncode == 0
    officers = tmp_path / "officers"
    officers.write_text(f"officer {public_key_openssh(officer.key.public_key())}\n")
    gate: list[str | Path] = [
        "gate",
        "--policy",
        REGRESSION,
        "--config",
        CONFIG,
        "--prediction",
        "approved_v2",
        "--baseline",
        "latest-approved",
        "--approved-by",
        officers,
        "--json",
    ]

    # Approved only by someone the gate does not trust: no usable baseline (exit 3).
    approval = run_cli("approve", "0", "--key", stranger.path, env=env)
    assert approval.returncode == 0, approval.stderr
    refused = run_cli(*gate, env=env)
    assert refused.returncode == 3, refused.stderr
    assert "no approval record" in refused.stderr
    assert "is signed by a key trusted in" in refused.stderr
    assert "approvals 1 are signed by other keys" in refused.stderr

    # The compliance officer approves record 0: the gate compares against it and passes.
    assert run_cli("approve", "0", "--key", officer.path, env=env).returncode == 0
    done = run_cli(*gate, env=env)
    assert done.returncode == 0, done.stderr
    baseline = json.loads(done.stdout)["baseline"]
    assert baseline["record_index"] == 0 and baseline["principal"] == "officer"
    assert baseline["approver"] == officer.fingerprint


def test_schema_1_record_still_verifies_and_recomputes(tmp_path: Path) -> None:
    signer = new_signer(tmp_path / "key")
    ledger = tmp_path / "ledger"
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger), BIAS_LEDGER_KEY=str(signer.path))
    assert run_cli("init", env=env).returncode == 0
    data = SAMPLE / "lending.csv"
    done = run_cli(
        "audit",
        data,
        "--label",
        "repaid",
        "--prediction",
        "approved_v1",
        "--sensitive",
        "sex",
        "--no-record",
        "--json",
        "--ci",
        "0",
        "--min-group-size",
        "0",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    # What bias-ledger wrote before results schema 2: no statistics, no group size or intervals.
    payload = {key: document[key] for key in ("subject", "inputs", "data", "results", "warnings")}
    payload["schema_version"] = 1
    payload["parameters"] = {
        key: value
        for key, value in document["parameters"].items()
        if key not in {"min_group_size", "ci_level", "bootstrap", "seed", "thresholds", "classes"}
    }
    payload["policy"] = None
    payload["environment"] = document["environment"]
    append_record(ledger, RecordKind.AUDIT, payload, signer.key)
    assert run_cli("verify", "--trusted-key", signer.fingerprint, env=env).returncode == 0
    assert run_cli("show", "0", env=env).returncode == 0
    bundle = tmp_path / "old.zip"
    assert run_cli("export", "-o", bundle, "--all", env=env).returncode == 0
    recomputed = run_cli(
        "verify",
        bundle,
        "--trusted-key",
        signer.fingerprint,
        "--recompute",
        "--data",
        data,
        env=env,
    )
    assert recomputed.returncode == 0, recomputed.stdout + recomputed.stderr
