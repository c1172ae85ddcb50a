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
