"""Checks of single ledger entries: format, header, signature and signer, on every core.

Part of the verifier's trusted core (standard library, blake3 and cryptography only); the
ledger and bundle verifiers build on these results.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import blake3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.errors import VerificationError
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.canonical import parse_json
from bias_ledger.ledger.entry import armor, parse_line
from bias_ledger.ledger.key_records import revocation_target, rotation_successor
from bias_ledger.ledger.keys import fingerprint, public_key_openssh
from bias_ledger.ledger.merkle import BLAKE3_HASHER
from bias_ledger.ledger.record import RecordHeader, RecordKind, parse_header
from bias_ledger.wording import with_article

PARALLEL_THRESHOLD = 2000
"""Ledgers with more records than this are checked on every core."""


@dataclass(frozen=True)
class Step:
    """One line of the checklist: what was verified, against what."""

    what: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"what": self.what, "detail": self.detail}


@dataclass(frozen=True)
class CheckedEntry:
    """What a verifier keeps of one entry after checking its bytes and signature."""

    header: RecordHeader
    record_hash: str
    """Hex BLAKE3-256 of the record bytes."""
    leaf_hash: bytes
    """RFC 9162 leaf hash of the whole entry line."""
    approves: tuple[int, str] | None = None
    """For an approval or a gate verdict: the index and hash of the record it refers to."""
    new_key: str | None = None
    """For a key rotation: the OpenSSH public key it introduces."""
    revokes: tuple[str, int] | None = None
    """For a key revocation: the revoked key's fingerprint and its ``invalid_after`` index."""


@functools.lru_cache(maxsize=256)
def _key_names(raw: bytes) -> tuple[str, str]:
    """Fingerprint and OpenSSH line of a raw Ed25519 key: a ledger has few signers."""
    key = Ed25519PublicKey.from_public_bytes(raw)
    return fingerprint(key), public_key_openssh(key)


def _signer_mismatch(header: RecordHeader, key: Ed25519PublicKey) -> str | None:
    """How the record's signer field disagrees with the key in its signature, if it does."""
    found, openssh = _key_names(key.public_bytes_raw())
    if found != header.signer.fingerprint:
        return (
            f"signer field names {header.signer.fingerprint}, but the signature was made by {found}"
        )
    if openssh != header.signer.public_key.strip():
        return "signer public_key does not match the signing key"
    return None


class AlteredRecord(VerificationError):
    """A record's signature does not match its bytes; ``position`` is the record's place."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position

    def __reduce__(self) -> tuple[type[AlteredRecord], tuple[str, int]]:
        return (type(self), (self.message, self.position))  # crosses the process pool


def _referenced(
    payload: object, field: str, where: str, *, required: bool
) -> tuple[int, str] | None:
    """The (index, record hash) an approval or gate verdict refers to."""
    target = payload.get(field) if isinstance(payload, dict) else None
    if target is None and not required:
        return None
    if not isinstance(target, dict) or type(target.get("index")) is not int:
        raise VerificationError(f"{where}: expected {field!r} naming a record's index and hash")
    return target["index"], str(target.get("record_hash"))


def check_reference(where: str, kind: str, reference: tuple[int, str], index: int) -> None:
    """An approval or gate verdict names an earlier record (FORMAT.md 4.4): one of every
    verifier's reference checks, shared so that each says it the same way."""
    target = reference[0]
    if not 0 <= target < index:
        raise VerificationError(
            f"{where}: {kind} names record {target}, which is not an earlier record of this ledger"
        )


def check_reference_kind(where: str, kind: str, target: int, target_kind: str) -> None:
    """An approval approves, and a gate verdict judges, only an audit record (FORMAT.md 4.4):
    an approval of an approval (or of a key record) would let a baseline resolve to something
    that was never audited."""
    if target_kind != RecordKind.AUDIT.value:
        raise VerificationError(
            f"{where}: {kind} names record {target}, which is {with_article(target_kind)} "
            f"record; {with_article(kind)} may name only an audit record"
        )


def record_links(
    record: Mapping[str, Any], header: RecordHeader, *, where: str
) -> tuple[tuple[int, str] | None, str | None, tuple[str, int] | None]:
    """What a record says about other records and keys, strictly read, in every format:
    (the record an approval or gate verdict names, a rotation's new key, a revocation's
    target and ``invalid_after``)."""
    approves = new_key = revokes = None
    payload = record[header.kind.value]
    if header.kind is RecordKind.APPROVAL:
        approves = _referenced(payload, "approves", where, required=True)
    elif header.kind is RecordKind.GATE:
        # `gate --record N` names the audit it judges; a verdict given with its own audit
        # is an audit record, so a gate record without "judges" refers to nothing.
        approves = _referenced(payload, "judges", where, required=False)
    elif header.kind is RecordKind.KEY_ROTATION:
        new_key = rotation_successor(payload, where=where, format_version=header.format_version)
    elif header.kind is RecordKind.KEY_REVOCATION:
        revokes = revocation_target(payload, where=where, format_version=header.format_version)
    return approves, new_key, revokes


def check_entry(
    line: bytes, position: int, *, source: str, versions: frozenset[int] = frozenset({1})
) -> CheckedEntry:
    """Check one entry on its own: format, header, signature, and the signer field's key.

    ``versions``: the record format versions the ledger may hold (a format-2 ledger's records,
    read as format-1 style lines, are format 2)."""
    where = f"{source} record {position}"
    entry = parse_line(line, where=where)
    record = parse_json(entry.record_bytes, where=where)
    header = parse_header(record, where=where, versions=versions)
    armored = armor(entry.signature)
    try:
        signer = sshsig.verify(armored, entry.record_bytes)
    except VerificationError as exc:
        # Parsing the signature twice only on failure keeps the common path fast, and an
        # edited signer field is reported as such rather than as a bad signature.
        mismatch = None
        with contextlib.suppress(VerificationError):
            mismatch = _signer_mismatch(header, sshsig.embedded_public_key(armored))
        if mismatch:
            raise VerificationError(f"{where}: {mismatch}") from exc
        raise AlteredRecord(
            f"{where}: {exc.message} (the record bytes were changed after signing)", position
        ) from exc
    mismatch = _signer_mismatch(header, signer)
    if mismatch:
        raise VerificationError(f"{where}: {mismatch}")
    approves, new_key, revokes = record_links(record, header, where=where)
    return CheckedEntry(
        header=header,
        record_hash=blake3.blake3(entry.record_bytes).hexdigest(),
        leaf_hash=BLAKE3_HASHER.hash_leaf(line),
        approves=approves,
        new_key=new_key,
        revokes=revokes,
    )


def _check_chunk(
    args: tuple[Sequence[bytes], int, str, frozenset[int]],
) -> list[CheckedEntry]:
    lines, start, source, versions = args
    return [
        check_entry(line, start + i, source=source, versions=versions)
        for i, line in enumerate(lines)
    ]


def check_entries(
    lines: Sequence[bytes],
    *,
    source: str,
    first_index: int = 0,
    versions: frozenset[int] = frozenset({1}),
) -> list[CheckedEntry]:
    """Check every entry, in parallel on every core for large ledgers; first failure raises."""
    workers = os.cpu_count() or 1
    if len(lines) <= PARALLEL_THRESHOLD or workers == 1:
        return _check_chunk((lines, first_index, source, versions))
    size = max(256, len(lines) // (workers * 8))
    chunks = [
        (lines[i : i + size], first_index + i, source, versions) for i in range(0, len(lines), size)
    ]
    checked: list[CheckedEntry] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(_check_chunk, chunks):
            checked.extend(part)
    return checked
