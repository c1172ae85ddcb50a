"""Hostile inputs, second round: files and options that raised internal errors (or crashed the
process) instead of the contract's one line naming the file, record or option, exit 2 (usage or
input error) or 3 (a verification that fails), and no traceback without --debug.

Each case runs the real CLI in a fresh process on real files, as a user or CI job would.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.ledger.keys import write_private_key_file
from tests.attacks.cli import run_cli
from tests.ledger.helpers import SAMPLE

LENDING = ("--label", "repaid", "--prediction", "approved_v1", "--sensitive", "sex")
"""The columns of an audit of the sample lending data."""


def one_line(done: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """The single error line of a refused run (exit ``code``, no traceback), without the
    ``bias-ledger: error:`` prefix."""
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr[-2000:])
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-2000:]
    assert "internal error" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    assert lines[0].startswith("bias-ledger: error: "), lines[0]
    return lines[0].removeprefix("bias-ledger: error: ")


# a. TOML nested deeper than tomllib's recursion reaches: the policy, the audit config, the
# witness's logs file all go through one reader (bias_ledger/toml_text.py).

DEEP_TOML = {
    "arrays": "a = " + "[" * 100_000 + "\n",
    "inline-tables": "a = " + "{ b = " * 5_000 + "1" + " }" * 5_000 + "\n",
}
TOO_DEEP_TOML = (
    "not valid TOML: arrays or inline tables nested too deeply to be TOML this tool reads "
    "(expected a few levels of nesting)"
)


@pytest.mark.parametrize("shape", sorted(DEEP_TOML))
def test_gate_policy_nested_too_deeply(tmp_path: Path, shape: str) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(DEEP_TOML[shape])
    done = run_cli(
        "gate", SAMPLE / "lending.csv", *LENDING, "--policy", policy, "--no-record",
        ledger=tmp_path / "ledger",
    )  # fmt: skip
    assert one_line(done) == f"{policy}: {TOO_DEEP_TOML}"


@pytest.mark.parametrize("shape", sorted(DEEP_TOML))
def test_audit_config_nested_too_deeply(tmp_path: Path, shape: str) -> None:
    config = tmp_path / "bias-ledger.toml"
    config.write_text(DEEP_TOML[shape])
    done = run_cli("audit", "--config", config, "--no-record", ledger=tmp_path / "ledger")
    assert one_line(done) == f"{config}: {TOO_DEEP_TOML}"


@pytest.mark.parametrize("shape", sorted(DEEP_TOML))
def test_witness_logs_file_nested_too_deeply(tmp_path: Path, shape: str) -> None:
    key = tmp_path / "witness_key"
    write_private_key_file(key, Ed25519PrivateKey.generate(), None)
    logs = tmp_path / "logs.toml"
    logs.write_text(DEEP_TOML[shape])
    done = run_cli("witness", "serve", "--key", key, "--logs", logs)
    assert one_line(done) == f"{logs}: {TOO_DEEP_TOML}"
