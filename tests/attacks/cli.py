"""The CLI as an attacker's target: ``bias-ledger ARGS`` in a fresh process (no --debug), and
the one-line refusal it must give."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.ledger import helpers

ROOT = Path(__file__).resolve().parents[2]


def attack_env(ledger: Path | None = None) -> dict[str, str]:
    """The environment of a CLI run from this checkout: no debug, wide lines, the ledger."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    env.pop("BIAS_LEDGER_DEBUG", None)
    if ledger is not None:
        env["BIAS_LEDGER_DIR"] = str(ledger)
    return env


def run_cli(*args: str | Path, ledger: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``bias-ledger ARGS``, with ``ledger`` (if given) as $BIAS_LEDGER_DIR."""
    return helpers.run_cli(*args, env=attack_env(ledger))


def refused(done: subprocess.CompletedProcess[str]) -> str:
    """The one line of a verification failure (exit 3, no traceback, no key material),
    without the ``bias-ledger: error:`` prefix."""
    assert done.returncode == 3, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "PRIVATE KEY" not in done.stderr
    return lines[0].removeprefix("bias-ledger: error: ")


def approved_audit_ledger(root: Path, format_version: int) -> tuple[Path, helpers.Signer]:
    """A real ledger of the given format made by the CLI: record 0 an audit of the sample
    data, record 1 an approval of it, signed by a new key (returned)."""
    ledger, signer = root / "ledger", helpers.new_signer(root / "key")
    on = ("--ledger", ledger)
    assert run_cli("init", "--format", str(format_version), *on).returncode == 0
    audit = ("audit", helpers.SAMPLE / "lending.csv", "--label", "repaid")
    done = run_cli(
        *audit, "--prediction", "approved_v1", "--sensitive", "sex", "--key", signer.path, *on
    )
    assert done.returncode == 0, done.stderr
    done = run_cli("approve", "0", "--note", "ok", "--key", signer.path, *on)
    assert done.returncode == 0, done.stderr
    return ledger, signer
