"""docs/FORMAT.md's cosigned checkpoint example is what the code makes from the stated inputs."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.ledger.note import (
    COSIGNATURE_V1,
    cosign_text,
    note_verifier,
    open_note,
    parse_note,
    sign_note,
    with_signatures,
)
from bias_ledger.ledger.tlog_checkpoint import Checkpoint

FORMAT = Path(__file__).resolve().parents[2] / "docs" / "FORMAT.md"


def test_the_documented_example_is_reproduced_and_verifies() -> None:
    section = (
        FORMAT.read_text(encoding="utf-8")
        .split("### 10.11 Witness cosignatures")[1]
        .split("<!-- END witness -->")[0]
    )
    example = re.search(r"```\n(.*?)```", section, re.S)
    assert example is not None
    log = Ed25519PrivateKey.from_private_bytes(bytes(32))
    witness = Ed25519PrivateKey.from_private_bytes(bytes([1]) * 32)
    checkpoint = Checkpoint("example.org/audits/0123456789abcdef", 3, hashlib.sha256(b"x").digest())
    signed = parse_note(sign_note(checkpoint.text(), checkpoint.origin, log))
    cosignature = cosign_text(checkpoint.text(), "witness.example.org/w1", witness, 1764547200)
    made = with_signatures(signed, [cosignature]).encode()
    assert made.decode() == example.group(1)
    log_vkey = note_verifier(checkpoint.origin, log.public_key()).verifier_key()
    witness_vkey = note_verifier("witness.example.org/w1", witness.public_key(), COSIGNATURE_V1)
    assert f"Log verifier key `{log_vkey}`" in section
    assert f"witness verifier key `{witness_vkey.verifier_key()}`" in section
    assert len(open_note(made, [witness_vkey]).verified) == 1
