"""The files beside the data (a signing key, a public key, a kept checkpoint, a witness policy)
are refused at once when they are FIFOs, exit 2, for both ledger formats: none of them may make a
command wait forever for a writer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.ledger.helpers import cli_env, run_cli, write_small_csv

AUDIT = ["--label", "label", "--prediction", "pred", "--sensitive", "group"]


def _ledger_with_one_audit(tmp_path: Path, version: int) -> dict[str, str]:
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "ledger"), HOME=str(tmp_path))
    assert run_cli("init", "--format", str(version), env=env).returncode == 0
    assert run_cli("key", "generate", env=env).returncode == 0
    data = write_small_csv(tmp_path / "data.csv")
    done = run_cli("audit", data, *AUDIT, env=env)
    assert done.returncode == 0, done.stderr
    return env


def _refused(done: object, fifo: Path) -> None:
    import subprocess

    assert isinstance(done, subprocess.CompletedProcess)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"bias-ledger: error: {fifo}: is a FIFO (named pipe), expected a regular file"
    )


@pytest.mark.parametrize("version", [1, 2])
def test_fifos_beside_the_data_are_refused(tmp_path: Path, version: int) -> None:
    env = _ledger_with_one_audit(tmp_path, version)
    fifo = tmp_path / "side-file"
    os.mkfifo(fifo)
    data = tmp_path / "data.csv"
    _refused(run_cli("audit", data, *AUDIT, "--key", fifo, env=env, timeout=60), fifo)
    _refused(
        run_cli(
            "verify", "--trusted-key", "SHA256:" + "A" * 43, "--since", fifo, env=env, timeout=60
        ),
        fifo,
    )
    _refused(
        run_cli(
            "export", "-o", tmp_path / "b.zip", "0", "--consistent-with", fifo, env=env, timeout=60
        ),
        fifo,
    )
    _refused(run_cli("key", "rotate", "--new-key", fifo, env=env, timeout=60), fifo)
    if version == 2:
        done = run_cli(
            "verify",
            "--trusted-key",
            "SHA256:" + "A" * 43,
            "--witnesses",
            fifo,
            env=env,
            timeout=60,
        )
        _refused(done, fifo)
