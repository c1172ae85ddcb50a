"""docs/VERIFY_BY_HAND.md section 10's own code, run as printed on the tool's format-3 bundles:
the tar/b3sum/ssh-keygen loop, and check3.py (layout and every inclusion proof), each also on
tampered copies."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .bundle3 import read_members
from .conftest import REPO, Made
from .test_bundle3 import TAMPER, retar

GUIDE = REPO / "docs" / "VERIFY_BY_HAND.md"


def section10() -> str:
    return GUIDE.read_text(encoding="utf-8").split("## 10. Bundle format 3", 1)[1]


def block(fence: str, containing: str) -> str:
    for part in section10().split(f"```{fence}\n")[1:]:
        code = part.split("\n```", 1)[0] + "\n"
        if containing in code:
            return code
    raise AssertionError(f"no ```{fence} block with {containing!r} in VERIFY_BY_HAND.md 10")


def check3(tmp_path: Path, bundle: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "check3.py"
    script.write_text(block("py", "def main(path: Path)"))
    return subprocess.run(
        [sys.executable, str(script), str(bundle)], capture_output=True, text=True, timeout=60
    )


def test_check3_accepts_the_tools_bundles(made: Made, tmp_path: Path) -> None:
    for bundle, count in ((made.tar_early, 3), (made.tar_late, 3), (made.tar_consistent, None)):
        done = check3(tmp_path, bundle)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "layout as FORMAT.md 10.16" in done.stdout
        if count is not None:
            assert f"{count} entries included in the checkpoint" in done.stdout


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("proof byte", "entry 3: NOT PROVEN"),
        ("swapped proofs", "NOT PROVEN"),
        ("entry byte", "entry 3: NOT PROVEN"),
        ("reordered", "not exactly those"),
        ("missing member", "not exactly those"),
        ("extra member", "not exactly those"),
    ],
)
def test_check3_refuses_tampered_bundles(
    made: Made, tmp_path: Path, case: str, message: str
) -> None:
    edited = tmp_path / "edited.tar"
    edited.write_bytes(retar(TAMPER[case][0](read_members(made.tar_late.read_bytes()))))
    done = check3(tmp_path, edited)
    assert done.returncode == 1 and message in done.stderr, done.stdout + done.stderr


def test_check3_refuses_bytes_outside_the_members(made: Made, tmp_path: Path) -> None:
    data = made.tar_late.read_bytes()
    edited = tmp_path / "edited.tar"
    for bad, message in (
        (data[:136] + b"00000000001\0" + data[148:], "not the fixed one"),  # mtime 1
        (data + bytes(512), "does not end"),
        (data[:1000] + b"x" + data[1001:], "not the fixed one"),  # bundle.json's padding
    ):
        edited.write_bytes(bad)
        done = check3(tmp_path, edited)
        assert done.returncode == 1 and message in done.stderr, (message, done.stderr)


def _shell(made: Made, tmp_path: Path, bundle: bytes) -> subprocess.CompletedProcess[str]:
    for tool in ("tar", "b3sum", "ssh-keygen", "sha256sum"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(made.trusted12, home / "allowed_signers")
    work = tmp_path / "work"
    work.mkdir()
    (work / "audit.tar").write_bytes(bundle)
    script = block("shell", "tar -xf audit.tar").replace("you@example.org", "spec@example.org")
    return subprocess.run(
        ["bash", "-c", script],
        cwd=work,
        env={**os.environ, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_shell_route_checks_every_record_as_printed(made: Made, tmp_path: Path) -> None:
    done = _shell(made, tmp_path, made.tar_late.read_bytes())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "NOT the record" not in done.stdout, done.stdout
    assert done.stdout.count('Good "bias-ledger" signature for spec@example.org') == 3, done
    assert "0/0" in done.stdout and "proofs/2\n" in done.stdout  # the tar -tvf listing
    entry = (tmp_path / "work" / "audit" / "entries" / "3").read_bytes()
    assert hashlib.sha256(b"\0" + entry).hexdigest() in done.stdout


def test_the_shell_route_refuses_an_altered_record(made: Made, tmp_path: Path) -> None:
    edited = retar(TAMPER["record byte"][0](read_members(made.tar_late.read_bytes())))
    done = _shell(made, tmp_path, edited)
    assert "record 3: NOT the record its entry commits to" in done.stdout, done.stdout
    assert done.stdout.count('Good "bias-ledger" signature') == 2, done.stdout + done.stderr
