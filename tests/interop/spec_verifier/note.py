"""C2SP signed-note, tlog-checkpoint and tlog-cosignature, written from the C2SP texts."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .sshsig import SpecError, b64decode_strict

DASH = "\u2014 "
ED25519 = 0x01
COSIGNATURE_V1 = 0x04
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes  # without the key ID (for 0x04: timestamp then signature)


@dataclass(frozen=True)
class Note:
    text: bytes
    signatures: tuple[NoteSignature, ...]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def _line_base64(text: str, what: str) -> bytes:
    """10.11: a signature line's base64 is standard and padded, as Go's StdEncoding reads it:
    the unused low bits of its last character are not checked (same length, same padding)."""
    raw = text.encode("ascii", "replace")
    try:
        value = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SpecError(f"{what}: not valid base64") from exc
    spelled = base64.b64encode(value)
    if len(spelled) != len(raw) or spelled.count(b"=") != raw.count(b"="):
        raise SpecError(f"{what}: base64 is not padded standard base64")
    return value


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def parse_note(data: bytes) -> Note:
    """signed-note: text ending in LF, one empty line, then 1..100 lines `— name base64`."""
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError("note: not UTF-8") from exc
    if any(ord(c) < 0x20 and c != "\n" for c in decoded):
        raise SpecError("note: control character other than newline")
    cut = decoded.rfind("\n\n")
    if cut < 0 or not decoded.endswith("\n"):
        raise SpecError("note: no empty line before the signatures, or no final newline")
    text, block = decoded[: cut + 1], decoded[cut + 2 :]
    lines = block.split("\n")[:-1]
    if not 1 <= len(lines) <= 100:
        raise SpecError(f"note: {len(lines)} signature lines, expected 1 to 100")
    signatures = []
    for line in lines:
        if not line.startswith(DASH):
            raise SpecError(f"note: signature line {line[:30]!r} does not start with an em dash")
        name, space, encoded = line[len(DASH) :].partition(" ")
        if not space or not _valid_name(name):
            raise SpecError(f"note: signature line {line[:30]!r}: bad key name")
        blob = _line_base64(encoded, f"note signature by {name}")
        if len(blob) < 5:
            raise SpecError(f"note: signature by {name} is too short")
        signatures.append(NoteSignature(name, blob[:4], blob[4:]))
    return Note(text.encode("utf-8"), tuple(signatures))


def parse_checkpoint(text: bytes) -> Checkpoint:
    """tlog-checkpoint body: origin, size, base64 root, then optional non-empty extension lines.

    FORMAT.md 10.6 shows only the three lines; C2SP tlog-checkpoint (and the tool) also accept
    extension lines, which carry nothing a verifier uses (spec_findings F4).
    """
    lines = text.decode("utf-8").split("\n")
    if len(lines) < 4 or lines[-1] != "" or "" in lines[:-1]:
        raise SpecError(f"checkpoint: {len(lines) - 1} body lines, expected 3 and extensions")
    origin, size, root = lines[:3]
    if not _valid_name(origin):
        raise SpecError(f"checkpoint: origin {origin!r} is not a valid key name")
    if not _DECIMAL.fullmatch(size):
        raise SpecError(f"checkpoint: size {size!r} is not a decimal without leading zeros")
    digest = b64decode_strict(root, "checkpoint root")
    if len(digest) != 32:
        raise SpecError("checkpoint: root hash is not 32 bytes")
    return Checkpoint(origin, int(size), digest)


def key_id(name: str, kind: int, raw: bytes) -> bytes:
    """signed-note key ID: SHA-256(name || 0x0A || type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + raw).digest()[:4]


def verify_ed25519(text: bytes, signature: bytes, raw: bytes) -> bool:
    if len(signature) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, text)
    except InvalidSignature:
        return False
    return True


def verify_cosignature(text: bytes, signature: bytes, raw: bytes) -> int | None:
    """tlog-cosignature/v1: 8-byte timestamp || Ed25519 over `cosignature/v1\\ntime T\\n` + text."""
    if len(signature) != 72:
        return None
    timestamp = int.from_bytes(signature[:8], "big")
    if timestamp >= 1 << 63:
        return None
    message = b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + text
    return timestamp if verify_ed25519(message, signature[8:], raw) else None


def parse_verifier_key(vkey: str) -> tuple[str, int, bytes]:
    """`<name>+<8 hex key ID>+<base64(type || key)>` checked: returns name, type, raw key."""
    name, _, rest = vkey.partition("+")
    hex_id, _, encoded = rest.partition("+")
    blob = b64decode_strict(encoded, f"verifier key {vkey[:40]!r}")
    if not _valid_name(name) or len(blob) != 33 or not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise SpecError(f"verifier key {vkey[:40]!r}: not name+keyid+base64(type||key)")
    if key_id(name, blob[0], blob[1:]).hex() != hex_id:
        raise SpecError(f"verifier key {vkey[:40]!r}: key ID does not match the key")
    return name, blob[0], blob[1:]
