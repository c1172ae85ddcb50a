"""Append-time refusal of a key the ledger rotated out or revoked, in both formats.

Verification finds records signed by a retired key (:mod:`bias_ledger.ledger.key_history`);
these checks keep the writer from making them. Both read as little as they can: when the key
signed the last record, and that record is no key record, nothing retired it since (the store
refuses a retired key), so one record is read and a writer that keeps appending stays O(1).
"""

from __future__ import annotations

import mmap
from pathlib import Path

from bias_ledger.errors import KeyFileError, LedgerError, VerificationError
from bias_ledger.ledger.canonical import parse_json
from bias_ledger.ledger.entry import parse_line
from bias_ledger.ledger.key_records import REVOCATION, ROTATION, key_of, revocation_target
from bias_ledger.ledger.keys import fingerprint, line_fingerprint


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
            if stop < 0:
                break  # bytes after the last LF are an interrupted append, never a record
            _refuse_line(bytes(data[start:stop]), signer_fingerprint, records)
            position = data.find(marker, stop)


def _is_key(signer: object, wanted: str) -> bool:
    """Whether a record's ``signer`` is the key of fingerprint ``wanted``, by its public key
    (format-2 records hold no fingerprint field; a held one is not what the signature follows)."""
    if not isinstance(signer, dict):
        return False
    try:
        return line_fingerprint(str(signer.get("public_key"))) == wanted
    except KeyFileError:
        return False


def _signed_by(line: bytes, signer_fingerprint: str) -> bool:
    try:
        record = parse_json(parse_line(line, where="").record_bytes)
    except VerificationError:
        return False
    signer = record.get("signer") if isinstance(record, dict) else None
    return _is_key(signer, signer_fingerprint)


def _refuse_line(line: bytes, signer_fingerprint: str, records: Path) -> None:
    try:
        record_bytes = parse_line(line, where=str(records)).record_bytes
    except VerificationError:
        return  # not a record (verify and fsck report it); nothing it says is relied on
    _refuse_record(record_bytes, signer_fingerprint, records)


def _refuse_record(record_bytes: bytes, signer_fingerprint: str, records: Path) -> None:
    try:
        record = parse_json(record_bytes)
    except VerificationError:
        return  # not a record (verify and fsck report it); nothing it says is relied on
    if not isinstance(record, dict):
        return
    kind, payload = record.get("kind"), record.get(str(record.get("kind")))
    signer = record.get("signer")
    index = record.get("index")
    mine = _is_key(signer, signer_fingerprint)
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
        version = record.get("format_version")
        try:
            target, _ = revocation_target(
                payload,
                where=f"{records} record {index}",
                format_version=version if type(version) is int else 1,
            )
        except VerificationError:
            return
        if target == signer_fingerprint:
            raise LedgerError(
                f"key {signer_fingerprint} was revoked by record {index} of {records}: "
                "it signs no new records"
            )


def refuse_retired_signer_v2(path: Path, size: int, signer_fingerprint: str) -> None:
    """The same refusal for a format-2 ledger of ``size`` entries: its entries name each
    record's kind and signer, so only the key records are read."""
    from bias_ledger.ledger.tlog_entry import parse_entry
    from bias_ledger.ledger.tlog_read import iter_entries, read_record
    from bias_ledger.ledger.tlog_source import DirectorySource

    if size == 0:
        return
    source = DirectorySource(path)
    try:
        last = parse_entry(next(d for _, d in iter_entries(source, size, size - 1)), where="")
        if last.signer == signer_fingerprint and last.kind not in (ROTATION, REVOCATION):
            return
        for index, data in iter_entries(source, size):
            entry = parse_entry(data, where=f"{path} record {index}")
            if entry.kind in (ROTATION, REVOCATION):
                record = read_record(source, entry, where=f"{path} record {index}")
                _refuse_record(record, signer_fingerprint, path)
    except VerificationError as exc:
        raise LedgerError(
            f"{exc.message}; nothing was appended (run 'bias-ledger verify')"
        ) from exc
