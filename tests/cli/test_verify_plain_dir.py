"""``verify DIR`` on a directory that is no published log says what it is not."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bias_ledger.cli.app import app
from tests.ledger.helpers import cli_env


def test_plain_directory(tmp_path: Path) -> None:
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "ledger"))
    plain = tmp_path / "plain"
    plain.mkdir()
    result = CliRunner().invoke(app, ["verify", str(plain)], env=env)
    message = result.stderr.strip()
    assert result.exit_code == 2 and len(message.splitlines()) == 1
    assert str(plain) in message and "neither a ledger" in message
    assert "checkpoint" in message and "tile/" in message


def test_ledger_directory_points_to_ledger_option(tmp_path: Path) -> None:
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "ledger"))
    assert CliRunner().invoke(app, ["init"], env=env).exit_code == 0
    result = CliRunner().invoke(app, ["verify", str(tmp_path / "ledger")], env=env)
    assert result.exit_code == 2 and "--ledger DIR" in result.stderr
