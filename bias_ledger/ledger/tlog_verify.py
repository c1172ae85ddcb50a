"""Streaming verification of a format-2 log (a ledger directory, a published copy, a URL).

One pass over the entry bundles: each entry, its record (BLAKE3, SSHSIG, header), the hash
tiles against the leaves, the RFC 6962 root against the signed checkpoint note, trust and
rotations, and optionally a checkpoint kept earlier. Memory: one entry bundle, one record,
the O(log n) tree edge and 32 bytes per record (to check approvals name earlier records).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.errors import VerificationError
from bias_ledger.ledger import note
from bias_ledger.ledger.entry_checks import CheckedEntry, Step, record_links
from bias_ledger.ledger.key_history import KeyWalker, revocations_in_effect
from bias_ledger.ledger.keys import fingerprint, parse_public_key, public_key_openssh
from bias_ledger.ledger.merkle import SHA256_HASHER, CompactRange
from bias_ledger.ledger.record import RecordHeader, RecordKind, parse_header
from bias_ledger.ledger.tlog_checkpoint import Checkpoint, parse_checkpoint
from bias_ledger.ledger.tlog_entry import LogEntry, parse_entry
from bias_ledger.ledger.tlog_read import (
    LoggedRecord,
    iter_entries,
    iter_records,
    read_record,
    read_signed_checkpoint,
)
from bias_ledger.ledger.tlog_sig import blob_prefix, check_signature
from bias_ledger.ledger.tlog_source import LogSource
from bias_ledger.ledger.tlog_tiles import leaf_hash
from bias_ledger.ledger.tlog_tiles_check import TileChecker
from bias_ledger.ledger.trust import TrustedKeys


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
    trusted: TrustedKeys | None = None
    """The trusted keys after following rotations (None: integrity only)."""
    invalid: Mapping[int, str] = field(default_factory=dict)
    """Records signed by a key after it was rotated out or revoked, and why: never trusted."""

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


class _Trust:
    """Trust followed through the log by the one key walk (ledger/key_history.py): rotations
    signed by a trusted key extend it, rotated-out and revoked keys' later records are invalid."""

    def __init__(self, walker: KeyWalker | None) -> None:
        self.walker = walker
        self.principals: dict[str, str] = {}
        """Every signer seen (principals filled in by the walk, when there is trust)."""

    @property
    def trusted(self) -> TrustedKeys | None:
        return None if self.walker is None else self.walker.trusted

    def check(self, index: int, item: CheckedEntry) -> None:
        self.principals.setdefault(item.header.signer.fingerprint, "")
        if self.walker is not None:
            self.walker.add(index, item)


_KEY_KINDS = (RecordKind.KEY_ROTATION.value, RecordKind.KEY_REVOCATION.value)


def _checked(item: LoggedRecord, record: Any, header: RecordHeader, where: str) -> CheckedEntry:
    approves, new_key, revokes = record_links(record, header, where=where)
    return CheckedEntry(
        header, item.entry.record, leaf_hash(item.entry_bytes), approves, new_key, revokes
    )


def _key_walker(
    source: LogSource, size: int, trusted: TrustedKeys | None, trust_log_keys: bool
) -> KeyWalker | None:
    """The walk to feed the records to, knowing the revocations in effect (a revocation
    reaches back to records before it): a first pass over the entries reads only the key
    records. None without trust (integrity only)."""
    if trusted is None and not trust_log_keys:
        return None
    signers: set[str] = set()
    key_items: list[tuple[int, CheckedEntry]] = []
    for index, data in iter_entries(source, size):
        if trusted is None or b"key_r" in data:
            entry = parse_entry(data, where=f"{source.name} record {index}")
            signers.add(entry.signer)
            if entry.kind in _KEY_KINDS:
                where = f"{source.name} record {index}"
                logged = LoggedRecord(data, entry, read_record(source, entry, where=where))
                record = json.loads(logged.record_bytes)
                header = parse_header(record, where=where, versions=_VERSIONS)
                key_items.append((index, _checked(logged, record, header, where)))
    if trusted is None:
        trusted = TrustedKeys.from_fingerprints(sorted(signers), source="--trust-ledger-keys")
    revoked = revocations_in_effect(key_items, trusted, source=source.name)
    return KeyWalker(trusted, revoked, source=source.name)


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
        checked = _checked(item, record, header, where)
        if checked.approves is not None:
            target, digest = checked.approves
            stored = self.hashes[32 * target : 32 * target + 32].hex()
            if not 0 <= target < entry.index or stored != digest:
                raise VerificationError(
                    f"{where}: {header.kind.value} names record {target} with hash {digest}, "
                    "which is not an earlier record of this ledger"
                )
        self.trust.check(entry.index, checked)
        leaf = checked.leaf_hash
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
    walker = _key_walker(source, size, trusted, trust_log_keys)
    state = _Pass(checkpoint.origin, _Trust(walker), kept.size if kept else None)
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
    if trust.walker is None:
        if not trust_log_keys:
            raise UntrustedLogError(
                "no trusted key given: integrity verified, but the signers "
                f"({', '.join(trust.principals)}) are not trusted; pass --trusted-keys FILE, "
                "--trusted-key FINGERPRINT, or --trust-ledger-keys",
                tuple(steps),
                tuple(trust.principals),
            )
    else:
        walk = trust.walker.walk
        if trust_log_keys and trusted is None:
            warnings.append("trusting the keys found in the ledger itself (--trust-ledger-keys)")
        for index, why in walk.invalid.items():
            warnings.append(f"{name} record {index}: invalid, not trusted: {why}")
        who = walk.checkpoint_signer(log_key, size, what=f"{name}/checkpoint (tree size {size})")
        trust.principals.update(walk.principals)
        trust.principals = {fingerprint(log_key): who, **trust.principals}
        steps.append(
            Step(
                "trust",
                f"records and checkpoint signed by keys trusted in {walk.trusted.source}, "
                "following key rotations and revocations",
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
        trust.trusted,
        {} if trust.walker is None else dict(trust.walker.invalid),
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
