"""Export a format-2 ledger's records as a format-2 bundle (verified first, in one pass)."""

from __future__ import annotations

import json
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
from bias_ledger.bundle.format3 import ranges_of
from bias_ledger.bundle.model import (
    CHECKPOINT,
    CONSISTENCY,
    MEMBER_COUNT_LIMIT,
    Manifest,
    ManifestRecord,
    record_json,
    record_sig,
)
from bias_ledger.errors import InputError, VerificationError
from bias_ledger.ledger import note
from bias_ledger.ledger.entry import armor
from bias_ledger.ledger.files import read_regular
from bias_ledger.ledger.index_runs import AscendingRanges, IndexRanges, union
from bias_ledger.ledger.keys import fingerprint, parse_public_key, public_key_openssh
from bias_ledger.ledger.tlog_checkpoint import parse_checkpoint
from bias_ledger.ledger.tlog_entry import parse_entry
from bias_ledger.ledger.tlog_read import iter_entries, read_record
from bias_ledger.ledger.tlog_source import DirectorySource
from bias_ledger.ledger.tlog_tiles import leaf_hash
from bias_ledger.ledger.tlog_tree import TileTree
from bias_ledger.ledger.tlog_verify import verify_log

_BUNDLE_MEMBERS = min(MEMBER_COUNT_LIMIT, 0xFFFF)
"""Members a bundle may hold: the readers' limit, and a zip without zip64 (FORMAT.md)."""
_FIXED_MEMBERS = 6
"""bundle.json, checkpoint, consistency.json, keys/allowed_signers, report.md, report.html."""


def _subject_model(record: Any) -> Any:
    payload = record.get(str(record.get("kind"))) if isinstance(record, dict) else None
    subject = payload.get("subject") if isinstance(payload, dict) else None
    return subject.get("model_name") if isinstance(subject, dict) else None


def _approved(record: Any) -> Any:
    payload = record.get("approval") if isinstance(record, dict) else None
    approves = payload.get("approves") if isinstance(payload, dict) else None
    return approves.get("index") if isinstance(approves, dict) else None


def chosen_indexes(
    source: DirectorySource,
    size: int,
    selection: Selection,
    *,
    limited: bool = True,
) -> list[int]:
    """Selected indexes, approvals of chosen audits (--model) and the key records, in
    one pass over the entries (kind and timestamp are there); records are read only to match
    a model. Memory: the selection, not the ledger."""
    return [
        index
        for first, last in chosen_ranges(source, size, selection, limited=limited)
        for index in range(first, last + 1)
    ]


def chosen_ranges(
    source: DirectorySource,
    size: int,
    selection: Selection,
    *,
    limited: bool = True,
) -> tuple[tuple[int, int], ...]:
    """:func:`chosen_indexes` as maximal inclusive ranges: memory O(ranges), so ``--all``
    of any ledger is one pair."""
    named: set[int] = set()
    if selection.indexes:
        for index in selection.indexes:
            if not 0 <= index < size:
                raise InputError(f"record {index}: the latest checkpoint covers 0..{size - 1}")
        named = set(selection.indexes)
    picked, rotations = AscendingRanges(), AscendingRanges()
    for index, data in iter_entries(source, size):
        entry = parse_entry(data, where=f"{source.name} record {index}")
        if entry.kind in ("key_rotation", "key_revocation"):
            rotations.add(index)
        if selection.everything and not selection.indexes:
            picked.add(index)
        elif selection.since is not None and not selection.indexes:
            stamp = datetime.fromisoformat(entry.timestamp.replace("Z", "+00:00"))
            if stamp >= selection.since:
                picked.add(index)
        elif selection.model is not None and entry.kind in ("audit", "gate", "approval"):
            where = f"{source.name} record {index}"
            record = json.loads(read_record(source, entry, where=where))
            matches = not selection.indexes and _subject_model(record) == selection.model
            if matches or (entry.kind == "approval" and _approved(record) in picked):
                picked.add(index)
    if not picked and not named:
        raise InputError("no record matches the selection: nothing to export")
    # The key records, as format 1 ships them: every revocation, and the rotations (also those
    # after the selection) that lead to the checkpoint's signer.
    ranges = ranges_of(
        union(sorted(named), IndexRanges(picked.ranges()), IndexRanges(rotations.ranges()))
    )
    count = sum(last - first + 1 for first, last in ranges)
    members = 3 * count + _FIXED_MEMBERS
    if limited and members > _BUNDLE_MEMBERS:
        raise InputError(
            f"{count} records make a bundle of {members} members, more than the "
            f"{_BUNDLE_MEMBERS} a version-2 bundle may hold: export fewer (--since, --model, "
            "indexes), or write bundle format 3, a tar without a limit (-o FILE.tar)"
        )
    return ranges


def export_bundle_v2(
    path: Path, selection: Selection, *, consistent_with: Path | None = None
) -> ExportResult:
    """Build the format-2 bundle of the ledger at ``path`` for ``selection``: the ledger is
    verified in one streaming pass, then only the selected records are read again."""
    source = DirectorySource(path)
    verified = verify_log(source, trusted=None, trust_log_keys=True)
    checkpoint, size = verified.checkpoint, verified.checkpoint.size
    chosen = set(chosen_indexes(source, size, selection))
    tree = TileTree(source, size)
    members: dict[str, bytes] = {}
    listed: list[ManifestRecord] = []
    signers: set[tuple[str, str]] = set()
    records: list[tuple[int, str, bytes]] = []
    for index, entry_bytes in iter_entries(source, size):
        if index not in chosen:
            continue
        where = f"{source.name} record {index}"
        entry = parse_entry(entry_bytes, where=where)
        record_bytes = read_record(source, entry, where=where)
        members[record_json(index)] = record_bytes
        members[record_sig(index)] = armor(entry.signature).encode("ascii")
        members[entry_member(index)] = entry_bytes
        proof = tuple(h.hex() for h in tree.inclusion_proof(index, size))
        listed.append(
            ManifestRecord(index, entry.record, leaf_hash(entry_bytes).hex(), size, proof)
        )
        signer = json.loads(record_bytes)["signer"]
        signers.add((entry.signer, signer["public_key"].strip()))  # verified: the key's
        records.append((index, entry.record, record_bytes))
    checkpoint_key = parse_public_key(verified.checkpoint_signer)
    signers.add((fingerprint(checkpoint_key), public_key_openssh(checkpoint_key)))
    manifest = Manifest(
        BUNDLE_FORMAT_VERSION, checkpoint.origin, size, checkpoint.root_hash.hex(), tuple(listed)
    )
    members["bundle.json"] = encode_manifest(manifest)
    members[CHECKPOINT] = verified.signed_checkpoint
    consistency = None
    if consistent_with is not None:
        consistency = consistency_proof(tree, checkpoint.origin, size, consistent_with)
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


def consistency_proof(tree: TileTree, origin: str, size: int, kept_path: Path) -> ConsistencyJson2:
    """The consistency proof from the kept checkpoint at ``kept_path`` to ``size``."""
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
