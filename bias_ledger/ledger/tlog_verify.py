"""Streaming verification of a format-2 log (a ledger directory, a published copy, a URL).

One pass over the entry bundles: each entry, its record (BLAKE3, SSHSIG, header), the hash
tiles against the leaves, the RFC 6962 root against the signed checkpoint note, trust and
rotations, and optionally a checkpoint kept earlier. The per-record checks run bundle by
bundle on every core for a large log (``tlog_check``); the in-order ones here. Memory: a few
entry bundles, one record per worker, the O(log n) tree edge and one tile per level; approvals
are checked against their target's entry read back from its bundle, not a table of hashes.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.errors import VerificationError
from bias_ledger.ledger import note
from bias_ledger.ledger.entry_checks import CheckedEntry, Step, check_reference_kind, record_links
from bias_ledger.ledger.key_history import KeyWalker, revocations_in_effect
from bias_ledger.ledger.keys import fingerprint, parse_public_key, public_key_openssh
from bias_ledger.ledger.merkle import SHA256_HASHER, CompactRange
from bias_ledger.ledger.record import RecordHeader, RecordKind, Signer, parse_header
from bias_ledger.ledger.tlog_check import RecordFacts, checked_bundles
from bias_ledger.ledger.tlog_checkpoint import Checkpoint, parse_checkpoint
from bias_ledger.ledger.tlog_entry import LogEntry, parse_entry
from bias_ledger.ledger.tlog_read import iter_entries, read_record, read_signed_checkpoint
from bias_ledger.ledger.tlog_source import LogSource, read_tile
from bias_ledger.ledger.tlog_tiles import ENTRIES_LEVEL, TILE_WIDTH, Tile, decode_bundle
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

    def __init__(self, first: tuple[KeyWalker, Mapping[int, str]] | None) -> None:
        self.walker = None if first is None else first[0]
        self.key_records: Mapping[int, str] = {} if first is None else first[1]
        """The key records of the first read (index to record hash): the revocations the
        walk knows were found in them, so the verified read must show the same ones."""
        self.seen = 0
        self.principals: dict[str, str] = {}
        """Every signer seen (principals filled in by the walk, when there is trust)."""

    @property
    def trusted(self) -> TrustedKeys | None:
        return None if self.walker is None else self.walker.trusted

    def check(self, key: Ed25519PublicKey, facts: RecordFacts, where: str) -> None:
        self.principals.setdefault(facts.fingerprint, "")
        if self.walker is not None:
            if facts.kind in _KEY_KINDS:
                self._same_as_first(facts, where)
            self.walker.add(facts.index, _entry(facts))

    def _same_as_first(self, facts: RecordFacts, where: str) -> None:
        """Refuse a key record the first read did not show as it is: a server (or a directory
        being rewritten) that answered the first read without a revocation would otherwise
        hide it, the verified read's records and root all correct."""
        shown = self.key_records.get(facts.index)
        if shown != facts.record:
            first = "did not show" if shown is None else f"showed with record hash {shown}"
            raise VerificationError(
                f"{where}: a {facts.kind} record that the first read of the log {first}: the "
                "log changed while it was read, or its server answered the same request "
                "differently; the revocations in effect are unknown (verify again)"
            )
        self.seen += 1

    def finish(self, name: str) -> None:
        """Refuse a key record of the first read that the verified read did not show."""
        if self.walker is not None and self.seen != len(self.key_records):
            raise VerificationError(
                f"{name}: the first read of the log showed {len(self.key_records)} key "
                f"record(s), the verified read {self.seen}: the log changed while it was read, "
                "or its server answered the same request differently (verify again)"
            )


def _entry(facts: RecordFacts) -> CheckedEntry:
    """The facts the key walk reads, in the shape it reads them (format 1's checked entry)."""
    header = RecordHeader(
        2,
        RecordKind(facts.kind),
        facts.index,
        facts.timestamp,
        facts.previous_hash,
        "",
        Signer(facts.fingerprint, facts.public_key),
    )
    return CheckedEntry(
        header, facts.record, facts.leaf, facts.reference, facts.new_key, facts.revokes
    )


_KEY_KINDS = (RecordKind.KEY_ROTATION.value, RecordKind.KEY_REVOCATION.value)


