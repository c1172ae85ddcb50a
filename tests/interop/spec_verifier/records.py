"""Format-2 entries (FORMAT.md 10.3) and records (sections 4 and 10.2)."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

import blake3

from .sshsig import SpecError, fingerprint, verify_sshsig, wire_of_line

ENTRY_KEYS = (
    "format_version", "index", "kind", "record", "signature", "signer", "size", "timestamp"
)  # fmt: skip
KINDS = {"audit", "approval", "gate", "key_rotation", "key_revocation"}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Entry:
    index: int
    kind: str
    record: str
    signature: bytes
    signer: str
    size: int
    timestamp: str


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise SpecError(f"duplicate JSON member among {sorted(keys)[:5]}")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise SpecError(f"{name} is not JSON (section 1: NaN and Infinity cannot be encoded)")


def load_json(data: bytes, what: str) -> Any:
    """Strict JSON (10.2): UTF-8, no member name repeated in an object, no NaN or Infinity."""
    try:
        return json.loads(
            data.decode("utf-8"), object_pairs_hook=_unique, parse_constant=_no_constant
        )
    except SpecError as exc:
        raise SpecError(f"{what}: {exc}") from exc
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SpecError(f"{what}: not JSON: {exc}") from exc


def parse_entry(data: bytes, where: str) -> Entry:
    """Exactly the eight members, ASCII strings or non-negative integers, canonical spelling."""
    value = load_json(data, where)
    if not isinstance(value, dict) or tuple(sorted(value)) != ENTRY_KEYS:
        raise SpecError(f"{where}: members are not exactly {', '.join(ENTRY_KEYS)}")
    for key, item in value.items():
        ok_int = isinstance(item, int) and not isinstance(item, bool) and item >= 0
        ok_str = isinstance(item, str) and item.isascii()
        if not (ok_str or ok_int):
            raise SpecError(f"{where}: {key} is neither an ASCII string nor an integer >= 0")
    if json.dumps(value, sort_keys=True, separators=(",", ":")).encode() != data:
        raise SpecError(f"{where}: not in canonical form (RFC 8785)")
    if value["format_version"] != 2:
        raise SpecError(f"{where}: format_version {value['format_version']!r}, expected 2")
    for key in ("index", "size"):
        if not isinstance(value[key], int):
            raise SpecError(f"{where}: {key} is not an integer")
    for key in ("kind", "record", "signature", "signer", "timestamp"):
        if not isinstance(value[key], str):
            raise SpecError(f"{where}: {key} is not a string")
    if not HEX64.fullmatch(value["record"]):
        raise SpecError(f"{where}: record is not 64 lowercase hex digits")
    blob = base64.b64decode(value["signature"], validate=True)
    if base64.b64encode(blob).decode() != value["signature"]:
        raise SpecError(f"{where}: signature is not canonical padded base64")
    return Entry(
        value["index"], value["kind"], value["record"], blob, value["signer"], value["size"],
        value["timestamp"],
    )  # fmt: skip


def check_record(
    entry: Entry,
    data: bytes,
    *,
    index: int,
    origin: str,
    previous: str | None,
    chained: bool = True,
) -> tuple[dict[str, Any], bytes]:
    """The record's bytes against its entry (10.3), then `check_header` with format_version 2."""
    if entry.index != index:
        raise SpecError(f"entry {index}: says index {entry.index}")
    if blake3.blake3(data).hexdigest() != entry.record:
        raise SpecError(f"record {index}: BLAKE3 of the record bytes is not the entry's record")
    if len(data) != entry.size:
        raise SpecError(f"record {index}: {len(data)} bytes, the entry says {entry.size}")
    record, wire = check_header(
        data, entry.signature, index=index, origin=origin, previous=previous, chained=chained
    )
    mirrored = (record["kind"], record["timestamp"], fingerprint(wire))
    if mirrored != (entry.kind, entry.timestamp, entry.signer):
        raise SpecError(f"record {index}: kind, timestamp or signer differ from the entry's")
    if record["kind"] == "audit":
        check_sha256_digests(record["audit"], index)
    return record, wire


