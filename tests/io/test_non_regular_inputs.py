"""Inputs that are not regular files (a FIFO, /dev/zero, a directory) are refused at once, exit 2.

Before, a FIFO as the data file made ``audit`` wait forever for a writer.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.ledger.helpers import cli_env, run_cli, write_small_csv

AUDIT = ["--label", "label", "--prediction", "pred", "--sensitive", "group", "--no-record"]


def _plant(path: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("fifo", "is a FIFO (named pipe), expected a regular file"),
        ("dev-zero", "is a character device, expected a regular file"),
        ("directory", "is a directory, expected a regular file"),
    ],
)
def test_a_data_file_that_is_not_a_regular_file(tmp_path: Path, kind: str, expected: str) -> None:
    data = tmp_path / "data.csv"
    _plant(data, kind)
    done = run_cli("audit", data, *AUDIT, env=cli_env(tmp_path), timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"{data}: {expected}" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("option", ["--policy", "--config"])
def test_a_policy_or_config_fifo(tmp_path: Path, option: str) -> None:
    data = write_small_csv(tmp_path / "data.csv")
    fifo = tmp_path / "settings.toml"
    os.mkfifo(fifo)
    done = run_cli("audit", data, *AUDIT, option, fifo, env=cli_env(tmp_path), timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"{fifo}: is a FIFO (named pipe), expected a regular file" in done.stderr


def test_a_symlink_to_a_regular_data_file_is_still_read(tmp_path: Path) -> None:
    data = write_small_csv(tmp_path / "data.csv")
    link = tmp_path / "link.csv"
    link.symlink_to(data)
    done = run_cli("audit", link, *AUDIT, "--json", env=cli_env(tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_trusted_keys_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "allowed_signers"
    os.mkfifo(fifo)
    ledger = tmp_path / "ledger"
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger))
    assert run_cli("init", env=env).returncode == 0
    done = run_cli("verify", "--trusted-keys", fifo, env=env, timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"{fifo}: is a FIFO (named pipe), expected a regular file" in done.stderr
