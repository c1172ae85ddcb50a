"""The record model: the fields every ledger record carries, and their strict validation.

A record is a JSON object (encoded canonically) with a fixed header and one payload named by its
kind. Verifiers read only the header; renderers read the payload.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bias_ledger._version import unknown_results_schema
from bias_ledger.errors import KeyFileError, VerificationError
from bias_ledger.ledger.keys import line_fingerprint
from bias_ledger.wording import with_article

FORMAT_VERSION = 1
"""The version of the record and ledger format this code writes and reads."""
SUPPORTED_FORMAT_VERSIONS = frozenset({1, 2})
"""1: ``records.log`` with a BLAKE3 tree; 2: C2SP tiles with an RFC 6962 SHA-256 tree."""
HASH_HEX_LENGTH = 64
_HEX = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
FINGERPRINT_HELD = frozenset({1})
"""Record format versions whose every key must be held with its fingerprint beside it
(``signer.fingerprint``, a key rotation's ``new_fingerprint``, a revocation's
``revoked_fingerprint``). In a format-2 record each is optional: derived from the key, and
checked against it when held."""
FINGERPRINT_WRITTEN = frozenset({1})
"""Record format versions whose new records are written with those fingerprints."""
HEADER_KEYS = frozenset(
    {"format_version", "kind", "index", "timestamp", "previous_hash", "origin", "signer"}
)


class RecordKind(StrEnum):
    """What a record states."""

    AUDIT = "audit"
    """The results of one fairness audit (and the policy verdict, when a policy was given)."""
    APPROVAL = "approval"
    """A signed approval of an earlier audit record, usable as a gate baseline."""
    KEY_ROTATION = "key_rotation"
    """Introduces a new signing key, signed by the key it succeeds."""
    GATE = "gate"
    """A policy verdict on an earlier audit record (``bias-ledger gate --record N``)."""
    KEY_REVOCATION = "key_revocation"
    """Revokes a (compromised) key: what it signed after ``invalid_after`` is invalid."""


@dataclass(frozen=True)
class Signer:
    """Who signed a record."""

    fingerprint: str
    """``SHA256:...`` as ``ssh-keygen -l`` prints it: the record's field where it holds one,
    else derived from ``public_key``."""
    public_key: str
    """The OpenSSH public key line, ``ssh-ed25519 AAAA...``."""

    def to_json(self, format_version: int) -> dict[str, str]:
        """The ``signer`` object of a new record of ``format_version``: the key, and its
        fingerprint where that format writes it."""
        if format_version in FINGERPRINT_WRITTEN:
            return {"fingerprint": self.fingerprint, "public_key": self.public_key}
        return {"public_key": self.public_key}


@dataclass(frozen=True)
class RecordHeader:
    """The fields a verifier checks on every record."""

    format_version: int
    kind: RecordKind
    index: int
    """Position in the ledger, from 0."""
    timestamp: str
    """UTC time of writing, ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    previous_hash: str | None
    """Hex BLAKE3-256 of the previous record's canonical bytes; None for record 0."""
    origin: str
    """The ledger's origin line, as in its checkpoints."""
    signer: Signer


def utc_timestamp(moment: datetime | None = None) -> str:
    """A record timestamp: UTC with microseconds and a ``Z``."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build_record(
    header: RecordHeader, payload: Mapping[str, Any], *, labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The record as a JSON object: header fields, ``labels`` and the payload under its kind."""
    record: dict[str, Any] = {
        "format_version": header.format_version,
        "kind": header.kind.value,
        "index": header.index,
        "timestamp": header.timestamp,
        "previous_hash": header.previous_hash,
        "origin": header.origin,
        "signer": header.signer.to_json(header.format_version),
        "labels": dict(labels or {}),
        header.kind.value: dict(payload),
    }
    return record


def _field(record: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in record:
        raise VerificationError(f"{where}: missing field {key!r}")
    value = record[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise VerificationError(
            f"{where}: field {key!r} expected {kind.__name__}, found {type(value).__name__}"
        )
    return value


def _derived_fingerprint(public_key: str, where: str) -> str:
    try:
        return line_fingerprint(public_key)
    except KeyFileError:
        raise VerificationError(
            f"{where} signer: public_key is not an OpenSSH Ed25519 public key line"
        ) from None


def signer_fingerprint(record: Mapping[str, Any]) -> str:
    """The fingerprint of the key that signed a record already verified (or shown only): its
    ``signer.public_key``'s, derived, whether or not the record also holds the field."""
    public_key = record["signer"]["public_key"]
    try:
        return line_fingerprint(str(public_key))
    except KeyFileError:
        return "(unreadable key)"


def parse_header(
    record: Any, *, where: str, versions: frozenset[int] = frozenset({FORMAT_VERSION})
) -> RecordHeader:
    """Validate and return a record's header; raise VerificationError naming the bad field.

    ``versions``: the record format versions the ledger being read may hold (a format-1
    ledger holds only format-1 records, a format-2 ledger only format-2 ones).
    """
    if not isinstance(record, dict):
        raise VerificationError(f"{where}: expected a JSON object record")
    version = _field(record, "format_version", int, where)
    if version not in versions:
        raise VerificationError(
            f"{where}: unknown record format_version {version} (this bias-ledger reads "
            f"{sorted(versions)} here); upgrade bias-ledger to read it"
        )
    kind_text = _field(record, "kind", str, where)
    try:
        kind = RecordKind(kind_text)
    except ValueError:
        raise VerificationError(f"{where}: unknown record kind {kind_text!r}") from None
    index = _field(record, "index", int, where)
    timestamp = _field(record, "timestamp", str, where)
    if not _TIMESTAMP.fullmatch(timestamp):
        raise VerificationError(
            f"{where}: timestamp {timestamp!r} is not YYYY-MM-DDTHH:MM:SS.ffffffZ"
        )
    try:  # the shape is right; the date and time must exist too (not February 30th, 25:61)
        datetime.fromisoformat(timestamp[:-1])
    except ValueError:
        raise VerificationError(
            f"{where}: timestamp {timestamp!r} is not a valid UTC date and time"
        ) from None
    previous = record.get("previous_hash")
    if previous is not None and (not isinstance(previous, str) or not _HEX.fullmatch(previous)):
        raise VerificationError(f"{where}: previous_hash must be 64 lowercase hex digits or null")
    origin = _field(record, "origin", str, where)
    signer = _field(record, "signer", dict, where)
    public_key = _field(signer, "public_key", str, f"{where} signer")
    if "fingerprint" in signer or version in FINGERPRINT_HELD:
        # Held: the verifiers check it equals the key's (a stale or forged one is refused).
        fingerprint = _field(signer, "fingerprint", str, f"{where} signer")
    else:
        fingerprint = _derived_fingerprint(public_key, where)
    if kind.value not in record:
        raise VerificationError(
            f"{where}: {with_article(kind.value)} record must hold "
            f"{with_article(repr(kind.value))} object"
        )
    payload = record[kind.value]
    if kind is RecordKind.AUDIT and isinstance(payload, dict):
        # Every verifier parses headers here: a results schema this version does not know
        # fails verification rather than being misread by the readers that follow.
        refused = unknown_results_schema(payload, where)
        if refused is not None:
            raise VerificationError(refused)
    return RecordHeader(
        format_version=version,
        kind=kind,
        index=index,
        timestamp=timestamp,
        previous_hash=previous,
        origin=origin,
        signer=Signer(fingerprint=fingerprint, public_key=public_key),
    )
