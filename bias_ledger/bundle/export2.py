"""Export a format-2 ledger's records as a format-2 bundle (verified first, in one pass)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from bias_ledger.bundle.derived import ReportData, ReportRecord, load_record, write_reports
from bias_ledger.bundle.export import ExportResult, Selection
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
    MANIFEST,
    MEMBER_COUNT_LIMIT,
    SIGNERS,
    Manifest,
    ManifestRecord,
    record_json,
    record_sig,
)
from bias_ledger.bundle.signers import signers_text
from bias_ledger.bundle.stream_reports import spooled_reports
from bias_ledger.bundle.zip_writer import ZipWriter
from bias_ledger.errors import InputError, VerificationError
from bias_ledger.ledger import note
from bias_ledger.ledger.entry import armor
from bias_ledger.ledger.files import read_regular
from bias_ledger.ledger.index_runs import AscendingRanges, IndexRanges, union
from bias_ledger.ledger.keys import fingerprint, parse_public_key, public_key_openssh
from bias_ledger.ledger.tlog_checkpoint import parse_checkpoint
from bias_ledger.ledger.tlog_entry import LogEntry, parse_entry
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


@dataclass(frozen=True)
class Exported2:
    """What a version-2 export wrote (the zip went to the stream)."""

    manifest: Manifest
    consistency: ConsistencyJson2 | None


def _entries(
    source: DirectorySource, size: int, tree: TileTree, chosen: set[int]
) -> tuple[dict[int, bytes], list[ManifestRecord]]:
    """The selected entries (a few hundred bytes each) and their manifest lines with proofs."""
    entries: dict[int, bytes] = {}
    listed: list[ManifestRecord] = []
    for index, entry_bytes in iter_entries(source, size):
        if index in chosen:
            entry = parse_entry(entry_bytes, where=f"{source.name} record {index}")
            entries[index] = entry_bytes
            proof = tuple(h.hex() for h in tree.inclusion_proof(index, size))
            listed.append(
                ManifestRecord(index, entry.record, leaf_hash(entry_bytes).hex(), size, proof)
            )
    return entries, listed


def write_bundle_v2(
    path: Path, selection: Selection, out: BinaryIO, *, consistent_with: Path | None = None
) -> Exported2:
    """Write the format-2 bundle of the ledger at ``path`` for ``selection`` to ``out`` (a
    seekable stream). The ledger is verified in one streaming pass; memory then holds the
    selected entries and the manifest (its inclusion proofs), and one record at a time: each
    record is read again for the two report passes and for its member (and one record per
    signing key, for the key)."""
    source = DirectorySource(path)
    verified = verify_log(source, trusted=None, trust_log_keys=True)
    checkpoint, size = verified.checkpoint, verified.checkpoint.size
    tree = TileTree(source, size)
    entries, listed = _entries(source, size, tree, set(chosen_indexes(source, size, selection)))

    def entry_of(index: int) -> LogEntry:
        return parse_entry(entries[index], where=f"{source.name} record {index}")

    def record_of(index: int) -> bytes:
        where = f"{source.name} record {index}"
        return read_record(source, entry_of(index), where=where)

    def report_records() -> Iterator[ReportRecord]:
        for index in sorted(entries):
            yield ReportRecord(index, entry_of(index).record, load_record(record_of(index)))

    # A fingerprint names one key (verified: each record's key is the one its entry names), so
    # one record per signer is read for its key.
    keys: dict[str, str] = {}
    for index in sorted(entries):
        signer = entry_of(index).signer
        if signer not in keys:
            keys[signer] = json.loads(record_of(index))["signer"]["public_key"].strip()
    signers = set(keys.items())
    checkpoint_key = parse_public_key(verified.checkpoint_signer)
    signers.add((fingerprint(checkpoint_key), public_key_openssh(checkpoint_key)))
    manifest = Manifest(
        BUNDLE_FORMAT_VERSION, checkpoint.origin, size, checkpoint.root_hash.hex(), tuple(listed)
    )
    fixed = {
        MANIFEST: encode_manifest(manifest),
        CHECKPOINT: verified.signed_checkpoint,
        SIGNERS: signers_text(signers),
    }
    consistency = None
    if consistent_with is not None:
        consistency = consistency_proof(tree, checkpoint.origin, size, consistent_with)
        fixed[CONSISTENCY] = consistency.encode()
    data = ReportData(
        origin=checkpoint.origin,
        checkpoint_size=size,
        checkpoint_root=checkpoint.root_hash.hex(),
        checkpoint_signer=fingerprint(checkpoint_key),
        records=report_records,
        signers=tuple(sorted(signers)),
    )
    per_record = {entry_member: "entry", record_json: "record", record_sig: "signature"}
    named = {name(index): (what, index) for index in entries for name, what in per_record.items()}
    spooled = spooled_reports(lambda md, html: write_reports(data, md, html))
    with spooled as reports, ZipWriter(out) as archive:
        for name in sorted([*fixed, *reports, *named]):
            if name in fixed:
                archive.add(name, fixed[name])
            elif name in reports:
                archive.add_stream(name, *reports[name])
            else:
                what, index = named[name]
                if what == "entry":
                    archive.add(name, entries[index])
                elif what == "record":
                    archive.add(name, record_of(index))
                else:
                    archive.add(name, armor(entry_of(index).signature).encode("ascii"))
    return Exported2(manifest, consistency)


def export_bundle_v2(
    path: Path, selection: Selection, *, consistent_with: Path | None = None
) -> ExportResult:
    """:func:`write_bundle_v2` into memory (bundles of few records, and tests)."""
    buffer = io.BytesIO()
    done = write_bundle_v2(path, selection, buffer, consistent_with=consistent_with)
    return ExportResult(buffer.getvalue(), done.manifest, done.consistency)


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
