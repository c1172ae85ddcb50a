"""The bundle format: member names, size limits and the ``bundle.json`` manifest (stdlib only).

``docs/FORMAT.md`` section "Bundle format" specifies every member; this module is its code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bias_ledger.errors import BundleError

FORMAT_NAME = "bias-ledger-bundle"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})
REPORT_VERSION = 4
"""Version of the report renderers; bump it whenever report.md or report.html bytes change."""
HASH_NAME = "blake3-256"

MANIFEST = "bundle.json"
CHECKPOINT = "checkpoint"
CHECKPOINT_BODY = "checkpoint.body"
CHECKPOINT_SIG = "checkpoint.sig"
SIGNERS = "keys/allowed_signers"
CONSISTENCY = "consistency.json"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
FIXED_MEMBERS = frozenset(
    {MANIFEST, CHECKPOINT, CHECKPOINT_BODY, CHECKPOINT_SIG, SIGNERS, REPORT_MD, REPORT_HTML}
)
OPTIONAL_MEMBERS = frozenset({CONSISTENCY})
RECORD_MEMBER = re.compile(r"records/(0|[1-9][0-9]{0,15})\.(json|sig)")

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""Every member's timestamp: the earliest a zip can hold, so exports are reproducible."""
ZIP_MODE = 0o100644
"""Every member's Unix mode: a regular file, rw-r--r--."""

MEMBER_LIMIT = 64 * 1024 * 1024
"""Largest uncompressed member accepted (bytes)."""
TOTAL_LIMIT = 512 * 1024 * 1024
"""Largest total uncompressed size accepted (bytes)."""
MEMBER_COUNT_LIMIT = 100_000
"""Most members accepted."""

_HEX64 = re.compile(r"[0-9a-f]{64}")


def record_json(index: int) -> str:
    return f"records/{index}.json"


def record_sig(index: int) -> str:
    return f"records/{index}.sig"


@dataclass(frozen=True)
class ManifestRecord:
    """One record of the bundle as ``bundle.json`` lists it."""

    index: int
    """The record's position in its ledger."""
    record_hash: str
    """Hex BLAKE3-256 of ``records/<index>.json``."""
    leaf_hash: str
    """Hex RFC 9162 leaf hash of the entry line (record bytes, TAB, base64 signature blob)."""
    tree_size: int
    """The tree size the inclusion proof is for: the checkpoint's."""
    inclusion_proof: tuple[str, ...]
    """Hex sibling hashes from the leaf up to the checkpoint root (RFC 9162 2.1.3)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "record_hash": self.record_hash,
            "leaf_hash": self.leaf_hash,
            "inclusion_proof": {"tree_size": self.tree_size, "hashes": list(self.inclusion_proof)},
        }


@dataclass(frozen=True)
class Manifest:
    """The contents of ``bundle.json``."""

    format_version: int
    origin: str
    """The ledger's origin line, as in its checkpoints and records."""
    checkpoint_size: int
    checkpoint_root: str
    """Hex root hash of the checkpoint (also in ``checkpoint.body``, in base64)."""
    records: tuple[ManifestRecord, ...]
    """In ascending index order, no index twice."""
    report_version: int = REPORT_VERSION
    """The renderer version that wrote report.md and report.html."""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "format_version": self.format_version,
            "hash": HASH_NAME,
            "origin": self.origin,
            "checkpoint": {"size": self.checkpoint_size, "root_hash": self.checkpoint_root},
            "records": [item.to_json() for item in self.records],
            "report_version": self.report_version,
        }

    def encode(self) -> bytes:
        return dump_json(self.to_json())


@dataclass(frozen=True)
class ConsistencyJson:
    """The contents of ``consistency.json``: the bundle's tree extends an older tree head."""

    old_size: int
    old_root: str
    new_size: int
    new_root: str
    hashes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "hash": HASH_NAME,
            "old_size": self.old_size,
            "old_root": self.old_root,
            "new_size": self.new_size,
            "new_root": self.new_root,
            "hashes": list(self.hashes),
        }

    def encode(self) -> bytes:
        return dump_json(self.to_json())


def dump_json(value: Any) -> bytes:
    """The one layout of the bundle's JSON members: sorted keys, 2-space indent, ASCII, LF."""
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode()


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def load_json(data: bytes, *, member: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=_pairs)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BundleError(f"{member}: expected JSON, found invalid data ({exc})") from None
    except RecursionError:
        raise BundleError(
            f"{member}: expected JSON, found values nested too deeply to parse"
        ) from None


