"""docs/CI.md's workflow for a ledger committed to git, run with real git: pull requests gate
with ``--no-record`` against the approved baseline and merge cleanly; only main records. Two
branches that both record conflict, as the document says."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bias_ledger.cli.app import app
from tests.ledger.helpers import SAMPLE, Signer, new_signer

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

POLICY = SAMPLE / "policies" / "regression.toml"
LEDGER_GITIGNORE = "state.json\nlock\n"
"""What docs/CI.md says to keep out of git: the append cache and the lock file."""


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.org", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=check,
        timeout=60,
    )


def bias_ledger(repo: Path, key: Signer, *args: str | Path) -> Result:
    env = {
        "HOME": str(repo.parent / "home"),
        "XDG_CONFIG_HOME": str(repo.parent / "config"),
        "BIAS_LEDGER_DIR": str(repo / ".bias-ledger"),
        "BIAS_LEDGER_KEY": str(key.path),
        "BIAS_LEDGER_KEY_DATA": None,
        "GITHUB_ACTIONS": None,
    }
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def gate(repo: Path, key: Signer, officers: Path, *extra: str) -> Result:
    return bias_ledger(
        repo,
        key,
        "gate",
        "--policy",
        POLICY,
        "--config",
        repo / "bias-ledger.toml",
        "--baseline",
        "latest-approved",
        "--approved-by",
        officers,
        *extra,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for name in ("bias-ledger.toml", "lending.csv"):
        shutil.copy(SAMPLE / name, repo / name)
    return repo


def test_pull_requests_gate_without_recording_and_merge_cleanly(repo: Path) -> None:
    ci, officer = new_signer(repo.parent / "ci"), new_signer(repo.parent / "officer")
    officers = officer.allowed_signers(repo.parent / "officers", "officer")
    assert bias_ledger(repo, ci, "init", "--format", "1").exit_code == 0
    (repo / ".bias-ledger" / ".gitignore").write_text(LEDGER_GITIGNORE)
    done = bias_ledger(repo, ci, "audit", "--config", repo / "bias-ledger.toml", "-q")
    assert done.exit_code == 0, done.stderr
    assert bias_ledger(repo, officer, "approve", "0").exit_code == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "ledger with an approved baseline")

    # Two pull requests, each gated against the approved baseline, neither recording.
    for branch in ("pr-1", "pr-2"):
        git(repo, "switch", "-q", "-c", branch, "main")
        (repo / f"{branch}.txt").write_text(branch)
        done = gate(repo, ci, officers, "--no-record", "--json")
        assert done.exit_code == 0, done.stderr
        assert json.loads(done.stdout)["record"] is None
        assert git(repo, "status", "--porcelain").stdout.strip() == f"?? {branch}.txt"
        git(repo, "add", f"{branch}.txt")
        git(repo, "commit", "-q", "-m", branch)
    git(repo, "switch", "-q", "main")
    for branch in ("pr-1", "pr-2"):
        merged = git(repo, "merge", "-q", "--no-edit", branch, check=False)
        assert merged.returncode == 0, merged.stdout + merged.stderr

    # Only main records the verdict, after the merge; the ledger verifies.
    done = gate(repo, ci, officers, "--json")
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["record"]["index"] == 2
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "record the gate verdict on main")
    trusted = repo.parent / "trusted"
    trusted.write_text(f"ci {ci.public_line}\nofficer {officer.public_line}\n")
    done = bias_ledger(repo, ci, "verify", "--trusted-keys", trusted)
    assert done.exit_code == 0, done.stdout + done.stderr


def test_two_branches_that_both_record_conflict(repo: Path) -> None:
    ci = new_signer(repo.parent / "ci")
    assert bias_ledger(repo, ci, "init", "--format", "1").exit_code == 0
    (repo / ".bias-ledger" / ".gitignore").write_text(LEDGER_GITIGNORE)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "empty ledger")
    for branch in ("a", "b"):
        git(repo, "switch", "-q", "-c", branch, "main")
        done = bias_ledger(repo, ci, "audit", "--config", repo / "bias-ledger.toml", "-q")
        assert done.exit_code == 0, done.stderr
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"record on {branch}")
    git(repo, "switch", "-q", "main")
    assert git(repo, "merge", "-q", "--no-edit", "a", check=False).returncode == 0
    conflicted = git(repo, "merge", "-q", "--no-edit", "b", check=False)
    assert conflicted.returncode != 0
    assert "records.log" in conflicted.stdout + conflicted.stderr
