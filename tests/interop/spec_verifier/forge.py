"""Writing format-2 log files from the spec alone, to forge what an attacker holding a key could.

Used by the tests to build inputs the tool's writers refuse to make (e.g. a record signed by a
rotated-out key); the forged files follow FORMAT.md byte for byte otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import blake3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_ssh_private_key,
)

from .merkle import leaf_hash, root, sha256
from .note import ED25519, key_id, parse_checkpoint, parse_note
from .sshsig import KEY_TYPE, MAGIC, NAMESPACE, fingerprint, line_of_wire, ssh_string
from .tiles import split_bundle, tile_path


def load_key(path: Path) -> Ed25519PrivateKey:
    key = load_ssh_private_key(path.read_bytes(), None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def wire(key: Ed25519PrivateKey) -> bytes:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return ssh_string(KEY_TYPE) + ssh_string(raw)


def sshsig_sign(key: Ed25519PrivateKey, message: bytes) -> bytes:
    """PROTOCOL.sshsig: the blob over `message`, namespace bias-ledger, sha512."""
    tail = ssh_string(NAMESPACE) + ssh_string(b"") + ssh_string(b"sha512")
    signed = MAGIC + tail + ssh_string(hashlib.sha512(message).digest())
    signature = ssh_string(KEY_TYPE) + ssh_string(key.sign(signed))
    return MAGIC + (1).to_bytes(4, "big") + ssh_string(wire(key)) + tail + ssh_string(signature)


def sign_note(text: bytes, key: Ed25519PrivateKey) -> bytes:
    """A signed note of `text` with one Ed25519 line under the checkpoint's origin (10.6)."""
    origin = text.split(b"\n", 1)[0].decode()
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    blob = key_id(origin, ED25519, raw) + key.sign(text)
    return text + f"\n\u2014 {origin} {base64.b64encode(blob).decode()}\n".encode()


def canonical(value: Any) -> bytes:
    """RFC 8785 for values of ASCII strings, integers, null and objects (all a record here has)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def forge_append(ledger: Path, key: Ed25519PrivateKey, payload: dict[str, Any]) -> None:
    """Append one approval signed by `key` to a log of fewer than 255 records, and sign it."""
    cp = parse_checkpoint(parse_note((ledger / "checkpoint").read_bytes()).text)
    size = cp.size
    entries = split_bundle((ledger / tile_path("entries", 0, size)).read_bytes(), "e", size)
    last = json.loads(entries[-1])
    public = wire(key)
    record = {
        "approval": payload,
        "format_version": 2,
        "index": size,
        "kind": "approval",
        "labels": {},
        "origin": cp.origin,
        "previous_hash": last["record"],
        "signer": {"fingerprint": fingerprint(public), "public_key": line_of_wire(public)},
        "timestamp": "2026-12-02T01:00:00.000000Z",
    }
    body = canonical(record)
    digest = blake3.blake3(body).hexdigest()
    (ledger / "records" / f"{digest}.json").write_bytes(body)
    entry = canonical(
        {
            "format_version": 2,
            "index": size,
            "kind": "approval",
            "record": digest,
            "signature": base64.b64encode(sshsig_sign(key, body)).decode(),
            "signer": fingerprint(public),
            "size": len(body),
            "timestamp": record["timestamp"],
        }
    )
    write_log(ledger, [*entries, entry], key)


def read_entries(ledger: Path) -> list[bytes]:
    """The entries of a log of fewer than 256 records."""
    size = parse_checkpoint(parse_note((ledger / "checkpoint").read_bytes()).text).size
    return split_bundle((ledger / tile_path("entries", 0, size)).read_bytes(), "e", size)


def write_log(ledger: Path, entries: list[bytes], key: Ed25519PrivateKey) -> None:
    """Entry bundle, hash tile and a checkpoint signed by `key` for these (< 256) entries."""
    origin = parse_checkpoint(parse_note((ledger / "checkpoint").read_bytes()).text).origin
    leaves = [leaf_hash(sha256, e) for e in entries]
    for level, data in (
        ("entries", b"".join(len(e).to_bytes(2, "big") + e for e in entries)),
        (0, b"".join(leaves)),
    ):
        path = ledger / tile_path(level, 0, len(entries))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    text = f"{origin}\n{len(entries)}\n{base64.b64encode(root(sha256, leaves)).decode()}\n"
    (ledger / "checkpoint").write_bytes(sign_note(text.encode(), key))
