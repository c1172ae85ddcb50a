"""state.json is a cache: one that disagrees with the records (a wrong last hash, a wrong
Merkle range) is rebuilt before an append, never trusted into a broken chain or root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.verify import verify_ledger
from tests.ledger.helpers import build_ledger


@pytest.mark.parametrize("field", ["last_hash", "tree"])
def test_an_edited_state_is_rebuilt_not_trusted(tmp_path: Path, field: str) -> None:
    built = build_ledger(tmp_path / "a")
    state_path = built.path / "state.json"
    state = json.loads(state_path.read_bytes())
    if field == "last_hash":
        state["last_hash"] = "0" * 64
    else:
        state["tree"]["hashes"][0] = "1" * 64
    state_path.write_text(json.dumps(state))
    append_record(built.path, RecordKind.GATE, {"note": "after the edit"}, built.bob.key)
    report = verify_ledger(
        built.path, trusted=TrustedKeys.from_fingerprints([built.alice.fingerprint])
    )
    assert report.size == 6 and report.checkpoint is not None and report.checkpoint.size == 6
