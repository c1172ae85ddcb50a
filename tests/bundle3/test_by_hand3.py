"""docs/VERIFY_BY_HAND.md section 10 works as written on a real bundle of format 3, with the
real tools (tar, b3sum, ssh-keygen, sha256sum) and the document's own script."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bundle.helpers import cli
from tests.bundle3.helpers import make_ledger, members, rewrite

DOC = Path(__file__).resolve().parents[2] / "docs" / "VERIFY_BY_HAND.md"
TOOLS = ("tar", "b3sum", "ssh-keygen", "sha256sum", "sh")

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS), reason="tools missing"),
    pytest.mark.filterwarnings("ignore:No artists with labels:UserWarning"),
]


def _blocks(kind: str) -> list[str]:
    section = DOC.read_text(encoding="utf-8").split("## 10. Bundle format 3", 1)[1]
    return re.findall(rf"```{kind}\n(.*?)```", section, re.S)


def test_format3_bundle_checks_by_hand(tmp_path: Path) -> None:
    signers = make_ledger(tmp_path / "ledger", 6)
    code, output = cli(
        "export", "--ledger", tmp_path / "ledger", "2", "3", "5", "-o", tmp_path / "audit.tar"
    )
    assert code == 0, output
    mine = tmp_path / "allowed_signers"  # the same key under the principal the doc uses
    mine.write_text("you@example.org " + signers.read_text().split(" ", 1)[1])
    script = _blocks("shell")[0].replace("~/allowed_signers", str(mine))
    done = subprocess.run(["sh", "-ec", script], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "NOT" not in done.stdout + done.stderr
    good = (done.stdout + done.stderr).count('Good "bias-ledger" signature for you@example.org')
    assert good == 3, done.stdout + done.stderr
    entry = (tmp_path / "audit" / "entries" / "3").read_bytes()
    assert done.stdout.splitlines()[-1].split()[0] == hashlib.sha256(b"\0" + entry).hexdigest()

    check = tmp_path / "check3.py"
    check.write_text(_blocks("py")[0])
    run = [sys.executable, str(check)]
    done = subprocess.run([*run, str(tmp_path / "audit.tar")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "3 entries included in the checkpoint" in done.stdout

    items = members(tmp_path / "audit.tar")
    found = dict(items)
    crossed = [(n, found["proofs/2"] if n == "proofs/3" else d) for n, d in items]
    swapped = rewrite(tmp_path / "audit.tar", crossed, "swapped.tar")
    done = subprocess.run([*run, str(swapped)], capture_output=True, text=True)
    assert done.returncode == 1 and "entry 3: NOT PROVEN" in done.stderr, done.stderr
    extra = rewrite(tmp_path / "audit.tar", [*items[:2], ("x", b"1"), *items[2:]], "extra.tar")
    done = subprocess.run([*run, str(extra)], capture_output=True, text=True)
    assert done.returncode == 1 and "not exactly those" in done.stderr, done.stderr
    junk = tmp_path / "junk.tar"
    junk.write_bytes((tmp_path / "audit.tar").read_bytes() + b"junk")
    done = subprocess.run([*run, str(junk)], capture_output=True, text=True)
    assert done.returncode == 1 and "does not end" in done.stderr, done.stderr