def check_sha256_digests(audit: dict[str, Any], index: int) -> None:
    """10.2: a format-2 audit carries `sha256` beside `blake3` for each input file and artifact."""
    # Single files only: in-memory tables and directories are digested otherwise (section 4).
    inputs = [i for i in audit.get("inputs", []) if isinstance(i, dict)]
    files = [i for i in inputs if i.get("format") != "table" and "manifest" not in i]
    subject = audit.get("subject")
    artifact = subject.get("artifact") if isinstance(subject, dict) else None
    if isinstance(artifact, dict):
        files.append(artifact)
    for item in files:
        digests = (str(item.get("sha256")), str(item.get("blake3")))
        if not all(HEX64.fullmatch(d) for d in digests):
            raise SpecError(f"record {index}: {item.get('name')!r} lacks a sha256 or blake3 digest")


def check_header(
    data: bytes,
    signature: bytes,
    *,
    index: int,
    origin: str,
    previous: str | None,
    chained: bool = True,
    version: int = 2,
) -> tuple[dict[str, Any], bytes]:
    """Section 4's checks of record `index`: header, chain, signer and its SSHSIG signature.

    `chained` False (a bundle without record index - 1): `previous_hash` is only checked to be
    null for record 0 and a BLAKE3 hex digest otherwise. Returns the record and its key (wire).
    """
    where = f"record {index}"
    record = load_json(data, where)
    if not isinstance(record, dict):
        raise SpecError(f"{where}: not a JSON object")
    expected: dict[str, object] = {
        "format_version": version,
        "index": index,
        "origin": origin,
        "previous_hash": previous,
    }
    if not chained:
        link = record.get("previous_hash")
        if (link is None) != (index == 0) or not (link is None or HEX64.fullmatch(str(link))):
            raise SpecError(f"{where}: previous_hash {link!r} is not a record hash (null for 0)")
        del expected["previous_hash"]
    for key, want in expected.items():
        if key not in record or record[key] != want or type(record[key]) is not type(want):
            raise SpecError(f"{where}: {key} is {record.get(key)!r}, expected {want!r}")
    kind = record.get("kind")
    if kind not in KINDS or not isinstance(record.get(str(kind)), dict):
        raise SpecError(f"{where}: kind {kind!r} without its payload object")
    stamp = record.get("timestamp")
    if not isinstance(stamp, str) or not TIMESTAMP.fullmatch(stamp):
        raise SpecError(f"{where}: timestamp {stamp!r}, not YYYY-MM-DDTHH:MM:SS.ffffffZ")
    if not isinstance(record.get("labels"), dict):
        raise SpecError(f"{where}: labels is not an object")
    signer = record.get("signer")
    # 10.2: a format-2 record may hold the key alone; format 1 (section 4) holds both.
    shapes = [["fingerprint", "public_key"]] + ([["public_key"]] if version == 2 else [])
    if not isinstance(signer, dict) or sorted(signer) not in shapes:
        raise SpecError(f"{where}: signer is not {{fingerprint, public_key}} or {{public_key}}")
    wire = wire_of_line(signer["public_key"])
    if signer.get("fingerprint", fingerprint(wire)) != fingerprint(wire):
        raise SpecError(f"{where}: signer fingerprint is not the fingerprint of its public key")
    if verify_sshsig(signature, data) != wire:
        raise SpecError(f"{where}: SSHSIG made by another key than signer.public_key")
    return record, wire


def check_reference(
    record: dict[str, Any], hashes: dict[int, str], kinds: dict[int, str], index: int
) -> None:
    """An approval's `approves` / a gate's `judges`: an earlier index with its record hash,
    of an audit record (FORMAT.md section 4)."""
    field = {"approval": "approves", "gate": "judges"}.get(record["kind"])
    ref = record[record["kind"]].get(field) if field else None
    if not isinstance(ref, dict):
        if field == "approves":
            raise SpecError(f"record {index}: approval without approves")
        return
    target = ref.get("index")
    if not isinstance(target, int) or not 0 <= target < index:
        raise SpecError(f"record {index}: {field} names index {target!r}, not an earlier one")
    if target in hashes and ref.get("record_hash") != hashes[target]:
        raise SpecError(f"record {index}: {field} {target} with the wrong record_hash")
    if target in kinds and kinds[target] != "audit":
        raise SpecError(f"record {index}: {field} {target}, of kind {kinds[target]}, not an audit")
