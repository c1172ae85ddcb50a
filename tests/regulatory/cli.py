"""Run the CLI of this checkout as a real process, with a key and a ledger of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.ledger.helpers import cli_env

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Cli:
    root: Path
    env: dict[str, str]

    @classmethod
    def create(cls, root: Path) -> Cli:
        # This checkout's code, not whatever bias_ledger the interpreter would find first.
        env = cli_env(root, BIAS_LEDGER_DIR=str(root / "ledger"), PYTHONPATH=str(ROOT))
        made = cls(root, env)
        made.run("init", "--name", "regulatory-test")
        made.run("key", "generate")
        return made

    def run(
        self, *args: str | Path, code: int | tuple[int, ...] = 0
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "bias_ledger", *map(str, args)],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
        )
        codes = code if isinstance(code, tuple) else (code,)
        assert done.returncode in codes, (args, done.returncode, done.stdout, done.stderr)
        return done

    def json(self, *args: str | Path, code: int | tuple[int, ...] = 0) -> Any:
        return json.loads(self.run(*args, "--json", code=code).stdout)

    def public_key(self) -> str:
        return (self.root / "config" / "bias-ledger" / "id_ed25519.pub").read_text().strip()

    def allowed_signers(self) -> Path:
        path = self.root / "allowed_signers"
        path.write_text(f"auditor {self.public_key()}\n")
        return path
