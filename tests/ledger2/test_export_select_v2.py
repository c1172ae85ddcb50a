"""Which records a format-2 export selects, in one pass over the entries: a model's audits,
their approvals and the key rotations before them; a selection too large for a bundle is
refused before anything is written."""

from __future__ import annotations

from pathlib import Path

import blake3
import pytest

from bias_ledger.bundle import export2
from bias_ledger.bundle.export import Selection
from bias_ledger.bundle.export2 import export_bundle_v2
from bias_ledger.errors import InputError
from bias_ledger.ledger import canonical
from bias_ledger.ledger.keys import fingerprint, generate_key, public_key_openssh
from bias_ledger.ledger.record import RecordHeader, RecordKind, build_record
from tests.ledger2.bulk import write_ledger

_SUCCESSOR = generate_key().public_key()
_KINDS = {3: RecordKind.KEY_ROTATION, 5: RecordKind.APPROVAL, 6: RecordKind.APPROVAL}


def _payload(header: RecordHeader, hashes: dict[int, str]) -> dict[str, object]:
    if header.kind is RecordKind.KEY_ROTATION:
        line = public_key_openssh(_SUCCESSOR)
        return {"new_public_key": line, "new_fingerprint": fingerprint(_SUCCESSOR)}
    if header.kind is RecordKind.APPROVAL:  # 5 approves 4 (model A), 6 approves 1 (model B)
        target = 4 if header.index == 5 else 1
        return {"approves": {"index": target, "record_hash": hashes[target]}, "note": "ok"}
    model = "A" if header.index in (0, 4, 7) else "B"
    return {"subject": {"model_name": model, "model_version": "1"}}


def _ledger(path: Path) -> Path:
    hashes: dict[int, str] = {}

    def record(header: RecordHeader) -> bytes:
        data = canonical.encode(build_record(header, _payload(header, hashes)))
        hashes[header.index] = blake3.blake3(data).hexdigest()
        return data

    def kind(index: int) -> RecordKind:
        return _KINDS.get(index, RecordKind.AUDIT)

    write_ledger(path, 9, generate_key(), record, kinds=kind)
    return path


def test_a_model_selects_its_audits_their_approvals_and_earlier_rotations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = _ledger(tmp_path / "l")
    chosen = export_bundle_v2(ledger, Selection(model="A")).manifest.records
    assert [item.index for item in chosen] == [0, 3, 4, 5, 7]
    everything = export_bundle_v2(ledger, Selection(everything=True)).manifest.records
    assert [item.index for item in everything] == list(range(9))
    monkeypatch.setattr(export2, "_BUNDLE_MEMBERS", 3 * 8 + 6)
    with pytest.raises(InputError, match="9 records make a bundle of 33 members, more than the 30"):
        export_bundle_v2(ledger, Selection(everything=True))
