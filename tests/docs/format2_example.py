"""Generator of the format-2 worked example in docs/FORMAT.md: a two-record ledger, fixed key.

Run ``python -m tests.docs.format2_example`` to print the values the document quotes.
"""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.ledger import note
from bias_ledger.ledger.keys import fingerprint, public_key_openssh
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record, init_ledger
from bias_ledger.ledger.tlog_tiles import leaf_hash
from tests.docs.format_example import MOMENTS, PAYLOADS, SEED


def build(directory: Path) -> dict[str, str]:
    """Create the example ledger in ``directory`` and return every value FORMAT.md quotes."""
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    clock = iter(MOMENTS)
    meta = init_ledger(
        directory,
        name="example.org/credit-audits",
        clock=lambda: MOMENTS[0],
        random_id="0123456789abcdef",
        format_version=2,
    )
    values: dict[str, str] = {
        "public_key": public_key_openssh(key.public_key()),
        "fingerprint": fingerprint(key.public_key()),
        "note_key": note.note_verifier(meta.origin, key.public_key()).verifier_key(),
        "ledger_json": (directory / "ledger.json").read_text().rstrip("\n"),
    }
    for number, payload in enumerate(PAYLOADS):
        appended = append_record(
            directory, RecordKind.GATE, payload, key, clock=lambda: next(clock)
        )
        record = directory / "records" / f"{appended.record_hash}.json"
        values[f"record_{number}_path"] = f"records/{appended.record_hash}.json"
        values[f"record_{number}_bytes"] = record.read_text()
    bundle = (directory / "tile/entries/000.p/2").read_bytes()
    values["entry_bundle_path"] = "tile/entries/000.p/2"
    offset = 0
    for number in (0, 1):
        length = int.from_bytes(bundle[offset : offset + 2], "big")
        entry = bundle[offset + 2 : offset + 2 + length]
        offset += 2 + length
        values[f"entry_{number}_length"] = str(length)
        values[f"entry_{number}"] = entry.decode()
        values[f"leaf_{number}_hash_base64"] = base64.b64encode(leaf_hash(entry)).decode()
    values["hash_tile_path"] = "tile/0/000.p/2"
    values["hash_tile_base64"] = base64.b64encode(
        (directory / "tile/0/000.p/2").read_bytes()
    ).decode()
    values["checkpoint"] = (directory / "checkpoint").read_text()
    return values


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as temporary:
        for name, value in build(Path(temporary) / "ledger").items():
            print(f"{name}: {value}")
