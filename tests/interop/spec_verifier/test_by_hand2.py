"""docs/VERIFY_BY_HAND.md section 9's own code, run as printed on a real format-2 bundle:
the note-signature extraction with OpenSSL, and prove2.py for every record (and a tampered one)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO, Made

GUIDE = REPO / "docs" / "VERIFY_BY_HAND.md"


def section9() -> str:
    return GUIDE.read_text(encoding="utf-8").split("## 9. Format-2 bundles", 1)[1]


def block(text: str, fence: str, containing: str) -> str:
    for part in text.split(f"```{fence}\n")[1:]:
        code = part.split("\n```", 1)[0] + "\n"
        if containing in code:
            return code
    raise AssertionError(f"no ```{fence} block with {containing!r} in VERIFY_BY_HAND.md section 9")


@pytest.fixture
def unpacked(made: Made, tmp_path: Path) -> Path:
    folder = tmp_path / "audit"
    with zipfile.ZipFile(made.bundle_late) as archive:
        archive.extractall(folder)
    return folder


def test_the_checkpoint_signature_checks_with_openssl_as_printed(
    made: Made, unpacked: Path
) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    script = block(section9(), "shell", "checkpoint.text").split("python3 - <<'PY'\n", 1)[1]
    script, command = script.split("\nPY\n", 1)
    # The checkpoint of this bundle is signed by key 2 (after the rotation): its .pub line.
    shutil.copy(made.key2.with_suffix(".pub"), unpacked / "trusted.pub")
    subprocess.run([sys.executable, "-c", script], cwd=unpacked, check=True)
    done = subprocess.run(command, shell=True, cwd=unpacked, capture_output=True, text=True)
    assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout, done
    shutil.copy(made.key1.with_suffix(".pub"), unpacked / "trusted.pub")
    refused = subprocess.run(
        [sys.executable, "-c", script], cwd=unpacked, capture_output=True, text=True
    )
    # The rotated-out key 1 did not sign this checkpoint: no line carries its key ID.
    assert refused.returncode != 0 and "no signature line by this key" in refused.stderr


def test_prove2_proves_every_record_and_refuses_a_tampered_entry(unpacked: Path) -> None:
    prove2 = unpacked.parent / "prove2.py"
    prove2.write_text(block(section9(), "py", "def main(folder: Path, n: int)"))

    def run(n: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(prove2), str(unpacked), str(n)], capture_output=True, text=True
        )

    for n in (2, 3, 4):
        done = run(n)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "included in the checkpoint" in done.stdout
    entry = unpacked / "entries" / "3"
    entry.write_bytes(entry.read_bytes().replace(b'"index":3', b'"index":4'))
    assert run(3).returncode == 1
