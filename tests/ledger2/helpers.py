"""Real format-2 ledgers for the format-2 tests: keys on disk, records appended for real."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bias_ledger.ledger.merkle import SHA256_HASHER, MerkleTree
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record, init_ledger
from bias_ledger.ledger.tlog_read import iter_records, read_signed_checkpoint
from bias_ledger.ledger.tlog_source import DirectorySource
from bias_ledger.ledger.tlog_tiles import decode_bundle, encode_bundle, leaf_hash
from tests.ledger.helpers import Signer, new_signer


@contextmanager
def no_fsync(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Skip fsync while building large test ledgers (durability is tested elsewhere)."""
    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", lambda fd: None)
        yield


def build_v2(
    root: Path, records: int, monkeypatch: pytest.MonkeyPatch | None = None
) -> tuple[Path, Signer]:
    """A format-2 ledger of ``records`` gate records signed by a new key."""
    path = root / "ledger"
    init_ledger(path, name="example.org/v2-test", format_version=2)
    signer = new_signer(root / "key")
    if monkeypatch is not None:
        with no_fsync(monkeypatch):
            for number in range(records):
                append_record(path, RecordKind.GATE, {"note": f"record {number}"}, signer.key)
    else:
        for number in range(records):
            append_record(path, RecordKind.GATE, {"note": f"record {number}"}, signer.key)
    return path, signer


def reference_tree(path: Path) -> MerkleTree:
    """The SHA-256 tree of the ledger's entries, built by the format-independent Merkle code."""
    source = DirectorySource(path)
    _, checkpoint = read_signed_checkpoint(source)
    leaves = [leaf_hash(item.entry_bytes) for item in iter_records(source, checkpoint.size)]
    return MerkleTree(SHA256_HASHER, leaves)


def rewrite_entry(path: Path, index: int, change: dict[str, Any]) -> None:
    """Replace fields of entry ``index`` in its bundle (partial or full), keeping it canonical."""
    tile_dir = path / "tile" / "entries"
    for bundle_path in sorted(p for p in tile_dir.rglob("*") if p.is_file()):
        data = bundle_path.read_bytes()
        entries = decode_bundle(data, len(_count(data)), where=str(bundle_path))
        for position, entry in enumerate(entries):
            value = json.loads(entry)
            if value["index"] == index:
                value.update(change)
                entries[position] = json.dumps(
                    value, sort_keys=True, separators=(",", ":")
                ).encode()
        bundle_path.write_bytes(encode_bundle(entries))


def _count(data: bytes) -> list[int]:
    offsets, offset = [], 0
    while offset < len(data):
        offsets.append(offset)
        offset += 2 + int.from_bytes(data[offset : offset + 2], "big")
    return offsets


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


_TEMPLATES: dict[tuple[Path, int], tuple[Path, Signer]] = {}


def copied_v2(factory: pytest.TempPathFactory, target: Path, records: int) -> tuple[Path, Signer]:
    """A copy of a cached ledger of ``records`` records (built once per test session)."""
    import shutil

    base = factory.getbasetemp()
    if (base, records) not in _TEMPLATES:
        root = factory.mktemp(f"template{records}")
        with pytest.MonkeyPatch.context() as patch:
            _TEMPLATES[(base, records)] = build_v2(root, records, patch)
    path, signer = _TEMPLATES[(base, records)]
    shutil.copytree(path, target / "ledger")
    return target / "ledger", signer
