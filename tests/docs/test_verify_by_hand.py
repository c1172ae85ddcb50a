"""docs/VERIFY_BY_HAND.md works as written: its shell blocks and scripts, run in order with real
unzip, b3sum, ssh-keygen and python3, accept the golden bundle and stop on tampered ones."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import blake3
import pytest

from bias_ledger.ledger.entry import dearmor
from bias_ledger.ledger.merkle import BLAKE3_HASHER
from tests.bundle.helpers import dump, manifest, members, write_members

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "VERIFY_BY_HAND.md"
GOLDEN = ROOT / "tests" / "fixtures" / "format1"
TOOLS = ("unzip", "b3sum", "ssh-keygen", "od", "python3", "bash")
pytestmark = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in TOOLS), reason=f"needs {', '.join(TOOLS)}"
)


def blocks(kind: str) -> list[str]:
    return re.findall(rf"^```{kind}\n(.*?)^```$", DOC.read_text(encoding="utf-8"), re.M | re.S)


def run_the_page(tmp_path: Path, bundle: Path, *, kept: Path | None = None) -> str:
    """Save the page's scripts and run its shell blocks in order, as a reader would."""
    work = tmp_path / "work"
    work.mkdir()
    for script in blocks("python"):
        name = re.search(r'^"""(\S+\.py) ', script, re.M)
        assert name, script[:80]
        (work / name.group(1)).write_text(script, encoding="utf-8")
    shell = blocks("sh")
    settings = shell[0]
    assert "BUNDLE=" in settings and "TRUSTED=" in settings and "KEPT=" in settings
    ours = (
        f"BUNDLE={bundle}\nTRUSTED={GOLDEN / 'allowed_signers'}\nKEPT={kept or ''}\n"
        f"export PATH={Path(sys.executable).parent}:$PATH\n"
    )
    done = subprocess.run(
        ["bash", "-c", "\n".join([ours, *shell[1:]])],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout + done.stderr


def test_the_golden_bundle_passes_every_documented_check(tmp_path: Path) -> None:
    output = run_the_page(tmp_path, GOLDEN / "bundle.zip", kept=GOLDEN / "kept-checkpoint-3")
    assert "STOP" not in output, output
    for n in range(7):
        assert f"ok: record {n} hashes to its listed record_hash" in output
        assert f"ok: record {n} says index {n}, origin " in output
        assert f"ok: record {n}: good signature by golden@example.com" in output
        assert f"ok: record {n} is in the checkpoint" in output
    assert "ok: record 4 rotates" in output  # records 5 and 6 are signed by the successor
    assert 'ok: checkpoint: Good "bias-ledger" signature for golden@example.com' in output
    assert "ok: the bundle's ledger extends the kept checkpoint" in output


def _tampered_record(path: Path) -> Path:
    items = members(GOLDEN / "bundle.zip")
    items["records/1.json"] = items["records/1.json"].replace(b'"sex"', b'"sax"', 1)
    return write_members(path, items)


def _resigned_by_nobody(path: Path) -> Path:
    """Record 2 replaced by the same record signed by a stranger, its hashes relisted."""
    from bias_ledger.ledger import sshsig
    from bias_ledger.ledger.keys import generate_key

    items = members(GOLDEN / "bundle.zip")
    raw = items["records/2.json"]
    armored = sshsig.sign(generate_key(), raw)
    line = raw + b"\t" + base64.b64encode(dearmor(armored, where="test"))
    value = manifest(items)
    value["records"][2]["leaf_hash"] = BLAKE3_HASHER.hash_leaf(line).hex()
    items["records/2.sig"] = armored.encode()
    items["bundle.json"] = dump(value)
    return write_members(path, items)


def _duplicate_member(path: Path) -> Path:
    items = members(GOLDEN / "bundle.zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(items):
            archive.writestr(name, items[name])
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            archive.writestr("records/1.json", b'{"forged": true}')
    path.write_bytes(buffer.getvalue())
    return path


def _junk_before(path: Path) -> Path:
    path.write_bytes(b"MZ" + (GOLDEN / "bundle.zip").read_bytes())
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_tampered_record, "STOP: record 1: b3sum differs from bundle.json's record_hash"),
        (_resigned_by_nobody, "STOP: record 2 is signed by a key you do not trust"),
        (_duplicate_member, "STOP: duplicate member names: records/1.json"),
        (_junk_before, "STOP: warning"),
    ],
    ids=["edited record", "stranger's signature", "duplicate member", "junk before"],
)
def test_a_tampered_bundle_stops(make: object, expected: str, tmp_path: Path) -> None:
    assert callable(make)
    bundle = make(tmp_path / "tampered.zip")
    output = run_the_page(tmp_path, bundle)
    assert expected in output, output


def test_the_inclusion_script_names_an_index_not_in_the_bundle(tmp_path: Path) -> None:
    script = next(b for b in blocks("python") if "check_inclusion.py" in b.split("\n")[1])
    (tmp_path / "check_inclusion.py").write_text(script, encoding="utf-8")
    folder = tmp_path / "bundle"
    with zipfile.ZipFile(GOLDEN / "bundle.zip") as archive:
        archive.extractall(folder)
    done = subprocess.run(
        [sys.executable, str(tmp_path / "check_inclusion.py"), str(folder), "99"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stdout.startswith("STOP: record 99 is not in this bundle (it holds [0, 1,")
    assert done.stderr == ""


def test_the_consistency_script_catches_a_fork(tmp_path: Path) -> None:
    script = next(b for b in blocks("python") if "check_consistency.py" in b.split("\n")[1])
    (tmp_path / "check_consistency.py").write_text(script, encoding="utf-8")
    folder = tmp_path / "bundle"
    with zipfile.ZipFile(GOLDEN / "bundle.zip") as archive:
        archive.extractall(folder)
    kept = (GOLDEN / "kept-checkpoint-3").read_bytes().split(b"\n\n")[0] + b"\n"
    lines = kept.split(b"\n")
    lines[2] = base64.b64encode(blake3.blake3(b"another history").digest())
    (tmp_path / "forked.body").write_bytes(b"\n".join(lines))
    done = subprocess.run(
        [sys.executable, str(tmp_path / "check_consistency.py"), str(folder),
         str(tmp_path / "forked.body")],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert (done.returncode, done.stdout.strip()) == (
        1,
        "STOP: fork: the kept root is not the one consistency.json proves",
    )
