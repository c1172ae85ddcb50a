"""The README's set-up line and tour run as written, top to bottom, as a new user would run them:
a fresh directory holding ``sample_data/``, a fresh ``HOME``, the real ``bias-ledger`` script.

The commands are taken from README.md itself, so the test follows every edit of the text.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"


def _blocks(section: str) -> list[str]:
    """The ```sh blocks of the README section headed ``section``."""
    text = README.read_text()
    body = text.split(f"\n## {section}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", body, flags=re.S)


def setup_commands() -> str:
    """The set-up line's bias-ledger part (the venv and pip install are the CI's job)."""
    line = _blocks("Set-up")[0].strip()
    assert "pip install . && " in line, line
    return line.split("pip install . && ", 1)[1]


def tour_commands() -> str:
    return _blocks("A tour")[0]


def _environment(home: Path) -> dict[str, str]:
    keep = {"LANG", "LC_ALL", "TMPDIR", "PYTHONPATH"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    script_dir = str(Path(sys.executable).parent)
    env.update({"HOME": str(home), "PATH": f"{script_dir}:/usr/bin:/bin", "COLUMNS": "120"})
    return env


def test_the_readme_names_the_commands_it_runs() -> None:
    tour = tour_commands()
    for command in ("init", "key generate", "audit", "verify", "gate", "approve", "export"):
        assert f"bias-ledger {command}" in tour
    assert "allowed_signers" in tour.split("bias-ledger verify", 1)[0]  # made before it is used


@pytest.mark.slow
def test_setup_then_tour_run_as_written(tmp_path: Path) -> None:
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    work = tmp_path / "checkout"
    work.mkdir()
    shutil.copytree(REPO / "sample_data", work / "sample_data")
    home = tmp_path / "home"
    home.mkdir()
    script = "set -euo pipefail\n" + setup_commands() + "\n" + tour_commands()
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=work,
        env=_environment(home),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "bias-ledger: error" not in done.stderr
    # What the tour promises it made: a key, a trust file naming it, a verified bundle.
    public = (home / ".config" / "bias-ledger" / "id_ed25519.pub").read_text().strip()
    assert (work / "allowed_signers").read_text().strip() == f"alice {public}"
    assert (work / "audit-bundle.zip").is_file()
    assert "record 4: " in done.stdout  # the approval, after set-up's audit, two audits, a gate
