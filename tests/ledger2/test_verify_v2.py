"""Format-2 verification refuses every kind of tampering with the exact reason, and trusts only
keys given from outside."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from bias_ledger.errors import VerificationError
from bias_ledger.ledger import note
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record
from bias_ledger.ledger.tlog_checkpoint import Checkpoint
from bias_ledger.ledger.tlog_entry import record_path
from bias_ledger.ledger.tlog_read import read_signed_checkpoint
from bias_ledger.ledger.tlog_source import DirectorySource
from bias_ledger.ledger.tlog_verify import UntrustedLogError, verify_log
from bias_ledger.ledger.trust import TrustedKeys, load_allowed_signers
from tests.ledger.helpers import Signer, new_signer
from tests.ledger2.helpers import copied_v2, rewrite_entry


@pytest.fixture
def built(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Signer]:
    return copied_v2(tmp_path_factory, tmp_path, 260)


@pytest.fixture
def ledger(built: tuple[Path, Signer]) -> Path:
    return built[0]


def _trusted(path: Path, signer: Signer) -> TrustedKeys:
    return load_allowed_signers(signer.allowed_signers(path.parent / "allowed_signers"))


def _verify(path: Path, **kwargs: object) -> None:
    verify_log(DirectorySource(path), trusted=None, trust_log_keys=True, **kwargs)  # type: ignore[arg-type]


def _record_file(path: Path, index: int) -> Path:
    entries = path / "tile/entries"
    for bundle in entries.rglob("*"):
        if bundle.is_file():
            for line in bundle.read_bytes().split(b'{"format_version"')[1:]:
                value = json.loads(b'{"format_version"' + line[: line.index(b"}") + 1])
                if value["index"] == index:
                    return path / record_path(value["record"])
    raise AssertionError(index)


def test_a_valid_ledger_verifies_with_its_trusted_key(built: tuple[Path, Signer]) -> None:
    ledger, signer = built
    trusted = _trusted(ledger, signer)
    result = verify_log(DirectorySource(ledger), trusted=trusted)
    assert result.size == 260
    assert result.signers[0][1] == "tester@example.org"


def test_without_a_trust_anchor_integrity_passes_and_trust_fails(ledger: Path) -> None:
    with pytest.raises(UntrustedLogError, match="no trusted key given") as caught:
        verify_log(DirectorySource(ledger), trusted=None)
    assert [step.what for step in caught.value.steps][-1] == "checkpoint"


def test_an_untrusted_signer_is_refused(ledger: Path, tmp_path: Path) -> None:
    other = new_signer(tmp_path / "other")
    trusted = load_allowed_signers(other.allowed_signers(tmp_path / "other_signers"))
    with pytest.raises(VerificationError, match="record 0: expected a signature by a key trusted"):
        verify_log(DirectorySource(ledger), trusted=trusted)


def test_an_edited_record_is_caught_by_its_content_hash(ledger: Path) -> None:
    record = _record_file(ledger, 7)
    record.write_bytes(record.read_bytes().replace(b"record 7", b"record X"))
    with pytest.raises(VerificationError, match=r"record 7: .* does not hash to .*altered"):
        _verify(ledger)


def test_a_record_removed_from_the_store_is_reported(ledger: Path) -> None:
    _record_file(ledger, 3).unlink()
    with pytest.raises(VerificationError, match=r"record 3: .*\.json is missing"):
        _verify(ledger)


def test_an_entry_pointing_to_another_record_breaks_the_chain(ledger: Path) -> None:
    rewrite_entry(ledger, 5, {"index": 4})
    with pytest.raises(VerificationError, match="expected index 5, found 4"):
        _verify(ledger)


def test_an_edited_entry_timestamp_disagrees_with_its_record(ledger: Path) -> None:
    rewrite_entry(ledger, 2, {"timestamp": "2000-01-01T00:00:00.000000Z"})
    with pytest.raises(VerificationError, match="record 2: record timestamp is"):
        _verify(ledger)


def test_a_swapped_signature_is_refused(ledger: Path) -> None:
    other = _record_file(ledger, 1)
    assert other.exists()
    rewrite_entry(ledger, 9, {"signature": "AAAA"})
    with pytest.raises(VerificationError, match="record 9: SSH signature"):
        _verify(ledger)


def test_an_altered_hash_tile_is_caught(ledger: Path) -> None:
    tile = ledger / "tile/0/000"
    data = bytearray(tile.read_bytes())
    data[100] ^= 1
    tile.write_bytes(bytes(data))
    with pytest.raises(VerificationError, match="tile/0/000: hash tile differs"):
        _verify(ledger)


def test_an_altered_checkpoint_signature_is_refused(ledger: Path) -> None:
    checkpoint = ledger / "checkpoint"
    text = checkpoint.read_text()
    signature = text.rsplit(" ", 1)[1]
    flipped = ("B" if signature[10] == "A" else "A").join([signature[:10], signature[11:]])
    checkpoint.write_text(text.replace(signature, flipped))
    with pytest.raises(VerificationError, match="invalid Ed25519 signature"):
        _verify(ledger)


def test_a_checkpoint_root_not_over_the_entries_is_refused(built: tuple[Path, Signer]) -> None:
    ledger, signer = built
    source = DirectorySource(ledger)
    _, checkpoint = read_signed_checkpoint(source)
    fake = Checkpoint(checkpoint.origin, checkpoint.size, bytes(32))
    (ledger / "checkpoint").write_bytes(note.sign_note(fake.text(), checkpoint.origin, signer.key))
    with pytest.raises(VerificationError, match="expected root hash 0000"):
        _verify(ledger)
    # Signed by a key that is not the log's, the root is not the log's claim at all.
    key = new_signer(ledger.parent / "k2").key
    (ledger / "checkpoint").write_bytes(note.sign_note(fake.text(), checkpoint.origin, key))
    with pytest.raises(VerificationError, match="checkpoint is not signed by this log's keys"):
        _verify(ledger)


def test_since_detects_rollback_and_fork(built: tuple[Path, Signer], tmp_path: Path) -> None:
    ledger, signer = built
    key = signer.key
    kept = (ledger / "checkpoint").read_bytes()
    _verify(ledger, since=(kept, "kept"))
    older = tmp_path / "older"
    shutil.copytree(ledger, older)
    append_record(ledger, RecordKind.GATE, {"note": "one more"}, key)
    newer = (ledger / "checkpoint").read_bytes()
    _verify(ledger, since=(kept, "kept"))
    with pytest.raises(VerificationError, match="rollback: the log holds 260 records, fewer"):
        _verify(older, since=(newer, "kept"))
    append_record(older, RecordKind.GATE, {"note": "a different record 260"}, key)
    with pytest.raises(VerificationError, match="fork: at size 261"):
        _verify(older, since=(newer, "kept"))


def test_a_checkpoint_with_16_post_quantum_sized_signatures_verifies(
    built: tuple[Path, Signer],
) -> None:
    # signed-note: verifiers "MUST accept at least up to 16 signatures. Remember that
    # post-quantum signatures can be up to nearly 5kB in size." 15 lines by unknown keys of an
    # ML-DSA-87 cosignature's size beside the log's own: about 93 KB, over the 64 KiB of before.
    ledger, signer = built
    payload = base64.b64encode(bytes(4 + 8 + 4627)).decode()
    lines = "".join(f"\u2014 pq{i}.example/w {payload}\n" for i in range(15)).encode()
    checkpoint = ledger / "checkpoint"
    checkpoint.write_bytes(checkpoint.read_bytes() + lines)
    assert len(checkpoint.read_bytes()) > 90_000
    assert verify_log(DirectorySource(ledger), trusted=_trusted(ledger, signer)).size == 260
