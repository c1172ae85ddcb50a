"""Which key may sign what: trusted keys, the rotations they sign, and key revocations.

Part of the verifier's trusted core (standard library and cryptography only). One walk,
:func:`follow_keys`, serves ledger verification, bundle verification and the gate, so the
rules below are enforced the same way everywhere:

- A ``key_rotation`` record names its successor by ``new_public_key``; its
  ``new_fingerprint`` must be that key's fingerprint (else a log could display one key and
  authorise another).
- A key that signed a rotation is rotated out: what it signs after that rotation is invalid.
- A ``key_revocation`` record, signed by a trusted key (or by the revoked key itself), makes
  what the revoked key signed after record ``invalid_after`` invalid.

An invalid record is never trusted nor relied on (its rotations and revocations count for
nothing); a ledger verification lists it, a bundle that ships it fails, the gate refuses it. A
checkpoint signed by a key after it could no longer sign fails verification.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.errors import LedgerError, VerificationError
from bias_ledger.ledger.canonical import parse_json
from bias_ledger.ledger.entry import parse_line
from bias_ledger.ledger.entry_checks import CheckedEntry
from bias_ledger.ledger.key_records import REVOCATION, ROTATION, key_of, revocation_target
from bias_ledger.ledger.keys import fingerprint
from bias_ledger.ledger.trust import TrustedKey, TrustedKeys


class Untrusted(StrEnum):
    """What a walk does with a record signed by a key it does not trust."""

    FAIL = "fail"
    """Verification: every record must be signed by a trusted key."""
    SKIP = "skip"
    """The gate's approvers: other keys' records are checked but not relied on."""


@dataclass(frozen=True)
class KeyWalk:
    """The outcome of following keys through a ledger's (or a bundle's) records."""

    trusted: TrustedKeys
    """The trusted keys, extended by the rotations trusted keys signed."""
    principals: Mapping[str, str]
    """Fingerprint to principal, of every trusted key that signed a record."""
    trusted_records: Mapping[int, str]
    """Index to the signer's principal, of every valid record a trusted key signed."""
    retired: Mapping[str, tuple[int, str]]
    """Fingerprint to (index of its rotation record, successor's fingerprint)."""
    revoked: Mapping[str, tuple[int, int]]
    """Fingerprint to (invalid_after, index of the revocation record), of the revocations in
    effect."""
    invalid: Mapping[int, str] = field(default_factory=dict)
    """Index to why, of the records signed by a key after it was rotated out or revoked: they
    are never trusted nor relied on."""

    def usable_at(self, fp: str, index: int, *, what: str) -> None:
        """Raise unless key ``fp`` may still sign at ``index`` (not rotated out or revoked)."""
        reason = _invalidity(self.retired, self.revoked, fp, index)
        if reason:
            raise VerificationError(f"{what}: {reason}")

    def checkpoint_signer(self, key: Ed25519PublicKey, size: int, *, what: str) -> str:
        """The principal of a checkpoint's signer: usable for its last record, and trusted."""
        self.usable_at(fingerprint(key), size - 1, what=what)
        return self.trusted.require(key, what=what).principals


def _invalidity(
    retired: Mapping[str, tuple[int, str]],
    revoked: Mapping[str, tuple[int, int]],
    fp: str,
    index: int,
) -> str | None:
    """Why key ``fp`` may not sign at ``index``, or None."""
    if fp in retired and index > retired[fp][0]:
        at, successor = retired[fp]
        return (
            f"signed by key {fp} after record {at} rotated it out to {successor} "
            "(a rotated-out key signs no new records)"
        )
    if fp in revoked and index > revoked[fp][0]:
        after, at = revoked[fp]
        return (
            f"signed by key {fp}, which record {at} revoked for everything it signed after "
            f"record {after}"
        )
    return None


def _timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class _Candidate:
    """A revocation signed by a trusted key (or by the revoked key itself)."""

    index: int
    signer: str
    target: str
    after: int


def _walk(
    items: Sequence[tuple[int, CheckedEntry]],
    trusted: TrustedKeys,
    revoked: Mapping[str, tuple[int, int]],
    *,
    source: str,
    untrusted: Untrusted,
) -> tuple[KeyWalk, list[_Candidate]]:
    principals: dict[str, str] = {}
    trusted_records: dict[int, str] = {}
    retired: dict[str, tuple[int, str]] = {}
    invalid: dict[int, str] = {}
    candidates: list[_Candidate] = []
    parsed: dict[str, Ed25519PublicKey] = {}  # few signers, many records
    for index, item in items:
        where = f"{source} record {index}"
        signer = item.header.signer
        reason = _invalidity(retired, revoked, signer.fingerprint, index)
        if reason:
            invalid[index] = reason  # nothing it says counts: no trust, rotation or revocation
            continue
        key = parsed.get(signer.public_key)
        if key is None:
            key = parsed[signer.public_key] = key_of(signer.public_key, where=where)
        entry: TrustedKey | None = None
        try:
            entry = trusted.require(key, what=where, at=_timestamp(item.header.timestamp))
        except VerificationError:
            if untrusted is Untrusted.FAIL:
                raise
        if entry is not None:
            principals[signer.fingerprint] = entry.principals
            trusted_records[index] = entry.principals
        if item.new_key is not None:
            new_key = key_of(item.new_key, where=f"{where} new_public_key")
            successor_fp = fingerprint(new_key)
            # Retirement needs no trust: the retiring key itself signed the rotation.
            retired[signer.fingerprint] = (index, successor_fp)
            if entry is not None:
                successor = TrustedKey(
                    successor_fp,
                    entry.principals,
                    public_key=new_key,
                    origin=f"rotation in {where} from {signer.fingerprint}",
                )
                trusted = replace(trusted, keys={**trusted.keys, successor_fp: successor})
        if item.revokes is not None and (entry or item.revokes[0] == signer.fingerprint):
            candidates.append(_Candidate(index, signer.fingerprint, *item.revokes))
    walk = KeyWalk(trusted, principals, trusted_records, retired, dict(revoked), invalid)
    return walk, candidates


