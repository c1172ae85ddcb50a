"""Independent verification of a ledger: hashes, chain, signatures, trust and checkpoint.

The trusted core: it needs only the standard library, blake3, cryptography and ``ledger/``.
Every check raises :class:`VerificationError` naming the first failing record, what was
expected and what was found, or returns a report of what it verified.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import blake3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.errors import VerificationError
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.checkpoint import Checkpoint, parse_signed_checkpoint
from bias_ledger.ledger.entry import parse_line
from bias_ledger.ledger.entry_checks import (
    AlteredRecord,
    CheckedEntry,
    Step,
    check_entries,
)
from bias_ledger.ledger.keys import fingerprint, parse_public_key
from bias_ledger.ledger.merkle import BLAKE3_HASHER, CompactRange, MerkleTree
from bias_ledger.ledger.reader import read_ledger
from bias_ledger.ledger.record import RecordHeader
from bias_ledger.ledger.trust import TrustedKey, TrustedKeys


@dataclass(frozen=True)
class LedgerVerification:
    """The outcome of a successful verification."""

    origin: str
    size: int
    checkpoint: Checkpoint | None
    signers: tuple[tuple[str, str], ...]
    """(fingerprint, principal or "") of every key that signed a record."""
    steps: tuple[Step, ...]
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": True,
            "origin": self.origin,
            "size": self.size,
            "checkpoint": None if self.checkpoint is None else self.checkpoint.to_json(),
            "signers": [{"fingerprint": fp, "principal": who} for fp, who in self.signers],
            "steps": [step.to_json() for step in self.steps],
            "warnings": list(self.warnings),
        }


class UntrustedError(VerificationError):
    """Integrity holds but no trust anchor was given: the checks done so far are attached."""

    def __init__(self, message: str, report: LedgerVerification) -> None:
        super().__init__(message)
        self.report = report


def _edited_field(lines: Sequence[bytes], position: int, origin: str) -> str:
    """Which header field of an altered record disagrees with its place in the ledger, if any."""
    record = json.loads(parse_line(lines[position], where="").record_bytes)
    previous = parse_line(lines[position - 1], where="").record_bytes if position else None
    expected = {
        "index": position,
        "previous_hash": blake3.blake3(previous).hexdigest() if previous is not None else None,
        "origin": origin,
    }
    for name, value in expected.items():
        if record.get(name) != value:
            return f"; its {name} reads {record.get(name)!r} where {value!r} was expected"
    return ""


def _misplaced(entries: Sequence[CheckedEntry], position: int, hashes: Sequence[str]) -> str:
    """Why the record at ``position`` has the wrong index: removed, duplicated or reordered."""
    item = entries[position]
    found = item.header.index
    if 0 <= found < position and hashes[found] == item.record_hash:
        return f"a duplicate of record {found}: records were duplicated"
    if any(later.header.index == position for later in entries[position + 1 :]):
        return f"record {position} appears later: records were reordered"
    if found > position:
        return f"records {position}..{found - 1} are missing: records were removed"
    return "records were removed, duplicated or reordered"


def check_chain(entries: Sequence[CheckedEntry], *, origin: str, source: str) -> None:
    """Indexes count up from 0, each record names its predecessor's hash, one origin."""
    previous: str | None = None
    hashes: list[str] = []
    for position, item in enumerate(entries):
        where = f"{source} record {position}"
        header = item.header
        if header.index != position:
            raise VerificationError(
                f"{where}: expected index {position}, found {header.index} "
                f"({_misplaced(entries, position, hashes)})"
            )
        if header.previous_hash != previous:
            raise VerificationError(
                f"{where}: expected previous_hash {previous}, found {header.previous_hash} "
                "(the chain of record hashes is broken)"
            )
        if header.origin != origin:
            raise VerificationError(
                f"{where}: expected origin {origin!r}, found {header.origin!r} "
                "(a record from another ledger)"
            )
        if item.approves is not None:
            index, digest = item.approves
            if not 0 <= index < position or hashes[index] != digest:
                raise VerificationError(
                    f"{where}: {header.kind.value} names record {index} with hash {digest}, "
                    "which is not an earlier record of this ledger"
                )
        previous = item.record_hash
        hashes.append(item.record_hash)


def _timestamp(header: RecordHeader) -> datetime:
    return datetime.fromisoformat(header.timestamp.replace("Z", "+00:00"))


