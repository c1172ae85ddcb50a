"""Shared by the report tests: the workspace the fixture builds, and running the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.ledger.helpers import run_cli


@dataclass(frozen=True)
class Workspace:
    root: Path
    env: dict[str, str]
    trusted: Path
    """allowed_signers made as the README says: ``principal ssh-ed25519 AAAA...``."""
    passing: int
    """A scored audit that passes the standard policy."""
    failing: int
    """An audit (3 features, 60 intersectional groups) that fails it."""
    hostile: int
    """An audit whose group names are hostile markup and control characters."""


def cli(ws: Workspace | tuple[Path, dict[str, str]], *args: str | Path) -> str:
    root, env = (ws.root, ws.env) if isinstance(ws, Workspace) else ws
    done = run_cli(*args, env=env, cwd=root)
    assert done.returncode == 0, done.stderr
    return done.stdout
