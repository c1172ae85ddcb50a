"""``verify URL`` with no server listening is an input error (exit 2), named in one line."""

from __future__ import annotations

import socket
from pathlib import Path

from typer.testing import CliRunner

from bias_ledger.cli.app import app
from tests.ledger.helpers import cli_env


def test_unreachable_server_exits_2(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "ledger"))
    url = f"http://127.0.0.1:{port}/"
    result = CliRunner().invoke(app, ["verify", url], env=env)
    message = result.stderr.strip()
    assert result.exit_code == 2, message
    assert len(message.splitlines()) == 1 and f"127.0.0.1:{port}/checkpoint" in message
    assert "cannot connect" in message and "//checkpoint" not in message
