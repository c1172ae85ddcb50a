"""Which key may sign what: trusted keys, the rotations they sign, and key revocations.

Part of the verifier's trusted core (standard library and cryptography only). One walk,
:func:`follow_keys`, serves ledger verification, bundle verification and the gate, so the
rules below are enforced the same way everywhere:

- A ``key_rotation`` record names its successor by ``new_public_key``; a
  ``new_fingerprint`` beside it (always in format 1, in format-2 records of earlier versions)
  must be that key's fingerprint (else a log could display one key and authorise another).
- A key that signed a rotation is rotated out: what it signs after that rotation is invalid.
- A ``key_revocation`` record, signed by a trusted key (or by the revoked key itself), makes
  what the revoked key signed after record ``invalid_after`` invalid. Which revocations are in
  effect is decided in index order, each knowing only those before it, and once in effect a
  revocation stays so. One never reaches the rotation its own signer's trust rests on (a
  successor revoking its predecessor keeps the rotation that introduced it).
- A rotation that is invalid introduces nothing: what the key it names signs is invalid too.

An invalid record is never trusted nor relied on (its rotations and revocations count for
nothing); a ledger verification lists it, a bundle that ships it fails, the gate refuses it. A
checkpoint signed by a key after it could no longer sign fails verification.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.entry_checks import CheckedEntry
from bias_ledger.ledger.index_runs import IndexRuns
from bias_ledger.ledger.key_records import key_of
from bias_ledger.ledger.keys import fingerprint
from bias_ledger.ledger.revocation import Revocation, Revoked, invalidity, orphaned
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
    revoked: Revoked
    """Fingerprint to the revocations in effect against it."""
    invalid: Mapping[int, str] = field(default_factory=dict)
    """Index to why, of the records signed by a key after it was rotated out or revoked (or by
    a key only an invalid rotation introduced): they are never trusted nor relied on."""

    def usable_at(self, fp: str, index: int, *, what: str) -> None:
        """Raise unless key ``fp`` may still sign at ``index`` (not rotated out or revoked)."""
        reason = invalidity(self.retired, self.revoked, fp, index)
        if reason:
            raise VerificationError(f"{what}: {reason}")

    def checkpoint_signer(self, key: Ed25519PublicKey, size: int, *, what: str) -> str:
        """The principal of a checkpoint's signer: usable for its last record, and trusted."""
        self.usable_at(fingerprint(key), size - 1, what=what)
        return self.trusted.require(key, what=what).principals


def _timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class _Candidate:
    """A revocation signed by a trusted key (or by the revoked key itself)."""

    index: int
    signer: str
    target: str
    after: int


