"""A key holder's forge: append arbitrary record bytes to a format-2 ledger, signed for real
(record SSHSIG, entry, tiles and checkpoint note), so an attack test can give the verifier a
record that only its content can refuse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import blake3

from bias_ledger.ledger import sshsig
from bias_ledger.ledger.entry import dearmor
from bias_ledger.ledger.files import write_atomically
from bias_ledger.ledger.merkle import SHA256_HASHER
from bias_ledger.ledger.tlog_checkpoint import Checkpoint
from bias_ledger.ledger.tlog_entry import LogEntry, record_path
from bias_ledger.ledger.tlog_read import iter_records, read_signed_checkpoint
from bias_ledger.ledger.tlog_source import DirectorySource
from bias_ledger.ledger.tlog_store import (
    _append_tiles,
    _write,
    read_checkpoint_text,
    read_edge,
    sign_checkpoint_note,
)
from tests.ledger.helpers import Signer


def next_record(ledger: Path, signer: Signer, kind: str, payload: Any) -> dict[str, Any]:
    """The header and payload a writer would give the next record (to be spoiled)."""
    source = DirectorySource(ledger)
    _, checkpoint = read_signed_checkpoint(source)
    last = list(iter_records(source, checkpoint.size))[-1]
    previous = json.loads(last.record_bytes)
    return {
        "format_version": 2,
        kind: payload,
        "index": checkpoint.size,
        "kind": kind,
        "labels": {},
        "origin": previous["origin"],
        "previous_hash": blake3.blake3(last.record_bytes).hexdigest(),
        "signer": {"public_key": signer.public_line},
        "timestamp": "2026-01-02T03:04:05.000000Z",
    }


def canonical_text(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


def append_raw(ledger: Path, signer: Signer, data: bytes, *, kind: str, timestamp: str) -> str:
    """Append ``data`` as the next record, exactly these bytes, signed by ``signer``."""
    current = read_checkpoint_text(ledger)
    assert current is not None
    edge = read_edge(ledger, current.size)
    digest = blake3.blake3(data).hexdigest()
    _write(ledger, record_path(digest), data)
    entry = LogEntry(
        index=current.size,
        kind=kind,
        record=digest,
        size=len(data),
        timestamp=timestamp,
        signer=signer.fingerprint,
        signature=dearmor(sshsig.sign(signer.key, data), where="forged record"),
    ).encode()
    _, tree = _append_tiles(ledger, edge, entry)
    checkpoint = Checkpoint(current.origin, tree.size, tree.root(SHA256_HASHER))
    write_atomically(ledger / "checkpoint", sign_checkpoint_note(checkpoint, signer.key))
    return digest
