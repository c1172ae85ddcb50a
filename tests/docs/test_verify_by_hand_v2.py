"""docs/VERIFY_BY_HAND.md section 9 works as written on a real format-2 bundle, with the real
tools (b3sum, ssh-keygen, sha256sum, openssl) and the document's own scripts."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bias_ledger.bundle.export import Selection
from bias_ledger.bundle.export2 import export_bundle_v2
from tests.ledger2.helpers import copied_v2

DOC = Path(__file__).resolve().parents[2] / "docs" / "VERIFY_BY_HAND.md"
TOOLS = ("b3sum", "ssh-keygen", "sha256sum", "openssl", "sh")

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS), reason="tools missing"),
]


def _section() -> str:
    return DOC.read_text(encoding="utf-8").split("## 9. Format-2 bundles", 1)[1]


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", _section(), re.S)


def test_format2_bundle_checks_by_hand(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 5)
    bundle = tmp_path / "audit.zip"
    bundle.write_bytes(export_bundle_v2(ledger, Selection(indexes=(3,))).data)
    folder = tmp_path / "audit"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(folder)
    signer.allowed_signers(tmp_path / "allowed_signers", principal="you@example.org")
    (folder / "trusted.pub").write_text(signer.public_line + "\n")
    first = _blocks("shell")[0].split("\n", 1)[1]  # without the unzip line
    script = first.replace("~/allowed_signers", str(tmp_path / "allowed_signers"))
    done = subprocess.run(["sh", "-ec", script], cwd=folder, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == lines[1]  # b3sum equals the entry's record hash
    assert 'Good "bias-ledger" signature for you@example.org' in lines[2]
    listed = json.loads((folder / "bundle.json").read_text())["records"][0]
    assert lines[3].split()[0] == listed["leaf_hash"]
    done = subprocess.run(
        ["sh", "-ec", _blocks("shell")[1]], cwd=folder, capture_output=True, text=True
    )
    assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout, done.stderr
    prove = tmp_path / "prove2.py"
    prove.write_text(_blocks("py")[0])
    done = subprocess.run([sys.executable, prove, folder, "3"], capture_output=True, text=True)
    assert done.returncode == 0 and "included in the checkpoint" in done.stdout
    entry = folder / "entries/3"
    entry.write_bytes(entry.read_bytes().replace(b'"index":3', b'"index":2'))
    done = subprocess.run([sys.executable, prove, folder, "3"], capture_output=True, text=True)
    assert done.returncode == 1 and "NOT PROVEN" in done.stdout


def test_witness_cosignatures_by_hand(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Section 9 step 6 on a checkpoint a real Ed25519 witness key cosigned (cosignature/v1)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bias_ledger.ledger.note import (
        COSIGNATURE_V1,
        cosign_text,
        note_verifier,
        parse_note,
        with_signatures,
    )

    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 5)
    folder = tmp_path / "audit"
    with zipfile.ZipFile(io.BytesIO(export_bundle_v2(ledger, Selection(indexes=(3,))).data)) as z:
        z.extractall(folder)
    witness = Ed25519PrivateKey.generate()
    name = "w1.example/witness"
    signed = parse_note((folder / "checkpoint").read_bytes())
    cosignature = cosign_text(signed.text, name, witness, 1764633600)
    (folder / "checkpoint").write_bytes(with_signatures(signed, [cosignature]).encode())
    vkey = note_verifier(name, witness.public_key(), COSIGNATURE_V1).verifier_key()
    block = _blocks("shell")[2]

    def run(key: str) -> subprocess.CompletedProcess[str]:
        script = re.sub(r'WITNESS="[^"]*"', f'WITNESS="{key}"', block, count=1)
        return subprocess.run(["sh", "-ec", script], cwd=folder, capture_output=True, text=True)

    done = run(vkey)
    assert done.returncode == 0, done.stderr
    assert f"cosignature by {name} at 1764633600" in done.stdout
    assert "Signature Verified Successfully" in done.stdout
    other = note_verifier(name, Ed25519PrivateKey.generate().public_key(), COSIGNATURE_V1)
    assert run(other.verifier_key()).returncode != 0  # another key: its ID does not match
    payload = bytearray(cosignature.signature)
    payload[3] ^= 1  # the timestamp, which the signature covers
    tampered = type(cosignature)(cosignature.name, cosignature.key_id, bytes(payload))
    (folder / "checkpoint").write_bytes(with_signatures(signed, [tampered]).encode())
    done = run(vkey)
    assert done.returncode != 0 and "Signature Verified Successfully" not in done.stdout