def _get(obj: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        found = "nothing" if key not in obj else type(value).__name__
        raise BundleError(f"{where}: expected {kind.__name__} field {key!r}, found {found}")
    if isinstance(value, int) and value < 0:
        raise BundleError(f"{where}: field {key!r} must be >= 0, found {value}")
    return value


def _hex(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = _get(obj, key, str, where)
    if not _HEX64.fullmatch(value):
        raise BundleError(f"{where}: field {key!r} must be 64 lowercase hex digits")
    return str(value)


def _hex_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
        isinstance(item, str) and _HEX64.fullmatch(item) for item in value
    ):
        raise BundleError(f"{where}: expected a list of 64-hex-digit hashes")
    return tuple(value)


def check_format(data: Any) -> int:
    """The manifest's format version, refusing anything that is not a bundle we can read."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise BundleError(f"{MANIFEST}: expected format {FORMAT_NAME!r}: not a bias-ledger bundle")
    version = data.get("format_version")
    # Checked for type first: a list or an object is unhashable and cannot be looked up.
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        raise BundleError(
            f"{MANIFEST}: unknown bundle format_version {version!r} (this bias-ledger reads "
            f"{sorted(SUPPORTED_VERSIONS)}); upgrade bias-ledger to verify it"
        )
    return int(version)


def parse_manifest(raw: bytes) -> Manifest:
    """Parse ``bundle.json`` strictly; its bytes must be exactly what :func:`dump_json` writes."""
    data = load_json(raw, member=MANIFEST)
    version = check_format(data)
    if data.get("hash") != HASH_NAME:
        raise BundleError(f"{MANIFEST}: expected hash {HASH_NAME!r}, found {data.get('hash')!r}")
    checkpoint = _get(data, "checkpoint", dict, MANIFEST)
    items = _get(data, "records", list, MANIFEST)
    records = []
    for position, item in enumerate(items):
        where = f"{MANIFEST} records[{position}]"
        if not isinstance(item, dict):
            raise BundleError(f"{where}: expected an object")
        proof = _get(item, "inclusion_proof", dict, where)
        records.append(
            ManifestRecord(
                index=_get(item, "index", int, where),
                record_hash=_hex(item, "record_hash", where),
                leaf_hash=_hex(item, "leaf_hash", where),
                tree_size=_get(proof, "tree_size", int, f"{where} inclusion_proof"),
                inclusion_proof=_hex_list(proof.get("hashes"), f"{where} inclusion_proof"),
            )
        )
    manifest = Manifest(
        format_version=version,
        origin=_get(data, "origin", str, MANIFEST),
        checkpoint_size=_get(checkpoint, "size", int, f"{MANIFEST} checkpoint"),
        checkpoint_root=_hex(checkpoint, "root_hash", f"{MANIFEST} checkpoint"),
        records=tuple(records),
        report_version=_get(data, "report_version", int, MANIFEST),
    )
    if manifest.encode() != raw:
        raise BundleError(
            f"{MANIFEST}: expected the canonical layout (sorted keys, 2-space indent, no extra "
            "fields), found different bytes"
        )
    return manifest


def parse_consistency(raw: bytes) -> ConsistencyJson:
    """Parse ``consistency.json`` strictly."""
    data = load_json(raw, member=CONSISTENCY)
    if not isinstance(data, dict) or data.get("hash") != HASH_NAME:
        raise BundleError(f"{CONSISTENCY}: expected an object with hash {HASH_NAME!r}")
    proof = ConsistencyJson(
        old_size=_get(data, "old_size", int, CONSISTENCY),
        old_root=_hex(data, "old_root", CONSISTENCY),
        new_size=_get(data, "new_size", int, CONSISTENCY),
        new_root=_hex(data, "new_root", CONSISTENCY),
        hashes=_hex_list(data.get("hashes"), CONSISTENCY),
    )
    if proof.encode() != raw:
        raise BundleError(f"{CONSISTENCY}: expected the canonical layout, found different bytes")
    return proof


@dataclass(frozen=True)
class BundleContents:
    """A bundle's members, read into memory and checked for safety (not yet verified)."""

    source: str
    """The bundle file, for messages."""
    members: Mapping[str, bytes]
    """Member name to its bytes."""
    manifest: Manifest

    def record_indexes(self) -> tuple[int, ...]:
        return tuple(item.index for item in self.manifest.records)
