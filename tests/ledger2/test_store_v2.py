"""Format-2 appends: the tiles hold exactly the RFC 6962 tree of the entries, and a crash at any
point of an append leaves a verifiable ledger that the next append continues without repair."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bias_ledger.ledger import files, note
from bias_ledger.ledger.merkle import SHA256_HASHER
from bias_ledger.ledger.reader import read_ledger, read_meta
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record, init_ledger
from bias_ledger.ledger.tlog_read import read_signed_checkpoint
from bias_ledger.ledger.tlog_source import DirectorySource
from bias_ledger.ledger.tlog_tree import TileTree, consistency_hashes
from bias_ledger.ledger.tlog_verify import verify_log
from tests.ledger.helpers import new_signer
from tests.ledger2.helpers import build_v2, copied_v2, reference_tree


def test_init_writes_format_2_metadata(tmp_path: Path) -> None:
    meta = init_ledger(tmp_path / "l", name="example.org/x", format_version=2)
    raw = json.loads((tmp_path / "l" / "ledger.json").read_bytes())
    assert raw["format_version"] == 2 and raw["hash"] == "sha256"
    assert read_meta(tmp_path / "l") == meta
    assert not (tmp_path / "l" / "records.log").exists()


def test_tiles_match_the_reference_tree_across_tile_boundaries(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path, signer = copied_v2(tmp_path_factory, tmp_path, 300)
    reference = reference_tree(path)
    source = DirectorySource(path)
    signed, checkpoint = read_signed_checkpoint(source)
    assert checkpoint.size == 300 and checkpoint.root_hash == reference.root()
    tree = TileTree(source, 300)
    for size in (1, 2, 255, 256, 257, 299, 300):
        assert tree.root(size) == reference.root(size)
        assert tree.inclusion_proof(size - 1, size) == reference.inclusion_proof(size - 1, size)
        assert tree.consistency_proof(size, 300) == reference.consistency_proof(size, 300)
    assert consistency_hashes(path, 100, 300) == reference.consistency_proof(100, 300)
    assert (path / "tile/0/000").stat().st_size == 256 * 32
    assert (path / "tile/0/001.p/44").stat().st_size == 44 * 32
    assert (path / "tile/1/000.p/1").read_bytes() == reference.subtree_hash(0, 256)
    # superseded partial tiles are pruned; a full tile leaves no partial versions behind
    assert sorted(p.name for p in (path / "tile/0/001.p").iterdir()) == ["44"]
    assert not (path / "tile/0/000.p").exists()
    verifier = note.note_verifier(checkpoint.origin, signer.key.public_key())
    assert note.open_note(signed, [verifier]).text == checkpoint.text()


def test_readers_of_format_1_lines_see_format_2_records(tmp_path: Path) -> None:
    path, _ = build_v2(tmp_path, 3)
    stored = read_ledger(path)
    records = [json.loads(line.split(b"\t")[0]) for line in stored.lines]
    assert [r["index"] for r in records] == [0, 1, 2]
    assert all(r["format_version"] == 2 for r in records)
    assert records[1]["previous_hash"] is not None


@pytest.mark.parametrize("crash_at", range(1, 6))
def test_a_crash_at_any_write_leaves_a_verifiable_ledger(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    crash_at: int,
) -> None:
    """Kill the append at its n-th atomic write (record, bundle, tiles, checkpoint)."""
    path, signer = copied_v2(tmp_path_factory, tmp_path, 255)  # the next append fills tile 0
    before = (path / "checkpoint").read_bytes()
    real = files.write_atomically
    calls = {"n": 0}

    def crashing(target: Path, data: bytes, *, mode: int = 0o644) -> None:
        calls["n"] += 1
        if calls["n"] == crash_at:
            raise KeyboardInterrupt("power cut")
        real(target, data, mode=mode)

    monkeypatch.setattr("bias_ledger.ledger.tlog_store.write_atomically", crashing)
    with pytest.raises(KeyboardInterrupt):
        append_record(path, RecordKind.GATE, {"note": "crashed"}, signer.key)
    monkeypatch.setattr("bias_ledger.ledger.tlog_store.write_atomically", real)
    result = verify_log(DirectorySource(path), trusted=None, trust_log_keys=True)
    assert result.size in (255, 256)
    if result.size == 255:
        assert (path / "checkpoint").read_bytes() == before
    append_record(path, RecordKind.GATE, {"note": "after the crash"}, signer.key)
    result = verify_log(DirectorySource(path), trusted=None, trust_log_keys=True)
    assert result.size == 256 or (result.size == 257 and crash_at == 5)
    reference = reference_tree(path)
    assert TileTree(DirectorySource(path), result.size).root() == reference.root()


def test_append_refuses_tiles_that_disagree_with_the_checkpoint(tmp_path: Path) -> None:
    path, signer = build_v2(tmp_path, 3)
    tile = path / "tile/0/000.p/3"
    tile.write_bytes(bytes(32) + tile.read_bytes()[32:])
    with pytest.raises(Exception, match="differs from the checkpoint"):
        append_record(path, RecordKind.GATE, {"note": "x"}, signer.key)
    assert read_signed_checkpoint(DirectorySource(path))[1].size == 3


def test_empty_tree_root_is_sha256_of_nothing(tmp_path: Path) -> None:
    path, _ = build_v2(tmp_path, 1)
    assert TileTree(DirectorySource(path), 1).root(0) == SHA256_HASHER.empty_root()
    assert new_signer(tmp_path / "other").fingerprint.startswith("SHA256:")
