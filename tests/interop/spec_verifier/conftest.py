"""Real format-2 ledgers, published logs and bundles, made by the real CLI in subprocesses.

Built once per session (the CLI is slow to start); every test works on its own copy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "sample_data"


def cli_env(tmp: Path) -> dict[str, str]:
    """No CI variables, no user config, no inherited key (as tests/ledger/helpers.py's)."""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "PYTHONPATH"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update({"XDG_CONFIG_HOME": str(tmp / "config"), "COLUMNS": "200"})
    return env


def run_cli(*args: str | Path, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bias_ledger", *map(str, args)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"bias-ledger {args}: {done.stdout}{done.stderr}"
    return done.stdout


BATCH = """
import json, sys
from bias_ledger.cli.app import app
codes = []
for args in json.loads(sys.argv[1]):
    try:
        app(prog_name="bias-ledger", args=args)
    except SystemExit as exc:
        codes.append(exc.code if isinstance(exc.code, int) else 1)
    else:
        codes.append(0)
print("\\nEXIT CODES " + json.dumps(codes))
"""


def run_cli_batch(commands: list[list[str]], env: dict[str, str], cwd: Path) -> list[int]:
    """Exit codes of several CLI invocations run one after the other in one real process.

    For the many verifications of tampered copies: one interpreter start instead of one each.
    """
    done = subprocess.run(
        [sys.executable, "-c", BATCH, json.dumps(commands)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "EXIT CODES " in done.stdout, done.stderr
    codes: list[int] = json.loads(done.stdout.rsplit("EXIT CODES ", 1)[1])
    return codes


def ssh_key(path: Path) -> Path:
    """An Ed25519 key made by OpenSSH itself (the tool reads OpenSSH keys)."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "spec", "-f", str(path)], check=True
    )
    return path


def allowed_signers(path: Path, *keys: Path) -> Path:
    lines = [f"spec@example.org {k.with_suffix('.pub').read_text().strip()}\n" for k in keys]
    path.write_text("".join(lines))
    return path


@dataclass(frozen=True)
class Made:
    """What the tool wrote, a ledger: 0 audit, 1 approval (key 1), 2 rotation to key 2,
    3 and 4 approvals (key 2); its published log; two bundles."""

    root: Path
    ledger: Path
    published: Path
    bundle_early: Path  # records 0 and 1, before the rotation (checkpoint signed by key 2)
    bundle_late: Path  # records 3 and 4, signed by key 2
    key1: Path
    key2: Path
    trusted1: Path  # key 1 only: the anchor; key 2 is reached through the rotation
    trusted12: Path  # both keys
    kept: Path  # the checkpoint at size 2, kept by `bias-ledger checkpoint`
    bundle_consistent: Path  # record 4 (and rotation 2) with a consistency proof from `kept`
    tar_early: Path  # the same three selections as bundles of format 3 (10.16)
    tar_late: Path
    tar_consistent: Path


@pytest.fixture(scope="session")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    root = tmp_path_factory.mktemp("specverify")
    env = cli_env(root)
    ledger = root / "ledger"
    key1, key2 = ssh_key(root / "key1"), ssh_key(root / "key2")
    common = ("--ledger", ledger)
    run_cli("init", "--format", "2", "--name", "spec.example/audits", *common, env=env, cwd=root)
    audit = ("audit", SAMPLE / "lending.csv", "--label", "repaid", "--prediction", "approved_v1")
    run_cli(*audit, "--sensitive", "sex", "--key", key1, *common, env=env, cwd=root)
    run_cli("approve", "0", "--note", "ok", "--key", key1, *common, env=env, cwd=root)
    kept = root / "kept-2"
    kept.write_text(run_cli("checkpoint", *common, env=env, cwd=root))
    run_cli("key", "rotate", "--key", key1, "--new-key", key2, *common, env=env, cwd=root)
    run_cli("approve", "0", "--note", "again", "--key", key2, *common, env=env, cwd=root)
    run_cli("approve", "0", "--note", "third", "--key", key2, *common, env=env, cwd=root)
    published = root / "published"
    run_cli("publish", published, *common, env=env, cwd=root)
    early, late = root / "early.zip", root / "late.zip"
    run_cli("export", "-o", early, "0", "1", *common, env=env, cwd=root)
    run_cli("export", "-o", late, "3", "4", *common, env=env, cwd=root)
    consistent = root / "consistent.zip"
    with_kept = ("--consistent-with", kept)
    run_cli("export", "-o", consistent, "4", *with_kept, *common, env=env, cwd=root)
    tars = root / "early.tar", root / "late.tar", root / "consistent.tar"
    run_cli("export", "-o", tars[0], "0", "1", *common, env=env, cwd=root)
    run_cli("export", "-o", tars[1], "3", "4", *common, env=env, cwd=root)
    run_cli("export", "-o", tars[2], "4", *with_kept, *common, env=env, cwd=root)
    return Made(
        root,
        ledger,
        published,
        early,
        late,
        key1,
        key2,
        allowed_signers(root / "trusted1", key1),
        allowed_signers(root / "trusted12", key1, key2),
        kept,
        consistent,
        *tars,
    )
