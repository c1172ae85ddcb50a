"""The per-record checks of a format-2 log, one entry bundle (256 records) at a time.

Everything about a record that needs no earlier record is checked here: the entry's canonical
form and index, the record's size and BLAKE3 against the entry, its strict JSON and header
against the entry and the log's origin, the signer fingerprint against the key, the SSHSIG
signature, and the payload fields later checks need (what an approval names, the key a
rotation introduces). What remains, checked in order by ``tlog_verify``, is a few comparisons
per record (the chain, references, trust, tiles), so bundles can be checked on every core:
:func:`check_bundle` is what a worker process runs. Memory: one bundle's entries and one
record at a time.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.canonical import parse_json
from bias_ledger.ledger.entry_checks import PARALLEL_THRESHOLD
from bias_ledger.ledger.key_records import key_of, revocation_target, rotation_successor
from bias_ledger.ledger.keys import fingerprint
from bias_ledger.ledger.record import RecordHeader, RecordKind, parse_header
from bias_ledger.ledger.tlog_entry import LogEntry, parse_entry
from bias_ledger.ledger.tlog_read import read_record
from bias_ledger.ledger.tlog_sig import blob_prefix, check_signature
from bias_ledger.ledger.tlog_source import DirectorySource, HttpSource, LogSource, read_tile
from bias_ledger.ledger.tlog_tiles import ENTRIES_LEVEL, Tile, decode_bundle, leaf_hash, tiles_of

RECORD_FORMAT_VERSION = 2
_VERSIONS = frozenset({RECORD_FORMAT_VERSION})
_REFERENCES = {RecordKind.APPROVAL: "approves", RecordKind.GATE: "judges"}


@dataclass(frozen=True)
class RecordFacts:
    """What the in-order checks need of one checked record (a few hundred bytes)."""

    index: int
    kind: str
    record: str
    """Hex BLAKE3 of the record (the entry's ``record``)."""
    previous_hash: str | None
    timestamp: str
    fingerprint: str
    public_key: str
    """The signer's OpenSSH line, as the record holds it."""
    leaf: bytes
    """RFC 6962 leaf hash of the entry."""
    reference: tuple[int, str] | None = None
    """For an approval (gate verdict): the index and record hash it names."""
    new_key: str | None = None
    """For a key rotation: the OpenSSH line of the key it introduces."""
    revokes: tuple[str, int] | None = None
    """For a key revocation: the revoked fingerprint and its ``invalid_after``."""


class _Keys:
    """Parsed keys by OpenSSH line: a log has few signers and many records."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[Ed25519PublicKey, bytes, str]] = {}

    def get(self, line: str, where: str) -> tuple[Ed25519PublicKey, bytes, str]:
        known = self._known.get(line)
        if known is None:
            key = key_of(line, where=f"{where} signer public_key")
            known = self._known[line] = (key, blob_prefix(key), fingerprint(key))
        return known


def _check_header(header: RecordHeader, entry: LogEntry, origin: str) -> str:
    """The first header field that disagrees with the entry and the log, or ""."""
    usual = (header.format_version, header.index, header.origin, header.kind.value)
    if usual == (RECORD_FORMAT_VERSION, entry.index, origin, entry.kind) and (
        header.timestamp == entry.timestamp and header.signer.fingerprint == entry.signer
    ):
        return ""  # the usual case, without building the table of messages below
    expected = {
        "format_version": (header.format_version, RECORD_FORMAT_VERSION),
        "index": (header.index, entry.index),
        "origin": (header.origin, origin),
        "kind": (header.kind.value, entry.kind),
        "timestamp": (header.timestamp, entry.timestamp),
        "signer": (header.signer.fingerprint, entry.signer),
    }
    for name, (found, wanted) in expected.items():
        if found != wanted:
            return f"record {name} is {found!r}, expected {wanted!r}"
    return ""


def _reference(payload: Any, header: RecordHeader, where: str) -> tuple[int, str] | None:
    field_name = _REFERENCES.get(header.kind)
    if field_name is None:
        return None
    target = payload.get(field_name) if isinstance(payload, dict) else None
    if target is None and header.kind is RecordKind.GATE:
        return None  # a verdict given with its own audit judges no earlier record
    if not isinstance(target, dict) or type(target.get("index")) is not int:
        raise VerificationError(
            f"{where}: expected {field_name!r} naming a record's index and hash"
        )
    return target["index"], str(target.get("record_hash"))


def check_record(
    entry_bytes: bytes, entry: LogEntry, data: bytes, origin: str, keys: _Keys, where: str
) -> RecordFacts:
    """Check one record (already read and hashed against its entry) on its own."""
    record = parse_json(data, where=where)
    header = parse_header(record, where=where, versions=_VERSIONS)
    problem = _check_header(header, entry, origin)
    if problem:
        raise VerificationError(f"{where}: {problem}")
    key, prefix, found = keys.get(header.signer.public_key, where)
    if found != header.signer.fingerprint:
        raise VerificationError(
            f"{where}: signer fingerprint is {header.signer.fingerprint}, but its public_key "
            f"is the key {found}"
        )
    check_signature(entry.signature, data, key, where=where, prefix=prefix)
    payload = record[header.kind.value]
    new_key = revokes = None
    if header.kind is RecordKind.KEY_ROTATION:
        new_key = rotation_successor(payload, where=where, format_version=header.format_version)
    elif header.kind is RecordKind.KEY_REVOCATION:
        revokes = revocation_target(payload, where=where, format_version=header.format_version)
    return RecordFacts(
        index=entry.index,
        kind=entry.kind,
        record=entry.record,
        previous_hash=header.previous_hash,
        timestamp=header.timestamp,
        fingerprint=found,
        public_key=header.signer.public_key,
        leaf=leaf_hash(entry_bytes),
        reference=_reference(payload, header, where),
        new_key=new_key,
        revokes=revokes,
    )


@dataclass(frozen=True)
class BundleJob:
    """One entry bundle of a log to check: where the log is and which bundle."""

    location: str
    """A directory path or an ``http(s)://`` URL (a worker opens its own source)."""
    origin: str
    tile: int
    width: int


_SOURCES: dict[str, LogSource] = {}
_KEYS = _Keys()


def source_location(source: LogSource) -> str | None:
    """Where a worker process can open ``source`` again, or None if it cannot."""
    if isinstance(source, DirectorySource):
        return str(source.root)
    if isinstance(source, HttpSource):
        return source.name
    return None


def _open(location: str) -> LogSource:
    source = _SOURCES.get(location)
    if source is None:
        if location.startswith(("http://", "https://")):
            source = HttpSource(location)
        else:
            source = DirectorySource(Path(location))
        _SOURCES[location] = source
    return source


def check_bundle(
    job: BundleJob, source: LogSource | None = None
) -> tuple[list[RecordFacts], VerificationError | None]:
    """Check the records of one entry bundle in order: their facts up to the first fault,
    and that fault (so the caller reports faults in log order across bundles)."""
    source = source or _open(job.location)
    facts: list[RecordFacts] = []
    try:
        tile = Tile(ENTRIES_LEVEL, job.tile, job.width)
        where = f"{source.name}/{tile.path()}"
        entries = decode_bundle(read_tile(source, tile), job.width, where=where)
        first = job.tile * 256
        parsed = []
        for offset, entry_bytes in enumerate(entries):
            where = f"{source.name} record {first + offset}"
            entry = parse_entry(entry_bytes, where=where)
            if entry.index != first + offset:
                raise VerificationError(
                    f"{where}: expected index {first + offset}, found {entry.index}"
                )
            parsed.append((entry_bytes, entry, where))
        for entry_bytes, entry, where, data in _with_records(source, parsed):
            facts.append(check_record(entry_bytes, entry, data, job.origin, _KEYS, where))
    except VerificationError as exc:
        return facts, exc
    return facts, None


IN_FLIGHT_BYTES = 64 << 20
"""Records a worker fetches ahead hold at most this many bytes together (by their entries'
sizes, which the reads enforce), or one record if it alone is larger."""


def _with_records(
    source: LogSource, parsed: list[tuple[bytes, LogEntry, str]]
) -> Iterator[tuple[bytes, LogEntry, str, bytes]]:
    """Each parsed entry with its record's bytes, in order; an HTTP source has a window of
    requests in flight (twice its workers, at most IN_FLIGHT_BYTES of records)."""
    workers = source.workers if isinstance(source, HttpSource) else 1
    if workers <= 1:
        for entry_bytes, entry, where in parsed:
            yield entry_bytes, entry, where, read_record(source, entry, where=where)
        return
    window: deque[tuple[bytes, LogEntry, str, Future[bytes]]] = deque()
    held = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for entry_bytes, entry, where in parsed:
            while window and (len(window) >= 2 * workers or held + entry.size > IN_FLIGHT_BYTES):
                first = window.popleft()
                held -= first[1].size
                yield first[0], first[1], first[2], first[3].result()
            future = pool.submit(read_record, source, entry, where=where)
            window.append((entry_bytes, entry, where, future))
            held += entry.size
        while window:
            first = window.popleft()
            yield first[0], first[1], first[2], first[3].result()


def checked_bundles(
    source: LogSource, origin: str, size: int
) -> Iterator[tuple[list[RecordFacts], VerificationError | None]]:
    """The per-record checks of every entry bundle, in order; on every core for a large log
    (at most two bundles per worker in flight, so memory stays bounded)."""
    jobs = (
        BundleJob(source_location(source) or source.name, origin, tile.index, tile.width)
        for tile in tiles_of(size, ENTRIES_LEVEL)
    )
    workers = parallel_workers() if size >= PARALLEL_THRESHOLD else 0
    if not workers or source_location(source) is None:
        for job in jobs:
            yield check_bundle(job, source)
        return
    pending: deque[Future[tuple[list[RecordFacts], VerificationError | None]]] = deque()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for job in jobs:
            pending.append(pool.submit(check_bundle, job))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def parallel_workers() -> int:
    """Worker processes for a large log: one per core, none on a single core."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return count if count and count > 1 else 0
