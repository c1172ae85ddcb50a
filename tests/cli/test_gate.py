"""``bias-ledger gate`` on the sample data: v1 fails four-fifths, v2 passes, v1 regresses."""

from __future__ import annotations

import json
from pathlib import Path

from junitparser import Failure, JUnitXml

from tests.ledger.helpers import (
    SAMPLE,
    cli_env,
    line_hash,
    new_signer,
    read_lines,
    record_of,
    run_cli,
)

POLICIES = SAMPLE / "policies"
CONFIG = SAMPLE / "bias-ledger.toml"
V2 = ["--prediction", "approved_v2", "--model-version", "2"]


def test_gate_flow(tmp_path: Path) -> None:
    signer = new_signer(tmp_path / "key")
    ledger = tmp_path / "ledger"
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger), BIAS_LEDGER_KEY=str(signer.path))
    assert run_cli("init", env=env).returncode == 0
    summary = tmp_path / "summary.md"
    github = {**env, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    four_fifths: list[str | Path] = [
        "gate",
        "--policy",
        POLICIES / "four-fifths.toml",
        "--config",
        CONFIG,
    ]

    # Version 1: the four-fifths rule fails for Black applicants.
    done = run_cli(*four_fifths, "--junit", tmp_path / "v1.xml", env=github)
    assert done.returncode == 1, done.stderr
    assert "::error" in done.stdout and "race_ethnicity = Black" in done.stdout
    markdown = summary.read_text()
    assert markdown.lstrip().startswith("#") and "|" in markdown and "Black" in markdown
    cases = list(JUnitXml.fromfile(str(tmp_path / "v1.xml")))
    failed = [
        case
        for suite in cases
        for case in suite
        if any(isinstance(r, Failure) for r in case.result)
    ]
    assert failed and all("Black" in case.name for case in failed)

    # Version 2 passes; without GITHUB_ACTIONS there are no annotations.
    done = run_cli(*four_fifths, *V2, "--json", env=env)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["verdict"] == "pass" and document["record"]["index"] == 1
    assert "::error" not in done.stdout

    # Approve v2 as the baseline; v1 against it regresses.
    assert run_cli("approve", "1", "--note", "v2 is fair", env=env).returncode == 0
    regression: list[str | Path] = [
        "gate",
        "--policy",
        POLICIES / "regression.toml",
        "--config",
        CONFIG,
    ]
    trusted = signer.allowed_signers(tmp_path / "allowed_signers")
    by_trusted: list[str | Path] = ["--baseline", "latest-approved", "--approved-by", trusted]
    done = run_cli(*regression, *by_trusted, "--json", env=env)
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    assert document["verdict"] == "fail"
    assert document["baseline"]["record_index"] == 1 and document["baseline"]["approval_index"] == 2
    records = [record_of(line) for line in read_lines(ledger)]
    assert [r["kind"] for r in records] == ["audit", "audit", "approval", "audit"]
    assert [r["audit"]["policy"]["verdict"] for r in records if r["kind"] == "audit"] == [
        "fail",
        "pass",
        "fail",
    ]
    # Judging existing records records a gate verdict that names the judged record's hash.
    judge: list[str | Path] = [
        "gate",
        "--policy",
        POLICIES / "four-fifths.toml",
        "--json",
        "--trusted-keys",
        trusted,
    ]
    done = run_cli(*judge, "--record", "1", env=env)
    assert done.returncode == 0, done.stderr
    assert run_cli(*judge, "--record", "0", env=env).returncode == 1
    gates = [record_of(line) for line in read_lines(ledger)[4:]]
    assert [g["kind"] for g in gates] == ["gate", "gate"]
    assert [g["gate"]["judges"]["index"] for g in gates] == [1, 0]
    assert gates[0]["gate"]["judges"]["record_hash"] == line_hash(read_lines(ledger)[1])
    assert run_cli(*judge, "--record", "2", env=env).returncode == 2  # an approval
    verified = run_cli("verify", "--trusted-key", signer.fingerprint, env=env)
    assert verified.returncode == 0, verified.stderr


def test_audit_with_a_violated_policy_exits_1(tmp_path: Path) -> None:
    signer = new_signer(tmp_path / "key")
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "l"), BIAS_LEDGER_KEY=str(signer.path))
    assert run_cli("init", env=env).returncode == 0
    policy = POLICIES / "four-fifths.toml"
    done = run_cli("audit", "--config", CONFIG, "--policy", policy, "--json", env=env)
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    assert document["policy"]["verdict"] == "fail" and document["record"]["index"] == 0


def test_gate_without_an_approval_is_a_usage_error(tmp_path: Path) -> None:
    signer = new_signer(tmp_path / "key")
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "l"), BIAS_LEDGER_KEY=str(signer.path))
    assert run_cli("init", env=env).returncode == 0
    done = run_cli(
        "gate",
        "--policy",
        POLICIES / "regression.toml",
        "--config",
        CONFIG,
        "--baseline",
        "latest-approved",
        "--approved-by",
        signer.allowed_signers(tmp_path / "allowed_signers"),
        env=env,
    )
    assert done.returncode == 2
    assert "no approval record" in done.stderr and "Traceback" not in done.stderr
    assert not any((tmp_path / "l" / name).exists() for name in ("records.log", "checkpoint"))
