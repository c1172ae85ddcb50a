"""The append-only ledger store: create, append under a file lock, durably, in O(log n).

Only this module writes ``records.log``, ``checkpoint`` and ``state.json``. An append never
rereads the ledger: ``state.json`` keeps the compact Merkle range, size, byte length and last
record hash, and is rebuilt from ``records.log`` whenever it is missing or behind.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import blake3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from filelock import FileLock, Timeout

from bias_ledger.errors import LedgerError, VerificationError
from bias_ledger.ledger import canonical, sshsig
from bias_ledger.ledger.checkpoint import Checkpoint, parse_signed_checkpoint, sign_checkpoint
from bias_ledger.ledger.entry import Entry, dearmor, parse_line
from bias_ledger.ledger.files import append_durably, fsync_directory, write_atomically
from bias_ledger.ledger.key_history import refuse_retired_signer
from bias_ledger.ledger.keys import fingerprint, public_key_openssh
from bias_ledger.ledger.merkle import BLAKE3_HASHER, CompactRange
from bias_ledger.ledger.reader import (
    CHECKPOINT_FILE,
    LEDGER_FILE,
    LOCK_FILE,
    RECORDS_FILE,
    STATE_FILE,
    LedgerMeta,
    read_meta,
    split_lines,
)
from bias_ledger.ledger.record import (
    FORMAT_VERSION,
    RecordHeader,
    RecordKind,
    Signer,
    build_record,
    utc_timestamp,
)

NAMESPACE = "bias-ledger"
LOCK_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class AppendState:
    """What an append needs to know about the ledger so far (persisted in ``state.json``)."""

    size: int
    """Number of records."""
    byte_length: int
    """Length of ``records.log`` covering exactly ``size`` complete lines."""
    last_hash: str | None
    """Hex BLAKE3-256 of the last record's bytes; None for an empty ledger."""
    tree: CompactRange
    """Compact Merkle range over the ``size`` entry lines."""

    def to_json(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "byte_length": self.byte_length,
            "last_hash": self.last_hash,
            "tree": self.tree.to_json(),
        }


@dataclass(frozen=True)
class Appended:
    """The outcome of one append."""

    index: int
    record_hash: str
    """Hex BLAKE3-256 of the record's canonical bytes."""
    record: Mapping[str, Any]
    checkpoint: Checkpoint
    signed_checkpoint: bytes


def record_hash(record_bytes: bytes) -> str:
    """Hex BLAKE3-256 of a record's canonical bytes: what the next record's previous_hash names."""
    return blake3.blake3(record_bytes).hexdigest()


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
    if (path / LEDGER_FILE).exists():
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
    write_atomically(path / LEDGER_FILE, canonical.encode(meta) + b"\n")
    fsync_directory(path.parent)
    return read_meta(path)


def _rebuild_state(data: bytes, *, path: Path) -> AppendState:
    lines, tail = split_lines(data)
    if tail:
        raise LedgerError(
            f"{path / RECORDS_FILE}: torn tail of {len(tail)} bytes after record {len(lines) - 1} "
            "(a write was interrupted); run 'bias-ledger fsck' to inspect and "
            "'bias-ledger fsck --repair' to truncate it"
        )
    if lines:
        _require_entry(lines[-1], len(lines) - 1, path=path)
    tree = CompactRange.of(BLAKE3_HASHER, (BLAKE3_HASHER.hash_leaf(line) for line in lines))
    last = _line_record_hash(lines[-1]) if lines else None
    return AppendState(size=len(lines), byte_length=len(data), last_hash=last, tree=tree)


def _require_entry(line: bytes, index: int, *, path: Path) -> None:
    """Refuse to chain a new record onto a line that is not an entry (fsck can drop it)."""
    try:
        parse_line(line, where=f"{path / RECORDS_FILE} record {index}")
    except VerificationError as exc:
        raise LedgerError(
            f"{exc.message}; the last record is unreadable, so nothing can be appended after "
            "it: run 'bias-ledger fsck' to inspect and 'bias-ledger fsck --repair' to drop it"
        ) from exc


def _line_record_hash(line: bytes) -> str:
    record_bytes, _, _ = line.partition(b"\t")
    return record_hash(record_bytes)


def _load_state(path: Path) -> AppendState:
    """The append state, catching up on lines appended after the last state write."""
    records_path = path / RECORDS_FILE
    data_size = records_path.stat().st_size if records_path.exists() else 0
    state: AppendState | None = None
    try:
        raw = json.loads((path / STATE_FILE).read_bytes())
        state = AppendState(
            size=int(raw["size"]),
            byte_length=int(raw["byte_length"]),
            last_hash=raw["last_hash"],
            tree=CompactRange.from_json(raw["tree"], source=str(path / STATE_FILE)),
        )
    except (OSError, ValueError, KeyError, TypeError, LedgerError):
        state = None
    if state is not None and state.byte_length == data_size and _agrees(path, state):
        return state
    # No usable cache (missing, stale or disagreeing with the records, as after a crash between
    # writing a record and the state): rebuild it from the records themselves.
    return _rebuild_state(records_path.read_bytes() if data_size else b"", path=path)