class KeyWalker:
    """The walk of :func:`follow_keys`, one record at a time, in index order.

    A streaming verifier feeds it every record as it reads them (a format-2 log); the
    revocations in effect must be known first (:func:`revocations_in_effect`), because a
    revocation reaches back to records written before it.
    """

    def __init__(
        self,
        trusted: TrustedKeys,
        revoked: Revoked,
        *,
        source: str,
        untrusted: Untrusted = Untrusted.FAIL,
    ) -> None:
        self.trusted = trusted
        self.revoked = revoked
        self.source = source
        self.untrusted = untrusted
        self.principals: dict[str, str] = {}
        self.trusted_records = IndexRuns()
        self.retired: dict[str, tuple[int, str]] = {}
        self.invalid: dict[int, str] = {}
        self.candidates: list[_Candidate] = []
        self.introduced: dict[str, tuple[int, str]] = {}
        """Successor to (index of the valid rotation that introduced it, the rotation's signer)."""
        self.orphans: dict[str, int] = {}
        """Key named by an invalid rotation (and by no valid one) to that rotation's index."""
        self._outside = frozenset(trusted.keys)
        self._parsed: dict[str, Ed25519PublicKey] = {}  # few signers, many records

    def add(self, index: int, item: CheckedEntry) -> None:
        """Walk record ``index``; raise for an untrusted signer when ``untrusted`` is FAIL."""
        where = f"{self.source} record {index}"
        signer = item.header.signer
        reason = invalidity(self.retired, self.revoked, signer.fingerprint, index)
        if not reason and signer.fingerprint in self.orphans:
            reason = orphaned(signer.fingerprint, self.orphans[signer.fingerprint])
        if reason:
            self.invalid[index] = reason  # nothing it says counts: no trust, rotation, revocation
            if item.new_key is not None:
                self._orphan(item.new_key, index, where=where)
            return
        key = self._parsed.get(signer.public_key)
        if key is None:
            key = self._parsed[signer.public_key] = key_of(signer.public_key, where=where)
        entry: TrustedKey | None = None
        try:
            entry = self.trusted.require(key, what=where, at=_timestamp(item.header.timestamp))
        except VerificationError:
            if self.untrusted is Untrusted.FAIL:
                raise
        if entry is not None:
            self.principals[signer.fingerprint] = entry.principals
            self.trusted_records.add(index, entry.principals)
        if item.new_key is not None:
            new_key = key_of(item.new_key, where=f"{where} new_public_key")
            successor_fp = fingerprint(new_key)
            # Retirement needs no trust: the retiring key itself signed the rotation.
            self.retired[signer.fingerprint] = (index, successor_fp)
            if entry is not None:
                successor = TrustedKey(
                    successor_fp,
                    entry.principals,
                    public_key=new_key,
                    origin=f"rotation in {where} from {signer.fingerprint}",
                )
                keys = {**self.trusted.keys, successor_fp: successor}
                self.trusted = replace(self.trusted, keys=keys)
                self.introduced.setdefault(successor_fp, (index, signer.fingerprint))
                self.orphans.pop(successor_fp, None)
        if item.revokes is not None and (entry or item.revokes[0] == signer.fingerprint):
            self.candidates.append(_Candidate(index, signer.fingerprint, *item.revokes))

    def _orphan(self, new_key: str, index: int, *, where: str) -> None:
        """Note the key an invalid rotation names: it is trusted for nothing it signs."""
        try:
            named = fingerprint(key_of(new_key, where=f"{where} new_public_key"))
        except VerificationError:
            return  # an unreadable key signs nothing that could verify
        if named not in self.trusted:
            self.orphans.setdefault(named, index)

    def resting_on(self, fp: str, ancestor: str) -> int | None:
        """The index of the rotation signed by ``ancestor`` that key ``fp``'s trust rests on,
        or None: ``fp`` (or the signer of the rotation that introduced it, and so on) is not
        trusted from outside and a rotation ``ancestor`` signed introduced it."""
        seen: set[str] = set()
        while fp not in self._outside and fp in self.introduced and fp not in seen:
            seen.add(fp)
            at, fp = self.introduced[fp]
            if fp == ancestor:
                return at
        return None

    @property
    def walk(self) -> KeyWalk:
        """What the walk found so far."""
        return KeyWalk(
            self.trusted,
            self.principals,
            self.trusted_records,
            self.retired,
            self.revoked,
            self.invalid,
        )


def is_key_record(item: CheckedEntry) -> bool:
    """Whether a record can change what the walk trusts (a rotation or a revocation)."""
    return item.new_key is not None or item.revokes is not None


def revocations_in_effect(
    key_items: Iterable[tuple[int, CheckedEntry]], trusted: TrustedKeys, *, source: str
) -> Revoked:
    """The revocations in effect, found from the key records alone (other records may be left
    out: they neither extend trust nor revoke).

    Decided in index order, each revocation knowing only the revocations in effect before it
    (docs/FORMAT.md section 4): it counts when its record is valid and its signer trusted given
    those (trust following only valid rotations), or when a key revokes itself. It never
    reaches the rotation its own signer's trust rests on. Once in effect it stays so (a later
    revocation never restores trust), and it reaches back: the records before it are walked
    again knowing it, so a rotation it invalidates introduces no key for what follows.
    """
    items = [(index, item) for index, item in key_items if is_key_record(item)]
    revoked: dict[str, list[Revocation]] = {}
    signed: dict[str, list[int]] = {}  # fingerprint to the key records it signed, so far
    walker = KeyWalker(trusted, revoked, source=source, untrusted=Untrusted.SKIP)
    for position, (index, item) in enumerate(items):
        signed.setdefault(item.header.signer.fingerprint, []).append(index)
        walker.add(index, item)
        found = walker.candidates[-1] if walker.candidates else None
        if found is None or found.index != index:
            continue  # no revocation, or one that counts for nothing
        mine = found.target == found.signer
        kept = None if mine else walker.resting_on(found.signer, found.target)
        revocation = Revocation(index, found.after, kept)
        revoked.setdefault(found.target, []).append(revocation)  # the walker sees it from now
        if any(revocation.reaches(at) for at in signed.get(found.target, ())):
            # It changes what came before: walk that again (only then, so that a log of
            # many revocations costs one walk, not one per revocation).
            walker = KeyWalker(trusted, revoked, source=source, untrusted=Untrusted.SKIP)
            for at, earlier in items[: position + 1]:
                walker.add(at, earlier)
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
    revoked = revocations_in_effect(items, trusted, source=source)
    walker = KeyWalker(trusted, revoked, source=source, untrusted=untrusted)
    for index, item in items:
        walker.add(index, item)
    return walker.walk
