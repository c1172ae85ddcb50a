"""``checkpoint``, ``proof`` and ``fsck`` say "no records yet" only when it is true: a ledger
whose checkpoint file was removed or damaged while records are there fails (exit 3) with one
line naming the checkpoint file. Real ledgers of format 1 and 2 made by the CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.ledger.helpers import SAMPLE, cli_env, new_signer, run_cli

AUDIT = ("audit", "--config", SAMPLE / "bias-ledger.toml", "--prediction", "approved_v2", "-q")
COMMANDS = {
    1: [["checkpoint"], ["fsck"], ["proof", "inclusion", "0"], ["proof", "consistency", "1", "2"]],
    2: [["checkpoint"], ["fsck"], ["proof", "inclusion", "0"], ["proof", "consistency", "1", "2"]],
}


def _ledger(tmp_path: Path, version: int, audits: int) -> tuple[Path, dict[str, str]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    signer = new_signer(tmp_path / "key")
    ledger = tmp_path / "ledger"
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger), BIAS_LEDGER_KEY=str(signer.path))
    assert run_cli("init", "--format", str(version), env=env).returncode == 0
    for _ in range(audits):
        done = run_cli(*AUDIT, env=env)
        assert done.returncode == 0, done.stderr
    return ledger, env


def _one_line(done: subprocess.CompletedProcess[str], code: int) -> str:
    assert done.returncode == code, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


@pytest.mark.parametrize("version", [1, 2])
def test_removed_checkpoint_beside_records_fails_naming_it(tmp_path: Path, version: int) -> None:
    ledger, env = _ledger(tmp_path, version, 2)
    (ledger / "checkpoint").unlink()
    for args in COMMANDS[version]:
        line = _one_line(run_cli(*args, env=env), 3)
        said = "missing, but" if version == 1 else "no checkpoint, but the ledger holds committed"
        assert f"{ledger}/checkpoint: {said}" in line, (args, line)
        assert "no records" not in line, (args, line)


@pytest.mark.parametrize("version", [1, 2])
def test_damaged_checkpoint_beside_records_fails_naming_it(tmp_path: Path, version: int) -> None:
    ledger, env = _ledger(tmp_path, version, 2)
    (ledger / "checkpoint").write_text("not a checkpoint\n")
    for args in COMMANDS[version]:
        line = _one_line(run_cli(*args, env=env), 3)
        assert f"{ledger}/checkpoint" in line and "no records" not in line, (args, line)


@pytest.mark.parametrize("version", [1, 2])
def test_no_records_yet_only_when_true(tmp_path: Path, version: int) -> None:
    _, env = _ledger(tmp_path, version, 0)
    line = _one_line(run_cli("checkpoint", env=env), 2)
    assert "no records yet" in line, line
    assert run_cli("fsck", env=env).returncode == 0
    _, env2 = _ledger(tmp_path / "full", version, 2)
    done = run_cli("checkpoint", env=env2)
    assert done.returncode == 0 and "no records" not in done.stdout + done.stderr
    assert run_cli("fsck", env=env2).returncode == 0


def test_format1_single_record_without_checkpoint_is_an_interrupted_append(tmp_path: Path) -> None:
    ledger, env = _ledger(tmp_path, 1, 1)
    (ledger / "checkpoint").unlink()
    line = _one_line(run_cli("checkpoint", env=env), 2)
    assert "beside the ledger's 1 record" in line and "no records" not in line, line
