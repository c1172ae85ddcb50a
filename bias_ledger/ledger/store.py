"""The append-only ledger store: create, append under a file lock, durably, in O(log n).

Only this module writes ``records.log``, ``checkpoint`` and ``state.json``. A record is
committed when its entry's final LF is durable (:mod:`bias_ledger.ledger.logfile`); the
checkpoint and ``state.json`` are written after that and a failure to write them is a warning,
never a reported failure of a committed record. An append never rereads the ledger when the
cached state (:mod:`bias_ledger.ledger.state`) is confirmed by the log's tail and checkpoint.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.errors import LedgerError
from bias_ledger.ledger import canonical, sshsig
from bias_ledger.ledger.checkpoint import Checkpoint, sign_checkpoint
from bias_ledger.ledger.entry import Entry, dearmor
from bias_ledger.ledger.files import fsync_directory, write_atomically
from bias_ledger.ledger.key_history import refuse_retired_signer
from bias_ledger.ledger.keys import fingerprint, public_key_openssh
from bias_ledger.ledger.lock import ledger_lock
from bias_ledger.ledger.logfile import append_entry
from bias_ledger.ledger.merkle import BLAKE3_HASHER
from bias_ledger.ledger.reader import (
    CHECKPOINT_FILE,
    LEDGER_FILE,
    RECORDS_FILE,
    STATE_FILE,
    LedgerMeta,
    read_meta,
)
from bias_ledger.ledger.record import (
    FORMAT_VERSION,
    RecordHeader,
    RecordKind,
    Signer,
    build_record,
    utc_timestamp,
)
from bias_ledger.ledger.state import AppendState, load_state, rebuild_state, record_hash

__all__ = ["AppendState", "Appended", "append_record", "init_ledger", "ledger_lock", "record_hash"]

NAMESPACE = "bias-ledger"


@dataclass(frozen=True)
class Appended:
    """The outcome of one append (the record is committed whenever this is returned)."""

    index: int
    record_hash: str
    """Hex BLAKE3-256 of the record's canonical bytes."""
    record: Mapping[str, Any]
    checkpoint: Checkpoint
    signed_checkpoint: bytes
    warnings: tuple[str, ...] = ()
    """What could not be written after the commit (the checkpoint, the state cache): the
    record is in the ledger regardless, and the next append writes them again."""


def init_ledger(
    path: Path,
    *,
    name: str,
    clock: Callable[[], datetime] | None = None,
    random_id: str | None = None,
    format_version: int = FORMAT_VERSION,
) -> LedgerMeta:
    """Create an empty ledger at ``path``; refuses a directory that already holds one.

    ``random_id`` (16 hex digits) pins the origin's random part, for reproducible examples.
    """
    if os.path.lexists(path / LEDGER_FILE):
        raise LedgerError(f"{path}: a ledger already exists here")
    if not name or any(ch.isspace() for ch in name):
        raise LedgerError(f"ledger name {name!r}: expected a non-empty name without spaces")
    path.mkdir(parents=True, exist_ok=True)
    origin = f"{name}/{random_id or secrets.token_hex(8)}"
    created = utc_timestamp(clock() if clock else None)
    meta = {
        "format": "bias-ledger",
        "format_version": FORMAT_VERSION,
        "origin": origin,
        "created": created,
        "hash": "blake3-256",
    }
    if format_version == 2:
        from bias_ledger.ledger.tlog_store import init_v2

        init_v2(path, {**meta, "format_version": 2, "hash": "sha256"})
        return read_meta(path)
    try:
        write_atomically(path / LEDGER_FILE, canonical.encode(meta) + b"\n")
        fsync_directory(path.parent)
    except OSError as exc:
        raise LedgerError(f"{path / LEDGER_FILE}: cannot create ({exc.strerror or exc})") from None
    return read_meta(path)


