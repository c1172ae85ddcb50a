"""Streaming verification of a format-2 log (a ledger directory, a published copy, a URL).

One pass over the entry bundles: each entry, its record (BLAKE3, SSHSIG, header), the hash
tiles against the leaves, the RFC 6962 root against the signed checkpoint note, trust and
rotations, and optionally a checkpoint kept earlier. Memory: one entry bundle, one record,
the O(log n) tree edge and 32 bytes per record (to check approvals name earlier records).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.errors import VerificationError
from bias_ledger.ledger import note
from bias_ledger.ledger.entry_checks import Step
from bias_ledger.ledger.keys import fingerprint, parse_public_key, public_key_openssh
from bias_ledger.ledger.merkle import SHA256_HASHER, CompactRange
from bias_ledger.ledger.record import RecordHeader, RecordKind, parse_header
from bias_ledger.ledger.tlog_checkpoint import Checkpoint, parse_checkpoint
from bias_ledger.ledger.tlog_entry import LogEntry
from bias_ledger.ledger.tlog_read import LoggedRecord, iter_records, read_signed_checkpoint
from bias_ledger.ledger.tlog_sig import blob_prefix, check_signature
from bias_ledger.ledger.tlog_source import LogSource
from bias_ledger.ledger.tlog_tiles import leaf_hash
from bias_ledger.ledger.tlog_tiles_check import TileChecker
from bias_ledger.ledger.trust import TrustedKey, TrustedKeys


@dataclass(frozen=True)
class LogVerification:
    """The outcome of a successful verification of a format-2 log."""

    origin: str
    size: int
    checkpoint: Checkpoint
    signed_checkpoint: bytes
    signers: tuple[tuple[str, str], ...]
    steps: tuple[Step, ...]
    warnings: tuple[str, ...] = field(default=())
    checkpoint_signer: str = ""
    """The OpenSSH public key line of the key whose note signature the checkpoint carries."""

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": True,
            "format_version": 2,
            "origin": self.origin,
            "size": self.size,
            "checkpoint": {
                "origin": self.checkpoint.origin,
                "size": self.checkpoint.size,
                "root_hash": self.checkpoint.root_hash.hex(),
            },
            "signers": [{"fingerprint": fp, "principal": who} for fp, who in self.signers],
            "steps": [step.to_json() for step in self.steps],
            "warnings": list(self.warnings),
        }


class UntrustedLogError(VerificationError):
    """Integrity holds but no trust anchor was given; the signers are attached."""

    def __init__(self, message: str, steps: tuple[Step, ...], signers: tuple[str, ...]) -> None:
        super().__init__(message)
        self.steps = steps
        self.signers = signers


def _timestamp(header: RecordHeader) -> datetime:
    return datetime.fromisoformat(header.timestamp.replace("Z", "+00:00"))


class _Trust:
    """Trust followed through the log: rotations signed by a trusted key extend it."""

    def __init__(self, trusted: TrustedKeys | None) -> None:
        self.trusted = trusted
        self.principals: dict[str, str] = {}

    def check(
        self, key: Ed25519PublicKey, header: RecordHeader, new_key: str | None, where: str
    ) -> None:
        if self.trusted is None:
            self.principals.setdefault(header.signer.fingerprint, "")
            return
        entry = self.trusted.require(key, what=where, at=_timestamp(header))
        self.principals[header.signer.fingerprint] = entry.principals
        if new_key is not None:
            successor_key = parse_public_key(new_key, source=f"{where} new_public_key")
            successor = TrustedKey(
                fingerprint(successor_key),
                entry.principals,
                public_key=successor_key,
                origin=f"rotation in {where} from {header.signer.fingerprint}",
            )
            keys = {**self.trusted.keys, successor.fingerprint: successor}
            self.trusted = replace(self.trusted, keys=keys)


def _payload_reference(
    record: dict[str, Any], header: RecordHeader, where: str
) -> tuple[int, str] | None:
    payload = record.get(header.kind.value)
    field_name = {RecordKind.APPROVAL: "approves", RecordKind.GATE: "judges"}.get(header.kind)
    if field_name is None:
        return None
    target = payload.get(field_name) if isinstance(payload, dict) else None
    if target is None and header.kind is RecordKind.GATE:
        return None
    if not isinstance(target, dict) or type(target.get("index")) is not int:
        raise VerificationError(
            f"{where}: expected {field_name!r} naming a record's index and hash"
        )
    return target["index"], str(target.get("record_hash"))


_EXPECTED_VERSION = 2
_VERSIONS = frozenset({_EXPECTED_VERSION})


class _Keys:
    """Parsed public keys by OpenSSH line: a ledger has few signers and many records."""

    def __init__(self) -> None:
        self.by_line: dict[str, Ed25519PublicKey] = {}
        self.prefixes: dict[str, bytes] = {}

    def get(self, line: str, where: str) -> tuple[Ed25519PublicKey, bytes]:
        key = self.by_line.get(line)
        if key is None:
            key = self.by_line[line] = parse_public_key(line, source=where)
            self.prefixes[line] = blob_prefix(key)
        return key, self.prefixes[line]


def _check_header(header: RecordHeader, entry: LogEntry, origin: str, previous: str | None) -> str:
    """The first header field that disagrees with the entry and the log, or ""."""
    expected = {
        "format_version": (header.format_version, _EXPECTED_VERSION),
        "index": (header.index, entry.index),
        "origin": (header.origin, origin),
        "previous_hash": (header.previous_hash, previous),
        "kind": (header.kind.value, entry.kind),
        "timestamp": (header.timestamp, entry.timestamp),
        "signer": (header.signer.fingerprint, entry.signer),
    }
    for name, (found, wanted) in expected.items():
        if found != wanted:
            return f"record {name} is {found!r}, expected {wanted!r}"
    return ""


def _rotation(record: dict[str, Any], header: RecordHeader, where: str) -> str | None:
    if header.kind is not RecordKind.KEY_ROTATION:
        return None
    payload = record.get("key_rotation")
    new_key = payload.get("new_public_key") if isinstance(payload, dict) else None
    if not isinstance(new_key, str):
        raise VerificationError(f"{where}: key rotation must hold 'new_public_key'")
    return new_key


@dataclass
class _Pass:
    """The state of one streaming pass over the log."""

    origin: str
    trust: _Trust
    kept_size: int | None
    keys: _Keys = field(default_factory=_Keys)
    tree: CompactRange = field(default_factory=lambda: CompactRange(0))
    hashes: bytearray = field(default_factory=bytearray)
    previous: str | None = None
    kept_root: bytes | None = None

    def record(self, item: LoggedRecord, where: str) -> bytes:
        """Check one entry and its record; return its leaf hash."""
        entry = item.entry
        try:
            record = json.loads(item.record_bytes)
        except ValueError as exc:
            raise VerificationError(f"{where}: record is not JSON ({exc})") from exc
        header = parse_header(record, where=where, versions=_VERSIONS)
        problem = _check_header(header, entry, self.origin, self.previous)
        if problem:
            raise VerificationError(f"{where}: {problem}")
        key, prefix = self.keys.get(header.signer.public_key, where)
        check_signature(entry.signature, item.record_bytes, key, where=where, prefix=prefix)
        reference = _payload_reference(record, header, where)
        if reference is not None:
            target, digest = reference
            stored = self.hashes[32 * target : 32 * target + 32].hex()
            if not 0 <= target < entry.index or stored != digest:
                raise VerificationError(
                    f"{where}: {header.kind.value} names record {target} with hash {digest}, "
                    "which is not an earlier record of this ledger"
                )
        self.trust.check(key, header, _rotation(record, header, where), where)
        leaf = leaf_hash(item.entry_bytes)
        self.tree = self.tree.append(SHA256_HASHER, leaf)
        if self.tree.size == self.kept_size:
            self.kept_root = self.tree.root(SHA256_HASHER)
        self.previous = entry.record
        self.hashes += bytes.fromhex(entry.record)
        return leaf


def verify_log(
    source: LogSource,
    *,
    trusted: TrustedKeys | None,
    trust_log_keys: bool = False,
    origin: str | None = None,
    since: tuple[bytes, str] | None = None,
) -> LogVerification:
    """Verify the whole log in ``source``; raise :class:`VerificationError` at the first fault."""
    signed, checkpoint = read_signed_checkpoint(source)
    name, size = source.name, checkpoint.size
    if origin is not None and checkpoint.origin != origin:
        raise VerificationError(
            f"{name}/checkpoint: expected origin {origin!r}, found {checkpoint.origin!r}"
        )
    if size == 0:
        raise VerificationError(f"{name}: the log holds no records: nothing to verify")
    kept = _parse_kept(since, checkpoint.origin, size) if since else None
    state = _Pass(checkpoint.origin, _Trust(trusted), kept.size if kept else None)
    tiles = TileChecker(source, size)
    for item in iter_records(source, size):
        tiles.add_leaf(state.record(item, f"{name} record {item.entry.index}"))
    tiles.finish()
    steps = [
        Step("format", "ledger format version 2 (C2SP tlog-tiles, RFC 6962 SHA-256)"),
        Step("records", f"{size} entries and records: BLAKE3, header, chain"),
        Step("signatures", f"{size} SSHSIG Ed25519 signatures over record bytes"),
        Step("tiles", "every hash tile equals the hashes of the entries"),
    ]
    root = state.tree.root(SHA256_HASHER)
    if root != checkpoint.root_hash:
        raise VerificationError(
            f"{name}/checkpoint: expected root hash {checkpoint.root_hash.hex()} over "
            f"{size} entries, computed {root.hex()} (entries were altered)"
        )
    signers = state.keys.by_line.values()
    log_key = _checkpoint_key(signed, checkpoint.origin, signers, f"{name}/checkpoint")
    steps.append(Step("checkpoint", f"RFC 6962 root of {size} entries matches the signed note"))
    warnings: list[str] = []
    trust = state.trust
    if trust.trusted is None:
        if not trust_log_keys:
            raise UntrustedLogError(
                "no trusted key given: integrity verified, but the signers "
                f"({', '.join(trust.principals)}) are not trusted; pass --trusted-keys FILE, "
                "--trusted-key FINGERPRINT, or --trust-ledger-keys",
                tuple(steps),
                tuple(trust.principals),
            )
        warnings.append("trusting the keys found in the ledger itself (--trust-ledger-keys)")
    else:
        trust.trusted.require(log_key, what=f"{name}/checkpoint (tree size {size})")
        steps.append(
            Step(
                "trust", f"records and checkpoint signed by keys trusted in {trust.trusted.source}"
            )
        )
    if kept is not None and since is not None:
        steps.append(_check_kept(kept, state.kept_root, since, signers, trust.trusted, size))
    principals = tuple(trust.principals.items())
    return LogVerification(
        checkpoint.origin,
        size,
        checkpoint,
        signed,
        principals,
        tuple(steps),
        tuple(warnings),
        public_key_openssh(log_key),
    )


def _check_kept(
    kept: Checkpoint,
    root: bytes | None,
    since: tuple[bytes, str],
    signers: Any,
    trusted: TrustedKeys | None,
    size: int,
) -> Step:
    if root != kept.root_hash:
        computed = root.hex() if root else "?"
        raise VerificationError(
            f"fork: at size {kept.size} the log's root is {computed}, but the checkpoint "
            f"you kept ({since[1]}) says {kept.root_hash.hex()}: the history was rewritten"
        )
    kept_key = _checkpoint_key(since[0], kept.origin, signers, since[1])
    if trusted is not None:
        trusted.require(kept_key, what=f"{since[1]} (kept checkpoint, tree size {kept.size})")
    return Step(
        "since",
        f"the log (size {size}) extends the checkpoint kept in {since[1]} (size {kept.size})",
    )


def _parse_kept(since: tuple[bytes, str], origin: str, size: int) -> Checkpoint:
    data, where = since
    kept = parse_checkpoint(note.parse_note(data, where).text, where)
    if kept.origin != origin:
        raise VerificationError(
            f"{where}: kept checkpoint is for origin {kept.origin!r}, this log is {origin!r}: "
            "not the same ledger"
        )
    if kept.size > size:
        raise VerificationError(
            f"rollback: the log holds {size} records, fewer than the {kept.size} of the "
            f"checkpoint you kept ({where})"
        )
    if kept.size == 0:
        raise VerificationError(f"{where}: a kept checkpoint of size 0 proves nothing")
    return kept


def _checkpoint_key(
    data: bytes, origin: str, keys: Iterable[Ed25519PublicKey], where: str
) -> Ed25519PublicKey:
    """The record-signing key whose Ed25519 note signature, named ``origin``, is valid."""
    candidates = {note.note_verifier(origin, key): key for key in keys}
    opened = note.open_note(data, candidates, where)
    return candidates[opened.verified_by[0]]
