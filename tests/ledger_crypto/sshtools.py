"""Run the real ssh-keygen for interoperability tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SSH_KEYGEN = shutil.which("ssh-keygen")

needs_ssh_keygen = pytest.mark.skipif(SSH_KEYGEN is None, reason="ssh-keygen is not installed")


def ssh_keygen(
    *args: str | Path, stdin: bytes = b"", cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    assert SSH_KEYGEN is not None
    return subprocess.run(
        [SSH_KEYGEN, *map(str, args)], input=stdin, capture_output=True, cwd=cwd, timeout=60
    )


def new_key(path: Path, *, passphrase: str = "", key_type: str = "ed25519") -> Path:
    done = ssh_keygen(
        "-q", "-t", key_type, "-N", passphrase, "-C", "tester@example.org", "-f", path
    )
    assert done.returncode == 0, done.stderr
    return path


def keygen_fingerprint(path: Path) -> str:
    done = ssh_keygen("-l", "-E", "sha256", "-f", path)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode().split()[1]
