"""The real ``ssh-keygen``, ``b3sum`` and the script in docs/VERIFY_BY_HAND.md check a bundle."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bias_ledger.ledger.keys import fingerprint, public_key_openssh

from .conftest import World

pytestmark = pytest.mark.interop
DOC = Path(__file__).resolve().parents[2] / "docs" / "VERIFY_BY_HAND.md"
needs_b3sum = pytest.mark.skipif(shutil.which("b3sum") is None, reason="b3sum is not installed")
needs_ssh_keygen = pytest.mark.skipif(
    shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed"
)


def unpack(bundle: Path, target: Path) -> Path:
    if shutil.which("unzip"):
        subprocess.run(["unzip", "-q", "-d", str(target), str(bundle)], check=True)
    else:
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(target)
    return target


def tamper(folder: Path, name: str) -> None:
    path = folder / name
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"true_positives":', b'"true_positives":1', 1))
    assert path.read_bytes() != data


def b3sum(path: Path) -> str:
    done = subprocess.run(["b3sum", str(path)], capture_output=True, text=True, check=True)
    return done.stdout.split()[0]


def ssh_verify(
    signers: Path, principal: str, signature: Path, message: Path
) -> subprocess.CompletedProcess[str]:
    command = ["ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", principal]
    command += ["-n", "bias-ledger", "-s", str(signature)]
    with message.open("rb") as stdin:
        return subprocess.run(command, stdin=stdin, capture_output=True, text=True)


def doc_script(tmp_path: Path) -> Path:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    script = next(block for block in blocks if "check_inclusion.py" in block)
    path = tmp_path / "check_inclusion.py"
    path.write_text(script, encoding="utf-8")
    return path


@needs_b3sum
def test_b3sum_accepts_and_rejects(world: World, tmp_path: Path) -> None:
    folder = unpack(world.plain_bundle, tmp_path / "b")
    listed = json.loads((folder / "bundle.json").read_text())["records"]
    for item in listed:
        assert b3sum(folder / f"records/{item['index']}.json") == item["record_hash"]
    tamper(folder, "records/0.json")
    assert b3sum(folder / "records/0.json") != listed[0]["record_hash"]


@needs_ssh_keygen
def test_ssh_keygen_accepts_and_rejects(world: World, tmp_path: Path) -> None:
    folder = unpack(world.plain_bundle, tmp_path / "b")
    mine = tmp_path / "allowed_signers"
    mine.write_text(
        "".join(
            f"officer@example.com {public_key_openssh(k.public_key())}\n"
            for k in (world.key_a, world.key_b)
        )
    )
    for index in range(5):
        done = ssh_verify(
            mine,
            "officer@example.com",
            folder / f"records/{index}.sig",
            folder / f"records/{index}.json",
        )
        assert done.returncode == 0, done.stderr
    done = ssh_verify(
        mine, "officer@example.com", folder / "checkpoint.sig", folder / "checkpoint.body"
    )
    assert done.returncode == 0, done.stderr
    # The bundle's own list works for integrity, with the fingerprint as principal.
    a = fingerprint(world.key_a.public_key())
    done = ssh_verify(
        folder / "keys/allowed_signers", a, folder / "records/0.sig", folder / "records/0.json"
    )
    assert done.returncode == 0, done.stderr
    assert f'Good "bias-ledger" signature for {a}' in done.stdout + done.stderr
    tamper(folder, "records/0.json")
    done = ssh_verify(
        mine, "officer@example.com", folder / "records/0.sig", folder / "records/0.json"
    )
    assert done.returncode != 0
    body = folder / "checkpoint.body"
    body.write_bytes(body.read_bytes().replace(b"\n5\n", b"\n4\n"))
    done = ssh_verify(mine, "officer@example.com", folder / "checkpoint.sig", body)
    assert done.returncode != 0


@needs_b3sum
def test_inclusion_script_from_the_docs(world: World, tmp_path: Path) -> None:
    script = doc_script(tmp_path)
    folder = unpack(world.plain_bundle, tmp_path / "b")
    for index in range(5):
        done = subprocess.run(
            [sys.executable, str(script), str(folder), str(index)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout == f"ok: record {index} is in the checkpoint\n"
    tamper(folder, "records/3.json")
    done = subprocess.run(
        [sys.executable, str(script), str(folder), "3"], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stdout.startswith("STOP: record 3: ")
