"""Reading a ledger's records for people: the log lines and one record in full."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bias_ledger._version import unknown_results_schema
from bias_ledger.errors import InputError, LedgerError
from bias_ledger.ledger import canonical
from bias_ledger.ledger.entry import parse_line
from bias_ledger.ledger.files import open_regular
from bias_ledger.ledger.key_records import computed_fingerprint
from bias_ledger.ledger.reader import RECORDS_FILE, StoredLedger, read_ledger
from bias_ledger.ledger.record import SUPPORTED_FORMAT_VERSIONS


@dataclass(frozen=True)
class LogLine:
    """One record, summarised."""

    index: int
    timestamp: str
    kind: str
    model_name: str | None
    model_version: str | None
    verdict: str | None
    """The policy verdict (pass/fail) of an audit with a policy; None otherwise."""
    signer: str
    """The signer's key fingerprint."""
    detail: str
    """A short description: the approved record, the new key, ..."""

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "timestamp": self.timestamp,
            "kind": self.kind,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "verdict": self.verdict,
            "signer": self.signer,
            "detail": self.detail,
        }


def _record(stored: StoredLedger, index: int) -> dict[str, Any]:
    where = f"{stored.path} record {index}"
    entry = parse_line(stored.lines[index], where=where)
    try:
        record = canonical.parse_json(entry.record_bytes, where=where)
    except canonical.CanonicalEncodingError as exc:
        raise LedgerError(f"{exc.message}; run 'bias-ledger verify'") from exc
    if not isinstance(record, dict):
        raise LedgerError(f"{where}: expected a JSON object; run 'bias-ledger verify'")
    version = record.get("format_version")
    if type(version) is not int or version not in SUPPORTED_FORMAT_VERSIONS:
        raise LedgerError(
            f"{where}: unknown record format_version {version!r} (this bias-ledger reads "
            f"{sorted(SUPPORTED_FORMAT_VERSIONS)}); refusing to read it"
        )
    payload = record.get("audit")
    if record.get("kind") == "audit" and isinstance(payload, dict):
        refused = unknown_results_schema(payload, where)
        if refused is not None:
            raise LedgerError(refused)
    return record


def summarise(record: dict[str, Any]) -> LogLine:
    kind = str(record.get("kind"))
    payload = record.get(kind) or {}
    subject = payload.get("subject") or {} if isinstance(payload, dict) else {}
    policy = payload.get("policy") if isinstance(payload, dict) else None
    detail = ""
    if kind == "approval":
        approves = payload.get("approves", {})
        detail = f"approves record {approves.get('index')}"
        if payload.get("note"):
            detail += f": {payload['note']}"
    elif kind == "key_rotation":
        detail = f"new key {computed_fingerprint(payload.get('new_public_key'))}"
    elif kind == "key_revocation":
        detail = (
            f"revokes key {computed_fingerprint(payload.get('revoked_public_key'))} after "
            f"record {payload.get('invalid_after')}"
        )
    elif kind == "audit":
        parameters = payload.get("parameters") or {}
        task = parameters.get("task", "binary_classification")
        detail = "sensitive: " + ", ".join(parameters.get("sensitive") or [])
        if payload.get("standard"):
            detail = f"{payload['standard']}; sex: {parameters.get('sex')}, race/ethnicity: "
            detail += str(parameters.get("race_ethnicity"))
        if task != "binary_classification":
            detail = f"{task}; {detail}"
    elif kind == "gate":
        detail = f"judges record {(payload.get('judges') or {}).get('index')}"
    return LogLine(
        index=int(record.get("index", -1)),
        timestamp=str(record.get("timestamp")),
        kind=kind,
        model_name=subject.get("model_name"),
        model_version=subject.get("model_version"),
        verdict=policy.get("verdict") if isinstance(policy, dict) else None,
        signer=computed_fingerprint((record.get("signer") or {}).get("public_key")),
        detail=detail,
    )


def torn_tail_warning(path: Path) -> str | None:
    """A warning when ``records.log`` does not end in a newline (reads one byte, not the log)."""
    records = path / RECORDS_FILE
    try:
        fd = open_regular(records, follow_symlinks=False, error=LedgerError)
    except (OSError, LedgerError):
        return None  # missing, or refused with its own message by the read that follows
    try:
        size = os.fstat(fd).st_size
        whole = size == 0 or os.pread(fd, 1, size - 1) == b"\n"
    finally:
        os.close(fd)
    if whole:
        return None
    return (
        f"{records}: ends in an interrupted append (not a record, not shown; the next "
        "append overwrites it)"
    )


def log_lines(path: Path) -> list[LogLine]:
    stored = read_ledger(path)
    return [summarise(_record(stored, index)) for index in range(len(stored.lines))]


def read_record(path: Path, index: int) -> tuple[dict[str, Any], bytes]:
    """Record ``index`` as JSON and its entry line (for the signature)."""
    stored = read_ledger(path)
    if not 0 <= index < len(stored.lines):
        raise InputError(
            f"record {index}: the ledger has records 0..{len(stored.lines) - 1}"
            if stored.lines
            else f"record {index}: the ledger is empty"
        )
    return _record(stored, index), stored.lines[index]