def check_trust(
    entries: Iterable[CheckedEntry], trusted: TrustedKeys, *, source: str
) -> tuple[TrustedKeys, dict[str, str]]:
    """Every record is signed by a trusted key; rotations signed by one extend the trust.

    Returns the trust set after following rotations and the principal of each signer.
    """
    principals: dict[str, str] = {}
    parsed: dict[str, Ed25519PublicKey] = {}  # a ledger has few signers and many records
    for position, item in enumerate(entries):
        where = f"{source} record {position}"
        signer = item.header.signer
        key = parsed.get(signer.public_key)
        if key is None:
            key = parsed[signer.public_key] = parse_public_key(signer.public_key, source=where)
        entry = trusted.require(key, what=where, at=_timestamp(item.header))
        principals[signer.fingerprint] = entry.principals
        if item.new_key is not None:
            new_key = parse_public_key(item.new_key, source=f"{where} new_public_key")
            new_fingerprint = fingerprint(new_key)
            successor = TrustedKey(
                new_fingerprint,
                entry.principals,
                public_key=new_key,
                origin=f"rotation in {where} from {signer.fingerprint}",
            )
            trusted = replace(trusted, keys={**trusted.keys, new_fingerprint: successor})
    return trusted, principals


def check_checkpoint(
    data: bytes,
    leaf_hashes: Sequence[bytes],
    trusted: TrustedKeys | None,
    *,
    origin: str,
    source: str,
) -> Checkpoint:
    """The checkpoint is for this origin, covers a prefix of the records, and is signed."""
    checkpoint, armored = parse_signed_checkpoint(data, source=source)
    if checkpoint.origin != origin:
        raise VerificationError(
            f"{source}: expected origin {origin!r}, found {checkpoint.origin!r}"
        )
    if checkpoint.size > len(leaf_hashes):
        raise VerificationError(
            f"{source}: checkpoint covers {checkpoint.size} records, but only "
            f"{len(leaf_hashes)} are present (records were removed or truncated)"
        )
    root = (
        MerkleTree(BLAKE3_HASHER, leaf_hashes).root(checkpoint.size)
        if checkpoint.size
        else (BLAKE3_HASHER.empty_root())
    )
    if root != checkpoint.root_hash:
        raise VerificationError(
            f"{source}: expected root hash {checkpoint.root_hash.hex()} over the first "
            f"{checkpoint.size} records, computed {root.hex()} (records were altered)"
        )
    try:
        signer = sshsig.verify(armored, checkpoint.body())
    except VerificationError as exc:
        raise VerificationError(f"{source}: {exc.message}") from exc
    if trusted is not None:
        trusted.require(signer, what=f"{source} (tree size {checkpoint.size})")
    return checkpoint


def check_since(
    kept_data: bytes,
    leaf_hashes: Sequence[bytes],
    trusted: TrustedKeys,
    *,
    origin: str,
    source: str,
) -> Step:
    """The ledger extends a checkpoint the verifier kept earlier: no rollback, no fork."""
    kept, armored = parse_signed_checkpoint(kept_data, source=source)
    if kept.origin != origin:
        raise VerificationError(
            f"{source}: kept checkpoint is for origin {kept.origin!r}, this ledger is "
            f"{origin!r}: not the same ledger"
        )
    if kept.size > len(leaf_hashes):
        raise VerificationError(
            f"rollback: the ledger holds {len(leaf_hashes)} records, fewer than the {kept.size} "
            f"of the checkpoint you kept ({source})"
        )
    root = CompactRange.of(BLAKE3_HASHER, leaf_hashes[: kept.size]).root(BLAKE3_HASHER)
    if root != kept.root_hash:
        raise VerificationError(
            f"fork: at size {kept.size} the ledger's root is {root.hex()}, but the checkpoint "
            f"you kept ({source}) says {kept.root_hash.hex()}: the history was rewritten"
        )
    try:
        key = sshsig.verify(armored, kept.body())
    except VerificationError as exc:
        raise VerificationError(f"{source}: {exc.message}") from exc
    trusted.require(key, what=f"{source} (kept checkpoint, tree size {kept.size})")
    return Step(
        "since",
        f"the ledger (size {len(leaf_hashes)}) extends the checkpoint kept in {source} "
        f"(size {kept.size}), signed by trusted key {fingerprint(key)}",
    )


