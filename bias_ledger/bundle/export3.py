"""Export a format-2 ledger's records as a version-3 bundle, written as a stream: memory holds
one record at a time, the selected indexes and the signers, never all records or proofs.

The ledger is verified first (one streaming pass); the selection is found from the entries; then
each selected record is read, proven against the checkpoint and written with its members.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bias_ledger.bundle.derived import load_record
from bias_ledger.bundle.export import Selection
from bias_ledger.bundle.export2 import chosen_ranges, consistency_proof
from bias_ledger.bundle.format2 import ConsistencyJson2
from bias_ledger.bundle.format3 import SMALL_LIMIT, Manifest3, encode_proof, record_members
from bias_ledger.bundle.model import (
    CHECKPOINT,
    CONSISTENCY,
    MANIFEST,
    SIGNERS,
)
from bias_ledger.bundle.signers import signers_text
from bias_ledger.bundle.stream_reports import ReportHeader, spooled_reports, write_reports
from bias_ledger.bundle.tar3 import TarWriter
from bias_ledger.errors import InputError
from bias_ledger.ledger.entry import armor
from bias_ledger.ledger.index_runs import IndexRanges
from bias_ledger.ledger.keys import fingerprint, parse_public_key, public_key_openssh
from bias_ledger.ledger.tlog_entry import parse_entry
from bias_ledger.ledger.tlog_read import iter_entries, read_record
from bias_ledger.ledger.tlog_source import DirectorySource
from bias_ledger.ledger.tlog_tree import TileTree
from bias_ledger.ledger.tlog_verify import verify_log
from bias_ledger.render.report_blocks import ReportRecord

SelectedRecord = tuple[int, str, bytes, bytes]
"""(index, record hash, record bytes, entry bytes) of a selected record, read from the ledger."""


@dataclass(frozen=True)
class Exported3:
    """What a version-3 export wrote (the file's bytes went to the stream)."""

    manifest: Manifest3
    consistency: ConsistencyJson2 | None


def _selected(source: DirectorySource, size: int, chosen: IndexRanges) -> Iterator[SelectedRecord]:
    for index, entry_bytes in iter_entries(source, size):
        if index in chosen:
            where = f"{source.name} record {index}"
            entry = parse_entry(entry_bytes, where=where)
            yield index, entry.record, read_record(source, entry, where=where), entry_bytes


def _report_records(
    source: DirectorySource, size: int, chosen: IndexRanges
) -> Callable[[], Iterator[ReportRecord]]:
    def records() -> Iterator[ReportRecord]:
        for index, digest, raw, _ in _selected(source, size, chosen):
            yield ReportRecord(index, digest, load_record(raw))

    return records


def _checked_manifest(manifest: Manifest3) -> bytes:
    """``bundle.json``'s bytes, refused (before anything is written) when a verifier would
    refuse them: larger than the reader's limit for the member, which a very sparse
    selection (every other record of a large ledger: about 38 bytes a range) reaches."""
    data = manifest.encode()
    if len(data) > SMALL_LIMIT:
        raise InputError(
            f"export: the selection is {len(manifest.ranges)} separate runs of records, which "
            f"make {MANIFEST} {len(data)} bytes, over the {SMALL_LIMIT} a bundle verifier "
            "reads (docs/FORMAT.md 10.16); expected fewer runs: select contiguous records "
            "(--since, --all) or export the selection as several bundles"
        )
    return data


def export_bundle_v3(
    path: Path, selection: Selection, out: BinaryIO, *, consistent_with: Path | None = None
) -> Exported3:
    """Write the version-3 bundle of the ledger at ``path`` for ``selection`` to ``out``."""
    source = DirectorySource(path)
    verified = verify_log(source, trusted=None, trust_log_keys=True)
    checkpoint, size = verified.checkpoint, verified.checkpoint.size
    chosen = IndexRanges(chosen_ranges(source, size, selection, limited=False))
    tree = TileTree(source, size)
    consistency = None
    if consistent_with is not None:
        consistency = consistency_proof(tree, checkpoint.origin, size, consistent_with)
    manifest = Manifest3(checkpoint.origin, size, checkpoint.root_hash.hex(), chosen.ranges)
    manifest_bytes = _checked_manifest(manifest)
    tar = TarWriter(out)
    tar.add(MANIFEST, manifest_bytes)
    tar.add(CHECKPOINT, verified.signed_checkpoint)
    signers: set[tuple[str, str]] = set()
    for index, _, raw, entry_bytes in _selected(source, size, chosen):
        entry = parse_entry(entry_bytes, where=f"{source.name} record {index}")
        proof = encode_proof(tree.inclusion_proof(index, size))
        contents = (entry_bytes, raw, armor(entry.signature).encode("ascii"), proof)
        for name, data in zip(record_members(index), contents, strict=True):
            tar.add(name, data)
        signer = json.loads(raw)["signer"]
        signers.add((entry.signer, signer["public_key"].strip()))  # verified: the key's
    checkpoint_key = parse_public_key(verified.checkpoint_signer)
    signers.add((fingerprint(checkpoint_key), public_key_openssh(checkpoint_key)))
    signers_bytes = signers_text(signers)
    tar.add(SIGNERS, signers_bytes)
    if consistency is not None:
        tar.add(CONSISTENCY, consistency.encode())
    header = ReportHeader(
        origin=checkpoint.origin,
        checkpoint_size=size,
        checkpoint_root=checkpoint.root_hash.hex(),
        checkpoint_signer=fingerprint(checkpoint_key),
        records=_report_records(source, size, chosen),
        signers=tuple(sorted(signers)),
    )
    with spooled_reports(lambda md, html: write_reports(header, md, html)) as reports:
        for name, (length, chunks) in reports.items():
            tar.add_stream(name, length, chunks)
    tar.finish()
    return Exported3(manifest, consistency)
