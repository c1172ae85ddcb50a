"""A trusted-keys file that cannot be read: one line naming the file and why, no errno text."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bias_ledger.cli.app import app
from tests.ledger.helpers import cli_env


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: None, "no such trusted keys file"),
        (lambda p: p.mkdir(), "directory"),
        (lambda p: p.write_bytes(b"\xff\xfe bad"), "not UTF-8"),
    ],
    ids=["missing", "directory", "binary"],
)
def test_unreadable_trusted_keys(tmp_path: Path, make: object, reason: str) -> None:
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "ledger"))
    assert CliRunner().invoke(app, ["init"], env=env).exit_code == 0
    keys = tmp_path / "allowed_signers"
    make(keys)  # type: ignore[operator]
    result = CliRunner().invoke(app, ["verify", "--trusted-keys", str(keys)], env=env)
    message = result.stderr.strip()
    assert result.exit_code == 2, message
    assert len(message.splitlines()) == 1 and str(keys) in message and reason in message
    assert "Errno" not in message
