"""Format-2 log entries: a compact, canonical commitment to one record stored beside the log.

An entry is the RFC 8785 encoding of a JSON object whose values are ASCII strings and
non-negative integers, so it equals ``json.dumps(..., sort_keys=True, separators=(",", ":"))``
and a verifier needs no canonicaliser to check it is the one spelling of itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.tlog_tiles import MAX_ENTRY_SIZE

ENTRY_FORMAT_VERSION = 2
RECORDS_DIR = "records"
_HEX = re.compile(r"[0-9a-f]{64}")
_KEYS = ("format_version", "index", "kind", "record", "signature", "signer", "size", "timestamp")
_INTS = frozenset({"format_version", "index", "size"})


def record_path(record_hash: str) -> str:
    """Where the record with this BLAKE3 hex digest is stored: ``records/<hex>.json``."""
    if not _HEX.fullmatch(record_hash):
        raise VerificationError(f"record hash {record_hash!r}: expected 64 lowercase hex digits")
    return f"{RECORDS_DIR}/{record_hash}.json"


@dataclass(frozen=True)
class LogEntry:
    """What the log commits to for one record."""

    index: int
    """The record's position in the log, from 0 (the leaf index)."""
    kind: str
    """The record's kind (``audit``, ``approval``, ``gate``, ``key_rotation``)."""
    record: str
    """Hex BLAKE3-256 of the record's bytes: its name under ``records/``."""
    size: int
    """Length of the record's bytes."""
    timestamp: str
    """The record's timestamp."""
    signer: str
    """Fingerprint (``SHA256:...``) of the key whose SSHSIG signature follows."""
    signature: bytes
    """The binary SSHSIG blob (namespace ``bias-ledger``) over the record's bytes."""

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": ENTRY_FORMAT_VERSION,
            "index": self.index,
            "kind": self.kind,
            "record": self.record,
            "signature": base64.b64encode(self.signature).decode("ascii"),
            "signer": self.signer,
            "size": self.size,
            "timestamp": self.timestamp,
        }

    def encode(self) -> bytes:
        """The entry's bytes, through the project's one canonical encoder."""
        from bias_ledger.ledger import canonical

        data = canonical.encode(self.to_json())
        if len(data) > MAX_ENTRY_SIZE:
            raise ValueError(f"entry of {len(data)} bytes exceeds {MAX_ENTRY_SIZE}")
        return data


_TEXT = rb'"([ !#-\[\]-~]*)"'
_NUMBER = rb"(0|[1-9][0-9]{0,17})"  # longer numbers take the full parser
_CANONICAL = re.compile(
    rb'\{"format_version":2,"index":'
    + _NUMBER
    + rb',"kind":'
    + _TEXT
    + rb',"record":"([0-9a-f]{64})"'
    rb',"signature":"([A-Za-z0-9+/=]*)","signer":'
    + _TEXT
    + rb',"size":'
    + _NUMBER
    + rb',"timestamp":'
    + _TEXT
    + rb"\}"
)
"""The canonical spelling of an entry whose strings need no escape (every entry bias-ledger
writes): matching it proves what the full parser below would find, without building a dict."""


def parse_entry(data: bytes, *, where: str) -> LogEntry:
    """Parse an entry strictly: exactly the fields above, in their one canonical spelling."""
    match = _CANONICAL.fullmatch(data)
    if match is not None:
        index, kind, record, encoded, signer, size, timestamp = match.groups()
        try:
            signature = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise VerificationError(f"{where}: signature is not base64 ({exc})") from exc
        return LogEntry(
            int(index),
            kind.decode(),
            record.decode(),
            int(size),
            timestamp.decode(),
            signer.decode(),
            signature,
        )
    return _parse_entry(data, where=where)


def _parse_entry(data: bytes, *, where: str) -> LogEntry:
    try:
        # No duplicate-key hook: a repeated key cannot survive the canonical comparison below.
        value = json.loads(data.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise VerificationError(f"{where}: expected an ASCII JSON entry ({exc})") from exc
    if not isinstance(value, dict) or tuple(sorted(value)) != _KEYS:
        found = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise VerificationError(f"{where}: expected entry fields {list(_KEYS)}, found {found}")
    for key in _KEYS:
        item = value[key]
        wanted = int if key in _INTS else str
        if type(item) is not wanted or (isinstance(item, int) and item < 0):
            raise VerificationError(f"{where}: entry field {key!r} has the wrong type")
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":")).encode("ascii")
    if canonical != data:
        raise VerificationError(f"{where}: entry is not in canonical form (RFC 8785)")
    if value["format_version"] != ENTRY_FORMAT_VERSION:
        raise VerificationError(
            f"{where}: unknown entry format_version {value['format_version']} "
            f"(this bias-ledger reads {ENTRY_FORMAT_VERSION})"
        )
    if not _HEX.fullmatch(value["record"]):
        raise VerificationError(f"{where}: record hash is not 64 lowercase hex digits")
    try:
        signature = base64.b64decode(value["signature"], validate=True)
    except binascii.Error as exc:
        raise VerificationError(f"{where}: signature is not base64 ({exc})") from exc
    return LogEntry(
        index=value["index"],
        kind=value["kind"],
        record=value["record"],
        size=value["size"],
        timestamp=value["timestamp"],
        signer=value["signer"],
        signature=signature,
    )
