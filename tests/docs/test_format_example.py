"""docs/FORMAT.md's worked example is what the code produces, and an independent check of it."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import blake3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.docs.format_example import build

FORMAT = Path(__file__).resolve().parents[2] / "docs" / "FORMAT.md"


def _documented_block() -> str:
    text = FORMAT.read_text(encoding="utf-8")
    section = text.split("## 9. Worked example", 1)[1]
    match = re.search(r"```text\n(.*?)```", section, re.S)
    assert match, "FORMAT.md section 9 has no ```text block"
    return match.group(1)


def _render(values: dict[str, str]) -> str:
    return "".join(f"{name}: {value}\n" for name, value in values.items())


def test_worked_example_matches_the_code(tmp_path: Path) -> None:
    assert _documented_block() == _render(build(tmp_path / "ledger"))


def test_worked_example_checks_out_from_the_spec_alone(tmp_path: Path) -> None:
    """Re-derive the example's hashes and signature from FORMAT.md's rules, not our modules."""
    values = build(tmp_path / "ledger")
    leaves = []
    for number in (0, 1):
        record = values[f"record_{number}_bytes"].encode()
        assert blake3.blake3(record).hexdigest() == values[f"record_{number}_hash"]
        line = record + b"\t" + values[f"record_{number}_signature_base64"].encode()
        leaf = blake3.blake3(b"\x00" + line).digest()
        assert leaf.hex() == values[f"leaf_{number}_hash"]
        leaves.append(leaf)
        # SSHSIG: the Ed25519 signature covers MAGIC || ns || reserved || hash alg || H(msg).
        blob = base64.b64decode(values[f"record_{number}_signature_base64"])
        raw_signature = blob[-64:]
        key_bytes = base64.b64decode(values["public_key"].split()[1])[-32:]

        def string(data: bytes) -> bytes:
            return len(data).to_bytes(4, "big") + data

        signed = (
            b"SSHSIG"
            + string(b"bias-ledger")
            + string(b"")
            + string(b"sha512")
            + string(hashlib.sha512(record).digest())
        )
        Ed25519PublicKey.from_public_bytes(key_bytes).verify(raw_signature, signed)
    root = blake3.blake3(b"\x01" + leaves[0] + leaves[1]).digest()
    assert root.hex() == values["root_hash"]
    body = values["checkpoint"].split("\n\n", 1)[0] + "\n"
    origin = "example.org/credit-audits/0123456789abcdef"
    assert body == f"{origin}\n2\n{base64.b64encode(root).decode()}\n"
