"""Generator of the worked example in docs/FORMAT.md: a two-record ledger from a fixed key.

Run ``python -m tests.docs.format_example`` to print the values the document quotes.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.ledger.keys import fingerprint, public_key_openssh
from bias_ledger.ledger.merkle import BLAKE3_HASHER
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record, init_ledger

SEED = bytes(range(32))
"""The example signing key's Ed25519 seed: bytes 0x00..0x1f (never use it for real)."""
MOMENTS = (
    datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 6, 0, tzinfo=UTC),
)
PAYLOADS = (
    {"note": "first example record"},
    {"note": "second example record"},
)


def build(directory: Path) -> dict[str, str]:
    """Create the example ledger in ``directory`` and return every value FORMAT.md quotes."""
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    clock = iter(MOMENTS)
    init_ledger(
        directory,
        name="example.org/credit-audits",
        clock=lambda: MOMENTS[0],
        random_id="0123456789abcdef",
        format_version=1,  # FORMAT.md's worked example of format 1
    )
    values: dict[str, str] = {
        "public_key": public_key_openssh(key.public_key()),
        "fingerprint": fingerprint(key.public_key()),
    }
    for number, payload in enumerate(PAYLOADS):
        # A minimal payload keeps the example readable; the header is what the example shows.
        appended = append_record(
            directory,
            RecordKind.GATE,
            payload,
            key,
            clock=lambda: next(clock),
        )
        values[f"record_{number}_hash"] = appended.record_hash
    lines = (directory / "records.log").read_bytes().split(b"\n")[:-1]
    for number, line in enumerate(lines):
        record_bytes, _, signature = line.partition(b"\t")
        values[f"record_{number}_bytes"] = record_bytes.decode()
        values[f"record_{number}_signature_base64"] = signature.decode()
        values[f"leaf_{number}_hash"] = BLAKE3_HASHER.hash_leaf(line).hex()
    left, right = (BLAKE3_HASHER.hash_leaf(line) for line in lines)
    values["root_hash"] = BLAKE3_HASHER.hash_children(left, right).hex()
    values["root_hash_base64"] = base64.b64encode(bytes.fromhex(values["root_hash"])).decode()
    values["checkpoint"] = (directory / "checkpoint").read_text()
    return values


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        for name, value in build(Path(scratch) / "ledger").items():
            print(f"{name}: {value}")
