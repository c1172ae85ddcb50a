"""Fixtures of the witness tests: Go's reference note tool, built once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

GO_SOURCE = Path(__file__).parent / "go" / "notetool"


@pytest.fixture(scope="session")
def notetool(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The path of ``notetool``, built offline from Debian's golang.org/x/mod sources."""
    go = shutil.which("go")
    assert go is not None, "the Go interop tests need golang-go and golang-golang-x-mod-dev"
    out = tmp_path_factory.mktemp("go") / "notetool"
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": "/usr/share/gocode",
        "GOCACHE": str(out.parent / "cache"),
        "GOFLAGS": "",
    }
    subprocess.run([go, "build", "-o", str(out), "."], cwd=GO_SOURCE, env=env, check=True)
    return out