def _key_walker(
    source: LogSource, size: int, trusted: TrustedKeys | None, trust_log_keys: bool
) -> tuple[KeyWalker, dict[int, str]] | None:
    """The walk to feed the records to, knowing the revocations in effect (a revocation
    reaches back to records before it): a first pass over the entries reads only the key
    records, returned too (index to record hash) for the verified pass to compare. None
    without trust (integrity only)."""
    if trusted is None and not trust_log_keys:
        return None
    signers: set[str] = set()
    key_items: list[tuple[int, CheckedEntry]] = []
    for index, data in iter_entries(source, size):
        if trusted is None or b"key_r" in data:
            where = f"{source.name} record {index}"
            entry = parse_entry(data, where=where)
            signers.add(entry.signer)
            if entry.kind in _KEY_KINDS:
                record = json.loads(read_record(source, entry, where=where))
                header = parse_header(record, where=where, versions=frozenset({2}))
                approves, new_key, revokes = record_links(record, header, where=where)
                key_items.append(
                    (index, CheckedEntry(header, entry.record, b"", approves, new_key, revokes))
                )
    if trusted is None:
        trusted = TrustedKeys.from_fingerprints(sorted(signers), source="--trust-ledger-keys")
    revoked = revocations_in_effect(key_items, trusted, source=source.name)
    shown = {index: item.record_hash for index, item in key_items}
    return KeyWalker(trusted, revoked, source=source.name), shown


class _Earlier:
    """Earlier entries (record hash, kind), read back from their entry bundles when an
    approval or gate names one (a few bundles cached): memory does not grow with the log."""

    def __init__(self, source: LogSource, size: int) -> None:
        self.source = source
        self.size = size
        self._bundles: OrderedDict[int, list[bytes]] = OrderedDict()

    def entry(self, index: int) -> LogEntry:
        number = index // TILE_WIDTH
        entries = self._bundles.get(number)
        if entries is None:
            tile = Tile(ENTRIES_LEVEL, number, min(TILE_WIDTH, self.size - number * TILE_WIDTH))
            data = read_tile(self.source, tile)
            entries = decode_bundle(data, tile.width, where=f"{self.source.name}/{tile.path()}")
            self._bundles[number] = entries
            if len(self._bundles) > 4:
                self._bundles.popitem(last=False)
        where = f"{self.source.name} record {index}"
        return parse_entry(entries[index % TILE_WIDTH], where=where)


