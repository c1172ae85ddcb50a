"""Which key may sign what: trusted keys, the rotations they sign, and key revocations.

Part of the verifier's trusted core (standard library and cryptography only). One walk,
:func:`follow_keys`, serves ledger verification, bundle verification and the gate, so the
rules below are enforced the same way everywhere:

- A ``key_rotation`` record names its successor by ``new_public_key``; its
  ``new_fingerprint`` must be that key's fingerprint (else a log could display one key and
  authorise another).
- A key that signed a rotation is rotated out: it signs no record after that rotation, and no
  checkpoint covering one.
- A ``key_revocation`` record, signed by a trusted key (or by the revoked key itself), makes
  every record the revoked key signed after ``invalid_after`` invalid, and every checkpoint it
  signed over such a record.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
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
    """Index to the signer's principal, of every record a trusted key signed."""
    retired: Mapping[str, tuple[int, str]]
    """Fingerprint to (index of its rotation record, successor's fingerprint)."""
    revoked: Mapping[str, tuple[int, int]]
    """Fingerprint to (invalid_after, index of the revocation record)."""

    def usable_at(self, fp: str, index: int, *, what: str) -> None:
        """Raise unless key ``fp`` may still sign at ``index`` (not rotated out or revoked)."""
        _refuse_retired(self.retired, fp, index, what=what)
        if fp in self.revoked and index > self.revoked[fp][0]:
            after, at = self.revoked[fp]
            raise VerificationError(
                f"{what}: signed by key {fp}, which record {at} revoked: what it signed after "
                f"record {after} is invalid"
            )

    def checkpoint_signer(self, key: Ed25519PublicKey, size: int, *, what: str) -> str:
        """The principal of a checkpoint's signer: usable for its last record, and trusted."""
        self.usable_at(fingerprint(key), size - 1, what=what)
        return self.trusted.require(key, what=what).principals


def _refuse_retired(
    retired: Mapping[str, tuple[int, str]], fp: str, index: int, *, what: str
) -> None:
    if fp in retired and index > retired[fp][0]:
        at, successor = retired[fp]
        raise VerificationError(
            f"{what}: signed by key {fp} after record {at} rotated it out to {successor} "
            "(a rotated-out key signs no new records)"
        )


def _timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def follow_keys(
    entries: Iterable[tuple[int, CheckedEntry]],
    trusted: TrustedKeys,
    *,
    source: str,
    untrusted: Untrusted = Untrusted.FAIL,
) -> KeyWalk:
    """Walk records in index order: who signed each, which keys rotations and revocations
    retire, and whether every record was signed by a key allowed to sign it then."""
    items = list(entries)
    principals: dict[str, str] = {}
    trusted_records: dict[int, str] = {}
    retired: dict[str, tuple[int, str]] = {}
    revoked: dict[str, tuple[int, int]] = {}
    parsed: dict[str, Ed25519PublicKey] = {}  # few signers, many records
    for index, item in items:
        where = f"{source} record {index}"
        signer = item.header.signer
        _refuse_retired(retired, signer.fingerprint, index, what=where)
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
        if item.revokes is not None and (
            entry is not None or item.revokes[0] == signer.fingerprint
        ):
            target, after = item.revokes
            if target not in revoked or after < revoked[target][0]:
                revoked[target] = (after, index)
    walk = KeyWalk(trusted, principals, trusted_records, retired, revoked)
    # A revocation reaches back: records signed before it was written become invalid too.
    for index, item in items:
        walk.usable_at(item.header.signer.fingerprint, index, what=f"{source} record {index}")
    return walk


def refuse_retired_signer(records: Path, signer_fingerprint: str) -> None:
    """Refuse to append with a key the ledger rotated out or revoked (an append-time check).

    Scans ``records`` for the few lines that mention a rotation or revocation; reading is by
    memory map, so the cost is one pass over the file's bytes, not a parse of every record.
    """
    if not records.exists() or records.stat().st_size == 0:
        return
    with (
        records.open("rb") as handle,
        mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data,
    ):
        for marker in (ROTATION.encode(), REVOCATION.encode()):
            position = data.find(marker)
            while position >= 0:
                start = data.rfind(b"\n", 0, position) + 1
                end = data.find(b"\n", position)
                end = len(data) if end < 0 else end
                _refuse_line(bytes(data[start:end]), signer_fingerprint, records)
                position = data.find(marker, end)


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
