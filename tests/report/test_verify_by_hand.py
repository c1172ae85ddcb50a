"""The report's "verify by hand" lines, run as written with real ssh-keygen and b3sum against an
allowed_signers file made as the README says (``principal ssh-ed25519 AAAA...``)."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.report.helpers import Workspace, cli

pytestmark = pytest.mark.skipif(
    shutil.which("ssh-keygen") is None or shutil.which("b3sum") is None,
    reason="needs OpenSSH's ssh-keygen and b3sum",
)


def _commands(report: str) -> list[str]:
    block = report.split("```sh\n")[-1].split("```")[0]
    start = block.index("# by hand")
    return [line for line in block[start:].replace("\\\n", " ").splitlines()
            if line and not line.startswith("#")]  # fmt: skip


def _run(commands: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    script = "set -euo pipefail\n" + "\n".join(commands) + "\n"
    return subprocess.run(["bash", "-c", script], cwd=cwd, capture_output=True, text=True,
                          timeout=60)  # fmt: skip


def test_by_hand_lines_verify_with_readme_allowed_signers(
    workspace: Workspace, tmp_path: Path
) -> None:
    bundle = tmp_path / "BUNDLE.zip"
    cli(workspace, "export", "-o", bundle, "1", "2")
    shutil.copy(workspace.trusted, tmp_path / "allowed_signers")  # "alice ssh-ed25519 AAAA..."
    with zipfile.ZipFile(bundle) as archive:
        report = archive.read("report.md").decode("utf-8")
    commands = _commands(report)
    assert any("find-principals" in c for c in commands)
    done = _run(commands, tmp_path)
    assert done.returncode == 0, done.stderr
    # The record's signature, and a format-1 checkpoint's (format 2's is a note: OpenSSL).
    signed = 1 + ("checkpoint.sig" in report)
    assert done.stdout.count('Good "bias-ledger" signature for alice') == signed
    # The b3sum line's expected hash is the record's.
    line = next(c for c in commands if c.startswith("b3sum"))
    expected = line.split("# expect ")[1]
    assert expected in done.stdout


def test_by_hand_lines_fail_on_a_stranger_or_a_changed_record(
    workspace: Workspace, tmp_path: Path
) -> None:
    bundle = tmp_path / "BUNDLE.zip"
    cli(workspace, "export", "-o", bundle, "1")
    with zipfile.ZipFile(bundle) as archive:
        commands = _commands(archive.read("report.md").decode("utf-8"))
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")],
                   capture_output=True, check=True)  # fmt: skip
    (tmp_path / "allowed_signers").write_text(
        "mallory " + (tmp_path / "k.pub").read_text(), encoding="utf-8"
    )
    refused = _run(commands, tmp_path)
    assert refused.returncode != 0 and "Good" not in refused.stdout
    shutil.rmtree(tmp_path / "bundle")
    shutil.copy(workspace.trusted, tmp_path / "allowed_signers")
    assert _run(commands, tmp_path).returncode == 0
    record = tmp_path / "bundle" / "records" / "1.json"
    record.write_bytes(record.read_bytes().replace(b"credit-model", b"credit-modem", 1))
    verify = [c for c in commands if not c.startswith(("unzip", "b3sum"))]
    assert _run(verify, tmp_path).returncode != 0