@dataclass
class _Pass:
    """The in-order state of one pass over the log: O(log n) tree state, one tile per level."""

    origin: str
    trust: _Trust
    kept_size: int | None
    earlier: _Earlier
    tiles: TileChecker
    keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    tree: CompactRange = field(default_factory=lambda: CompactRange(0))
    previous: str | None = None
    kept_root: bytes | None = None

    def add(self, facts: RecordFacts, where: str) -> None:
        """The checks of one record that need the records before it."""
        if facts.previous_hash != self.previous:
            raise VerificationError(
                f"{where}: record previous_hash is {facts.previous_hash!r}, "
                f"expected {self.previous!r}"
            )
        if facts.reference is not None:
            target, digest = facts.reference
            named = self.earlier.entry(target) if 0 <= target < facts.index else None
            if named is None or named.record != digest:
                raise VerificationError(
                    f"{where}: {facts.kind} names record {target} with hash {digest}, "
                    "which is not an earlier record of this ledger"
                )
            check_reference_kind(where, facts.kind, target, named.kind)
        key = self.keys.get(facts.public_key)
        if key is None:
            key = self.keys[facts.public_key] = parse_public_key(facts.public_key, source=where)
        self.trust.check(key, facts, where)
        self.tiles.add_leaf(facts.leaf)
        self.tree = self.tree.append(SHA256_HASHER, facts.leaf)
        if self.tree.size == self.kept_size:
            self.kept_root = self.tree.root(SHA256_HASHER)
        self.previous = facts.record


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
    kept = _parse_kept(since, checkpoint.origin) if since else None
    # C2SP tlog-tiles: a client MUST NOT fetch partial tiles before verifying a checkpoint
    # whose size requires them. A trusted key's signature is checked here, before anything
    # the checkpoint claims is read; one by a key the log rotated to can only be checked once
    # the rotation's records are read (``_unauthenticated`` then names the checkpoint).
    authenticated = _trusted_signer(signed, checkpoint.origin, trusted, f"{name}/checkpoint")
    state: _Pass | None = None
    try:
        tiles = TileChecker(source, size)
        state = _Pass(
            checkpoint.origin,
            _Trust(_key_walker(source, size, trusted, trust_log_keys)),
            kept.size if kept and kept.size <= size else None,
            _Earlier(source, size),
            tiles,
        )
        for checked, fault in checked_bundles(source, checkpoint.origin, size):
            for facts in checked:
                state.add(facts, f"{name} record {facts.index}")
            if fault is not None:
                raise fault
        tiles.finish()
        state.trust.finish(name)
        root = state.tree.root(SHA256_HASHER)
        if root != checkpoint.root_hash:
            raise VerificationError(
                f"{name}/checkpoint: expected root hash {checkpoint.root_hash.hex()} over "
                f"{size} entries, computed {root.hex()} (entries were altered)"
            )
    except VerificationError:
        known = [] if state is None else list(state.keys.values())
        known += _public_keys(trusted)
        if authenticated is None and known:
            _unauthenticated(signed, checkpoint.origin, known, name)
        raise
    steps = [
        Step("format", "ledger format version 2 (C2SP tlog-tiles, RFC 6962 SHA-256)"),
        Step("records", f"{size} entries and records: BLAKE3, header, chain"),
        Step("signatures", f"{size} SSHSIG Ed25519 signatures over record bytes"),
        Step("tiles", "every hash tile equals the hashes of the entries"),
    ]
    signers = state.keys.values()
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
        # The kept checkpoint may be signed by a trusted key that signs no record of this
        # (rolled-back) log: its signature is looked for among the trusted keys too.
        outside = [] if trust.trusted is None else [k.public_key for k in trust.trusted]
        keys = [*signers, *(key for key in outside if key is not None)]
        steps.append(_check_kept(kept, state.kept_root, since, keys, trust.trusted, size))
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
    # The kept file's signature first: a rollback or fork it claims is believed only once a
    # record signer's key signed it (an unsigned file fails as such, not as a fork).
    kept_key = _checkpoint_key(since[0], kept.origin, signers, since[1])
    if kept.size > size:
        raise VerificationError(
            f"rollback: the log holds {size} records, fewer than the {kept.size} of the "
            f"checkpoint you kept ({since[1]})"
        )
    if root != kept.root_hash:
        computed = root.hex() if root else "?"
        raise VerificationError(
            f"fork: at size {kept.size} the log's root is {computed}, but the checkpoint "
            f"you kept ({since[1]}) says {kept.root_hash.hex()}: the history was rewritten"
        )
    if trusted is not None:
        trusted.require(kept_key, what=f"{since[1]} (kept checkpoint, tree size {kept.size})")
    return Step(
        "since",
        f"the log (size {size}) extends the checkpoint kept in {since[1]} (size {kept.size})",
    )


def _parse_kept(since: tuple[bytes, str], origin: str) -> Checkpoint:
    """The kept checkpoint's body, for the pass to compute its root at its size (its
    signature, rollback and fork are judged by ``_check_kept`` once the signers are known)."""
    data, where = since
    kept = parse_checkpoint(note.parse_note(data, where).text, where)
    if kept.origin != origin:
        raise VerificationError(
            f"{where}: kept checkpoint is for origin {kept.origin!r}, this log is {origin!r}: "
            "not the same ledger"
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


def _public_keys(trusted: TrustedKeys | None) -> list[Ed25519PublicKey]:
    """The trusted keys whose public key is known (not only their fingerprint)."""
    return [entry.public_key for entry in trusted or () if entry.public_key is not None]


def _trusted_signer(
    data: bytes, origin: str, trusted: TrustedKeys | None, where: str
) -> Ed25519PublicKey | None:
    """The trusted key whose note signature named ``origin`` is valid, or None when no trusted
    key's public key signed the note (raises when one did, but its signature is invalid)."""
    keys = _public_keys(trusted)
    verifiers = [note.note_verifier(origin, key) for key in keys]
    slots = {(verifier.name, verifier.key_id) for verifier in verifiers}
    signed = note.parse_note(data, where).signatures
    if not any((signature.name, signature.key_id) in slots for signature in signed):
        return None
    return _checkpoint_key(data, origin, keys, where)


def _unauthenticated(data: bytes, origin: str, keys: Iterable[Ed25519PublicKey], name: str) -> None:
    """Raise, naming the checkpoint, when no key read so far (the records' signers and the
    trusted keys) signed it: a fault found reading what an unsigned checkpoint claims is the
    checkpoint's, not the entries'."""
    try:
        _checkpoint_key(data, origin, keys, f"{name}/checkpoint")
    except VerificationError as unsigned:
        raise VerificationError(
            f"{unsigned}: the checkpoint is not signed by this log's keys, so nothing it claims "
            "(its size, its root) is the log's"
        ) from None
