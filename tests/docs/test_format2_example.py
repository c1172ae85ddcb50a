"""docs/FORMAT.md's format-2 worked example is what the code writes, and checks out with only
hashlib, base64 and an Ed25519 implementation, following the document's rules."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import blake3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.docs.format2_example import build

FORMAT = Path(__file__).resolve().parents[2] / "docs" / "FORMAT.md"


def _documented_block() -> str:
    text = FORMAT.read_text(encoding="utf-8")
    section = text.split("### 10.9 Worked example", 1)[1]
    match = re.search(r"```text\n(.*?)```", section, re.S)
    assert match, "FORMAT.md section 10.9 has no ```text block"
    return match.group(1)


def test_format2_worked_example_matches_the_code(tmp_path: Path) -> None:
    values = build(tmp_path / "ledger")
    assert _documented_block() == "".join(f"{k}: {v}\n" for k, v in values.items())


def test_format2_worked_example_checks_out_from_the_spec_alone(tmp_path: Path) -> None:
    values = build(tmp_path / "ledger")
    leaves = []
    for number in (0, 1):
        record = values[f"record_{number}_bytes"].encode()
        digest = blake3.blake3(record).hexdigest()
        assert values[f"record_{number}_path"] == f"records/{digest}.json"
        entry = values[f"entry_{number}"].encode()
        assert json.loads(entry)["record"] == digest
        assert int(values[f"entry_{number}_length"]) == len(entry)
        leaf = hashlib.sha256(b"\x00" + entry).digest()
        assert base64.b64encode(leaf).decode() == values[f"leaf_{number}_hash_base64"]
        leaves.append(leaf)
    assert base64.b64decode(values["hash_tile_base64"]) == leaves[0] + leaves[1]
    root = hashlib.sha256(b"\x01" + leaves[0] + leaves[1]).digest()
    text, _, signature_line = values["checkpoint"].rpartition("\n\n")
    origin = json.loads(values["ledger_json"])["origin"]
    assert text + "\n" == f"{origin}\n2\n{base64.b64encode(root).decode()}\n"
    name, _, material = values["note_key"].partition("+")
    key_id, _, typed_key = material.partition("+")
    raw_key = base64.b64decode(typed_key)
    assert raw_key[0] == 1 and name == origin
    assert hashlib.sha256(name.encode() + b"\n" + raw_key).digest()[:4].hex() == key_id
    prefix = f"\u2014 {origin} "
    assert signature_line.startswith(prefix)
    blob = base64.b64decode(signature_line[len(prefix) :].strip())
    assert blob[:4].hex() == key_id
    Ed25519PublicKey.from_public_bytes(raw_key[1:]).verify(blob[4:], (text + "\n").encode())