def _in_effect(candidates: Iterable[_Candidate]) -> dict[str, tuple[int, int]]:
    """Revocations take effect in index order; one signed by a key that an earlier revocation
    already revoked (at its index) has none, so two compromised keys cannot cancel out."""
    revoked: dict[str, tuple[int, int]] = {}
    for item in sorted(candidates, key=lambda c: c.index):
        if item.signer in revoked and item.index > revoked[item.signer][0]:
            continue
        if item.target not in revoked or item.after < revoked[item.target][0]:
            revoked[item.target] = (item.after, item.index)
    return revoked


def follow_keys(
    entries: Iterable[tuple[int, CheckedEntry]],
    trusted: TrustedKeys,
    *,
    source: str,
    untrusted: Untrusted = Untrusted.FAIL,
) -> KeyWalk:
    """Walk records in index order: who signed each (trusted or not: ``untrusted`` decides),
    which keys rotations retire and revocations revoke, and which records are invalid because
    their key could no longer sign them."""
    items = list(entries)
    # A revocation reaches back to records written before it: find the revocations in effect
    # first, then walk again knowing them.
    _, candidates = _walk(items, trusted, {}, source=source, untrusted=Untrusted.SKIP)
    walk, _ = _walk(items, trusted, _in_effect(candidates), source=source, untrusted=untrusted)
    return walk


def refuse_retired_signer(records: Path, signer_fingerprint: str) -> None:
    """Refuse to append with a key the ledger rotated out or revoked (an append-time check).

    When the key signed the last record, and that record is no key record, nothing retired it
    since (the store refuses a retired key), so only the last line is read: a writer that keeps
    appending with one key stays O(1). Otherwise the file is scanned, by memory map, for the few
    lines that mention a key record.
    """
    if not records.exists() or records.stat().st_size == 0:
        return
    with (
        records.open("rb") as handle,
        mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data,
    ):
        end = data.rfind(b"\n")
        last = bytes(data[data.rfind(b"\n", 0, end) + 1 : end]) if end >= 0 else b""
        if _signed_by(last, signer_fingerprint) and b"key_r" not in last:
            return
        # One pass for both kinds: "key_rotation" and "key_revocation" share this prefix.
        marker = b"key_r"
        position = data.find(marker)
        while position >= 0:
            start = data.rfind(b"\n", 0, position) + 1
            stop = data.find(b"\n", position)
            stop = len(data) if stop < 0 else stop
            _refuse_line(bytes(data[start:stop]), signer_fingerprint, records)
            position = data.find(marker, stop)


def _signed_by(line: bytes, signer_fingerprint: str) -> bool:
    try:
        record = parse_json(parse_line(line, where="").record_bytes)
    except VerificationError:
        return False
    signer = record.get("signer") if isinstance(record, dict) else None
    return isinstance(signer, dict) and signer.get("fingerprint") == signer_fingerprint


def _refuse_line(line: bytes, signer_fingerprint: str, records: Path) -> None:
    try:
        record = parse_json(parse_line(line, where=str(records)).record_bytes)
    except VerificationError:
        return  # not a record (verify and fsck report it); nothing it says is relied on
    if not isinstance(record, dict):
        return
    kind, payload = record.get("kind"), record.get(str(record.get("kind")))
    signer = record.get("signer")
    index = record.get("index")
    mine = isinstance(signer, dict) and signer.get("fingerprint") == signer_fingerprint
    if kind == ROTATION and mine and isinstance(payload, dict):
        try:
            successor = fingerprint(key_of(payload.get("new_public_key"), where=""))
        except VerificationError:
            successor = "an unreadable key (run 'bias-ledger verify')"
        raise LedgerError(
            f"key {signer_fingerprint} was rotated out by record {index} of {records}: "
            f"sign with its successor {successor}"
        )
    if kind == REVOCATION and isinstance(payload, dict):
        try:
            target, _ = revocation_target(payload, where=f"{records} record {index}")
        except VerificationError:
            return
        if target == signer_fingerprint:
            raise LedgerError(
                f"key {signer_fingerprint} was revoked by record {index} of {records}: "
                "it signs no new records"
            )