def verify_ledger(
    path: Path,
    *,
    trusted: TrustedKeys | None,
    trust_ledger_keys: bool = False,
    since: tuple[bytes, str] | None = None,
) -> LedgerVerification:
    """Verify everything about the ledger at ``path``.

    With no ``trusted`` keys and without ``trust_ledger_keys``, integrity is verified and
    :class:`UntrustedError` (exit 3) lists the signers: trust must come from outside.
    ``since`` is a signed checkpoint kept earlier (its bytes and where they came from) that
    the ledger must extend.
    """
    stored = read_ledger(path, error=VerificationError)
    source = str(path)
    steps: list[Step] = [Step("format", f"ledger format version {stored.meta.format_version}")]
    warnings: list[str] = []
    if stored.torn_tail:
        # Bytes after the last LF are an interrupted append, never a record (an entry is
        # committed by its LF, written after the rest is durable): report, do not fail.
        warnings.append(
            f"{len(stored.torn_tail)} bytes after record {len(stored.lines) - 1} are an "
            "interrupted append, not a record (the next append overwrites them)"
        )
    if not stored.lines:
        raise VerificationError(f"{source}: the ledger holds no records: nothing to verify")
    try:
        entries = check_entries(stored.lines, source=source)
    except AlteredRecord as exc:
        hint = _edited_field(stored.lines, exc.position, stored.meta.origin)
        raise VerificationError(exc.message + hint) from exc
    steps.append(Step("records", f"{len(entries)} records parse with known format versions"))
    steps.append(Step("signatures", f"{len(entries)} SSHSIG Ed25519 signatures over record bytes"))
    check_chain(entries, origin=stored.meta.origin, source=source)
    steps.append(Step("hash chain", "indexes 0..n-1, each previous_hash is BLAKE3 of the last"))
    leaf_hashes = [item.leaf_hash for item in entries]
    checkpoint: Checkpoint | None = None
    if stored.checkpoint is None:
        # Appends replace the checkpoint atomically and never remove it, so several records
        # without one means it was removed (or every append so far crashed at the same point,
        # which the next append repairs). One record without one is a crashed first append.
        if len(entries) > 1:
            raise VerificationError(
                f"{source}/checkpoint: expected a signed checkpoint for {len(entries)} records, "
                "found none (it was removed; records may have been removed with it)"
            )
        warnings.append("the ledger has no signed checkpoint")
    else:
        checkpoint = check_checkpoint(
            stored.checkpoint,
            leaf_hashes,
            None,
            origin=stored.meta.origin,
            source=f"{source}/checkpoint",
        )
        steps.append(
            Step(
                "checkpoint",
                f"Merkle root of {checkpoint.size} records matches the signed "
                f"checkpoint for origin {checkpoint.origin}",
            )
        )
        if checkpoint.size < len(entries):
            warnings.append(
                f"{len(entries) - checkpoint.size} record(s) after the latest checkpoint "
                "(an append was interrupted after writing its record)"
            )
    signer_set = {item.header.signer.fingerprint: "" for item in entries}
    if trusted is None and not trust_ledger_keys:
        report = LedgerVerification(
            stored.meta.origin,
            len(entries),
            checkpoint,
            tuple(signer_set.items()),
            tuple(steps),
            tuple(warnings),
        )
        raise UntrustedError(
            "no trusted key given: integrity verified, but the signers "
            f"({', '.join(signer_set)}) are not trusted; pass --trusted-keys FILE, "
            "--trusted-key FINGERPRINT, or --trust-ledger-keys",
            report,
        )
    if trusted is None:
        trusted = TrustedKeys.from_fingerprints(signer_set, source="--trust-ledger-keys")
        warnings.append("trusting the keys found in the ledger itself (--trust-ledger-keys)")
    trusted, principals = check_trust(entries, trusted, source=source)
    steps.append(Step("trust", f"every record signed by a key trusted in {trusted.source}"))
    if stored.checkpoint is not None and checkpoint is not None:
        # Its root and signature were checked above; what is left is who signed it.
        _, armored = parse_signed_checkpoint(stored.checkpoint, source=f"{source}/checkpoint")
        trusted.require(
            sshsig.embedded_public_key(armored),
            what=f"{source}/checkpoint (tree size {checkpoint.size})",
        )
        steps.append(Step("checkpoint signature", "signed by a trusted key"))
    if since is not None:
        steps.append(
            check_since(since[0], leaf_hashes, trusted, origin=stored.meta.origin, source=since[1])
        )
    return LedgerVerification(
        origin=stored.meta.origin,
        size=len(entries),
        checkpoint=checkpoint,
        signers=tuple(principals.items()),
        steps=tuple(steps),
        warnings=tuple(warnings),
    )
