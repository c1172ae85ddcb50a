"""Export a format-2 ledger's records as a format-2 bundle (verified first, in one pass)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bias_ledger.bundle.derived import derived_members, report_data
from bias_ledger.bundle.export import ExportResult, Selection, write_zip
from bias_ledger.bundle.format2 import (
    BUNDLE_FORMAT_VERSION,
    ConsistencyJson2,
    encode_manifest,
    entry_member,
)
from bias_ledger.bundle.model import (
    CHECKPOINT,
    CONSISTENCY,
    Manifest,
    ManifestRecord,
    record_json,
    record_sig,
)
from bias_ledger.errors import InputError, VerificationError
from bias_ledger.ledger import note
from bias_ledger.ledger.entry import armor
from bias_ledger.ledger.files import read_regular
from bias_ledger.ledger.keys import fingerprint, parse_public_key, public_key_openssh
from bias_ledger.ledger.tlog_checkpoint import parse_checkpoint
from bias_ledger.ledger.tlog_read import iter_records
from bias_ledger.ledger.tlog_source import DirectorySource
from bias_ledger.ledger.tlog_tiles import leaf_hash
from bias_ledger.ledger.tlog_tree import TileTree
from bias_ledger.ledger.tlog_verify import verify_log


def _chosen(selection: Selection, headers: Sequence[dict[str, Any]]) -> list[int]:
    """Selected indexes, approvals of chosen audits (--model) and earlier key rotations."""
    size = len(headers)
    if selection.indexes:
        for index in selection.indexes:
            if not 0 <= index < size:
                raise InputError(f"record {index}: the latest checkpoint covers 0..{size - 1}")
        chosen = set(selection.indexes)
    else:
        chosen = {i for i, h in enumerate(headers) if _matches(selection, h)}
    if not chosen:
        raise InputError("no record matches the selection: nothing to export")
    if selection.model is not None:
        chosen |= {i for i, h in enumerate(headers) if h.get("approves") in chosen}
    last = max(chosen)
    chosen |= {i for i in range(last) if headers[i]["kind"] == "key_rotation"}
    return sorted(chosen)


def _matches(selection: Selection, header: dict[str, Any]) -> bool:
    if selection.everything:
        return True
    if selection.since is not None:
        stamp = datetime.fromisoformat(str(header["timestamp"]).replace("Z", "+00:00"))
        return stamp >= selection.since
    return selection.model is not None and header.get("model") == selection.model


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    kind = record.get("kind")
    payload = record.get(str(kind)) if isinstance(kind, str) else None
    payload = payload if isinstance(payload, dict) else {}
    subject = payload.get("subject")
    approves = payload.get("approves")
    return {
        "kind": kind,
        "timestamp": record.get("timestamp"),
        "model": subject.get("model_name") if isinstance(subject, dict) else None,
        "approves": approves.get("index") if isinstance(approves, dict) else None,
    }


def export_bundle_v2(
    path: Path, selection: Selection, *, consistent_with: Path | None = None
) -> ExportResult:
    """Build the format-2 bundle of the ledger at ``path`` for ``selection``."""
    source = DirectorySource(path)
    verified = verify_log(source, trusted=None, trust_log_keys=True)
    checkpoint, size = verified.checkpoint, verified.checkpoint.size
    headers = [_summary(json.loads(item.record_bytes)) for item in iter_records(source, size)]
    chosen = set(_chosen(selection, headers))
    tree = TileTree(source, size)
    members: dict[str, bytes] = {}
    listed: list[ManifestRecord] = []
    signers: set[tuple[str, str]] = set()
    records: list[tuple[int, str, bytes]] = []
    keys: dict[str, Any] = {}
    for item in iter_records(source, size):
        index = item.entry.index
        if index not in chosen:
            continue
        members[record_json(index)] = item.record_bytes
        members[record_sig(index)] = armor(item.entry.signature).encode("ascii")
        members[entry_member(index)] = item.entry_bytes
        proof = tuple(h.hex() for h in tree.inclusion_proof(index, size))
        listed.append(
            ManifestRecord(index, item.entry.record, leaf_hash(item.entry_bytes).hex(), size, proof)
        )
        signer = json.loads(item.record_bytes)["signer"]
        signers.add((signer["fingerprint"], signer["public_key"].strip()))
        keys[signer["public_key"]] = parse_public_key(signer["public_key"])
        records.append((index, item.entry.record, item.record_bytes))
    checkpoint_key = parse_public_key(verified.checkpoint_signer)
    signers.add((fingerprint(checkpoint_key), public_key_openssh(checkpoint_key)))
    manifest = Manifest(
        BUNDLE_FORMAT_VERSION, checkpoint.origin, size, checkpoint.root_hash.hex(), tuple(listed)
    )
    members["bundle.json"] = encode_manifest(manifest)
    members[CHECKPOINT] = verified.signed_checkpoint
    consistency = None
    if consistent_with is not None:
        consistency = _consistency(tree, checkpoint.origin, size, consistent_with)
        members[CONSISTENCY] = consistency.encode()
    data = report_data(
        origin=checkpoint.origin,
        checkpoint_size=size,
        checkpoint_root=checkpoint.root_hash.hex(),
        checkpoint_signer=fingerprint(checkpoint_key),
        records=records,
        signers=signers,
    )
    members.update(derived_members(data))
    return ExportResult(write_zip(members), manifest, consistency)


def _consistency(tree: TileTree, origin: str, size: int, kept_path: Path) -> ConsistencyJson2:
    try:
        kept_bytes = read_regular(kept_path)
    except OSError as exc:
        raise InputError(f"{kept_path}: cannot read ({exc.strerror})") from None
    old = parse_checkpoint(note.parse_note(kept_bytes, str(kept_path)).text, str(kept_path))
    if old.origin != origin:
        raise InputError(f"{kept_path}: checkpoint of origin {old.origin!r}, not {origin!r}")
    if not 1 <= old.size <= size:
        raise InputError(f"{kept_path}: tree size {old.size}; expected 1..{size}")
    if tree.root(old.size) != old.root_hash:
        raise VerificationError(f"{kept_path}: its root is not this ledger's at size {old.size}")
    hashes = tuple(h.hex() for h in tree.consistency_proof(old.size, size))
    return ConsistencyJson2(old.size, old.root_hash.hex(), size, tree.root().hex(), hashes)