def _last_line(path: Path, size: int) -> bytes:
    """The last complete line of ``records.log`` (which ends in a newline), read from its end."""
    step = 1 << 16
    with path.open("rb") as handle:
        span = min(size, step)
        while True:
            handle.seek(size - span)
            block = handle.read(span)
            start = block.rfind(b"\n", 0, len(block) - 1)
            if start >= 0 or span == size:
                return block[start + 1 : -1]
            span = min(size, span * 2)


def _agrees(path: Path, state: AppendState) -> bool:
    """The cached state names the last record's hash and the checkpoint's root, as it must.

    Cheap (the file's tail and the checkpoint): a cache corrupted on disk or edited would
    otherwise chain the next record to the wrong hash or sign a wrong root.
    """
    if state.size == 0:
        return state.last_hash is None and state.tree.size == 0
    if state.tree.size != state.size:
        return False
    if _line_record_hash(_last_line(path / RECORDS_FILE, state.byte_length)) != state.last_hash:
        return False
    checkpoint_path = path / CHECKPOINT_FILE
    if not checkpoint_path.exists():
        return True
    try:
        checkpoint, _ = parse_signed_checkpoint(
            checkpoint_path.read_bytes(), source=str(checkpoint_path)
        )
    except VerificationError:
        return True  # verify and fsck report a damaged checkpoint; the records decide here
    if checkpoint.size != state.size:
        return True  # a crash between the record and its checkpoint: the next append heals it
    return checkpoint.root_hash == state.tree.root(BLAKE3_HASHER)


def ledger_lock(path: Path) -> FileLock:
    """The lock that serialises writers of one ledger (readers need none)."""
    return FileLock(str(path / LOCK_FILE), timeout=LOCK_TIMEOUT_SECONDS)


def append_record(
    path: Path,
    kind: RecordKind,
    payload: Mapping[str, Any],
    key: Ed25519PrivateKey,
    *,
    labels: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Appended:
    """Sign and append one record, then sign and store a checkpoint covering it."""
    meta = read_meta(path)
    public = key.public_key()
    signer = Signer(fingerprint=fingerprint(public), public_key=public_key_openssh(public))
    if meta.format_version == 2:
        return _append_v2(path, meta.origin, kind, payload, key, labels=labels, clock=clock)
    try:
        with ledger_lock(path):
            state = _load_state(path)
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
            signature = dearmor(
                sshsig.sign(key, record_bytes, namespace=NAMESPACE), where="new signature"
            )
            line = Entry(record_bytes=record_bytes, signature=signature).line()
            size_after = append_durably(path / RECORDS_FILE, line + b"\n")
            tree = state.tree.append(BLAKE3_HASHER, BLAKE3_HASHER.hash_leaf(line))
            checkpoint = Checkpoint(
                origin=meta.origin, size=tree.size, root_hash=tree.root(BLAKE3_HASHER)
            )
            signed = sign_checkpoint(checkpoint, key)
            write_atomically(path / CHECKPOINT_FILE, signed)
            new_state = AppendState(
                size=tree.size,
                byte_length=size_after,
                last_hash=record_hash(record_bytes),
                tree=tree,
            )
            write_atomically(path / STATE_FILE, canonical.encode(new_state.to_json()) + b"\n")
    except Timeout as exc:
        raise LedgerError(
            f"{path / LOCK_FILE}: another process has held the ledger lock for over "
            f"{LOCK_TIMEOUT_SECONDS:.0f} s"
        ) from exc
    return Appended(
        index=header.index,
        record_hash=record_hash(record_bytes),
        record=record,
        checkpoint=checkpoint,
        signed_checkpoint=signed,
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

    try:
        with ledger_lock(path):
            done = append_record_v2(path, origin, kind, payload, key, labels=labels, clock=clock)
    except Timeout as exc:
        raise LedgerError(
            f"{path / LOCK_FILE}: another process has held the ledger lock for over "
            f"{LOCK_TIMEOUT_SECONDS:.0f} s"
        ) from exc
    checkpoint = Checkpoint(done.checkpoint.origin, done.checkpoint.size, done.checkpoint.root_hash)
    return Appended(done.index, done.record_hash, done.record, checkpoint, done.signed_checkpoint)


def rebuild_state_file(path: Path) -> AppendState:
    """Recompute ``state.json`` from ``records.log`` (the caller holds the ledger lock)."""
    records_path = path / RECORDS_FILE
    state = _rebuild_state(records_path.read_bytes() if records_path.exists() else b"", path=path)
    write_atomically(path / STATE_FILE, canonical.encode(state.to_json()) + b"\n")
    return state