def _after_commit(path: Path, name: str, data: bytes, what: str) -> str | None:
    """Write a derived file after the commit; a failure is a warning, not an error."""
    try:
        write_atomically(path / name, data)
    except OSError as exc:
        return (
            f"{path / name}: {what} not updated ({exc.strerror or exc}); the next append writes it"
        )
    return None


def append_record(
    path: Path,
    kind: RecordKind,
    payload: Mapping[str, Any],
    key: Ed25519PrivateKey,
    *,
    labels: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Appended:
    """Sign and append one record, then sign and store a checkpoint covering it.

    Raises LedgerError (exit 2, naming the file) when the record could not be committed; the
    ledger is then unchanged. Once it is committed this returns, with warnings for a
    checkpoint or state cache that could not be written (a full disk).
    """
    meta = read_meta(path)
    public = key.public_key()
    signer = Signer(fingerprint=fingerprint(public), public_key=public_key_openssh(public))
    if meta.format_version == 2:
        return _append_v2(path, meta.origin, kind, payload, key, labels=labels, clock=clock)
    with ledger_lock(path):
        state = load_state(path)
        refuse_retired_signer(path / RECORDS_FILE, signer.fingerprint)
        header = RecordHeader(
            format_version=FORMAT_VERSION,
            kind=kind,
            index=state.size,
            timestamp=utc_timestamp(clock() if clock else None),
            previous_hash=state.last_hash,
            origin=meta.origin,
            signer=signer,
        )
        record = build_record(header, payload, labels=labels)
        record_bytes = canonical.encode(record)
        signature = dearmor(sshsig.sign(key, record_bytes, namespace=NAMESPACE), where="signature")
        line = Entry(record_bytes=record_bytes, signature=signature).line()
        tree = state.tree.append(BLAKE3_HASHER, BLAKE3_HASHER.hash_leaf(line))
        checkpoint = Checkpoint(
            origin=meta.origin, size=tree.size, root_hash=tree.root(BLAKE3_HASHER)
        )
        signed = sign_checkpoint(checkpoint, key)
        length = append_entry(path / RECORDS_FILE, state.byte_length, line, index=header.index)
        # Committed: from here on nothing may report this append as failed.
        digest = record_hash(record_bytes)
        new_state = AppendState(size=tree.size, byte_length=length, last_hash=digest, tree=tree)
        warnings = [
            _after_commit(path, CHECKPOINT_FILE, signed, "the signed checkpoint"),
            _after_commit(
                path, STATE_FILE, canonical.encode(new_state.to_json()) + b"\n", "the state cache"
            ),
        ]
    return Appended(
        index=header.index,
        record_hash=digest,
        record=record,
        checkpoint=checkpoint,
        signed_checkpoint=signed,
        warnings=tuple(w for w in warnings if w),
    )


def _append_v2(
    path: Path,
    origin: str,
    kind: RecordKind,
    payload: Mapping[str, Any],
    key: Ed25519PrivateKey,
    *,
    labels: Mapping[str, str] | None,
    clock: Callable[[], datetime] | None,
) -> Appended:
    from bias_ledger.ledger.tlog_store import append_record_v2

    with ledger_lock(path):  # turns a timeout into a one-line LedgerError
        done = append_record_v2(path, origin, kind, payload, key, labels=labels, clock=clock)
    checkpoint = Checkpoint(done.checkpoint.origin, done.checkpoint.size, done.checkpoint.root_hash)
    return Appended(done.index, done.record_hash, done.record, checkpoint, done.signed_checkpoint)


def rebuild_state_file(path: Path) -> AppendState:
    """Recompute ``state.json`` from ``records.log`` (the caller holds the ledger lock)."""
    state = rebuild_state(path)
    try:
        write_atomically(path / STATE_FILE, canonical.encode(state.to_json()) + b"\n")
    except OSError as exc:
        raise LedgerError(f"{path / STATE_FILE}: cannot write ({exc.strerror or exc})") from None
    return state
