"""Reading a format-2 log's entries and records in order, one entry bundle at a time."""

from __future__ import annotations

import base64
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import blake3

from bias_ledger.errors import LedgerError, VerificationError
from bias_ledger.ledger import note
from bias_ledger.ledger.tlog_checkpoint import Checkpoint, parse_checkpoint
from bias_ledger.ledger.tlog_entry import LogEntry, parse_entry, record_path
from bias_ledger.ledger.tlog_source import (
    MAX_CHECKPOINT_BYTES,
    MAX_FETCH_BYTES,
    DirectorySource,
    FileTooLarge,
    LogSource,
    read_tile,
)
from bias_ledger.ledger.tlog_tiles import ENTRIES_LEVEL, decode_bundle, tiles_of

CHECKPOINT_FILE = "checkpoint"


@dataclass(frozen=True)
class LoggedRecord:
    """One entry of the log with the record it names (the record's hash is checked)."""

    entry_bytes: bytes
    """The entry exactly as stored in its bundle: the Merkle leaf data."""
    entry: LogEntry
    record_bytes: bytes


def read_signed_checkpoint(source: LogSource) -> tuple[bytes, Checkpoint]:
    """The ``checkpoint`` file and its parsed body (signatures are checked by the verifier);
    one larger than a checkpoint may be is refused before it is read whole."""
    try:
        data = source.read(CHECKPOINT_FILE, limit=MAX_CHECKPOINT_BYTES)
    except FileTooLarge as exc:
        raise VerificationError(
            f"{exc.message}: a checkpoint is a signed note of at most {MAX_CHECKPOINT_BYTES} "
            "bytes (docs/FORMAT.md)"
        ) from None
    if data is None:
        raise VerificationError(f"{source.name}/{CHECKPOINT_FILE}: no checkpoint")
    signed = note.parse_note(data, f"{source.name}/{CHECKPOINT_FILE}")
    return data, parse_checkpoint(signed.text, f"{source.name}/{CHECKPOINT_FILE}")


def iter_entries(source: LogSource, size: int, start: int = 0) -> Iterator[tuple[int, bytes]]:
    """(index, entry bytes) of leaves ``start`` to ``size - 1``, a bundle at a time."""
    for tile in tiles_of(size, ENTRIES_LEVEL):
        first = tile.index * 256
        if first + tile.width <= start:
            continue
        where = f"{source.name}/{tile.path()}"
        entries = decode_bundle(read_tile(source, tile), tile.width, where=where)
        for offset, data in enumerate(entries):
            if first + offset >= start:
                yield first + offset, data


def read_record(source: LogSource, entry: LogEntry, *, where: str) -> bytes:
    """The record an entry names, checked against its BLAKE3 hash and size (one larger than
    the entry says is refused before it is read whole, so a reader holding records in flight
    holds at most the sizes their entries give)."""
    path = record_path(entry.record)
    try:
        data = source.read(path, limit=min(entry.size, MAX_FETCH_BYTES))
    except FileTooLarge as exc:
        raise VerificationError(
            f"{where}: {exc.message}, larger than the entry's {entry.size} bytes "
            "(the record was altered)"
        ) from None
    if data is None:
        raise VerificationError(f"{where}: {source.name}/{path} is missing")
    if len(data) != entry.size or blake3.blake3(data).hexdigest() != entry.record:
        raise VerificationError(
            f"{where}: {source.name}/{path} does not hash to {entry.record} "
            "(the record was altered)"
        )
    return data


READ_AHEAD = 32
"""Records fetched (and hashed) ahead of the one being verified: the reads overlap the
signature checks, and memory stays bounded by a few dozen records, not the log."""


def iter_records(source: LogSource, size: int, start: int = 0) -> Iterator[LoggedRecord]:
    """Entries and their records in log order (records read ahead on a few threads)."""
    workers = getattr(source, "read_workers", 4)
    window: deque[tuple[bytes, LogEntry, Future[bytes]]] = deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for index, data in iter_entries(source, size, start):
            where = f"{source.name} record {index}"
            entry = parse_entry(data, where=where)
            if entry.index != index:
                raise VerificationError(f"{where}: expected index {index}, found {entry.index}")
            window.append((data, entry, pool.submit(read_record, source, entry, where=where)))
            if len(window) >= READ_AHEAD:
                data, entry, pending = window.popleft()
                yield LoggedRecord(data, entry, pending.result())
        while window:
            data, entry, pending = window.popleft()
            yield LoggedRecord(data, entry, pending.result())


def v1_lines(path: Path) -> tuple[tuple[bytes, ...], bytes | None]:
    """A format-2 ledger's records as format-1 style lines (``record TAB base64 signature``)
    and its checkpoint, for the readers that show or gate on records."""
    source = DirectorySource(path)
    if source.read(CHECKPOINT_FILE) is None:
        return (), None
    try:
        data, checkpoint = read_signed_checkpoint(source)
        lines = tuple(
            item.record_bytes + b"\t" + base64.b64encode(item.entry.signature)
            for item in iter_records(source, checkpoint.size)
        )
    except VerificationError as exc:
        raise LedgerError(f"{exc.message}; run 'bias-ledger verify'") from exc
    return lines, data
