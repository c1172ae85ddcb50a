"""OpenSSH keys and SSHSIG signatures, from PROTOCOL.sshsig and RFC 4253/8709 alone.

Written from the specifications, not from bias_ledger: an independent second implementation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

MAGIC = b"SSHSIG"
NAMESPACE = b"bias-ledger"
KEY_TYPE = b"ssh-ed25519"
BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"


class SpecError(Exception):
    """The input breaks the specification; the message says where and how."""


def b64decode_strict(text: str | bytes, what: str) -> bytes:
    """Standard padded base64 (RFC 4648 section 4), canonical: re-encoding gives the same text."""
    raw = text.encode("ascii", "replace") if isinstance(text, str) else text
    try:
        value = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SpecError(f"{what}: not valid base64") from exc
    if base64.b64encode(value) != raw:
        raise SpecError(f"{what}: base64 is not in canonical form")
    return value


def read_string(buf: bytes, pos: int, what: str) -> tuple[bytes, int]:
    """An SSH wire `string`: uint32 big-endian length, then that many bytes."""
    if pos + 4 > len(buf):
        raise SpecError(f"{what}: truncated length")
    size = int.from_bytes(buf[pos : pos + 4], "big")
    end = pos + 4 + size
    if end > len(buf):
        raise SpecError(f"{what}: truncated string")
    return buf[pos + 4 : end], end


def ssh_string(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value


def raw_ed25519(wire: bytes) -> bytes:
    """The 32-byte Ed25519 key of a wire-encoded `string "ssh-ed25519" || string key`."""
    kind, pos = read_string(wire, 0, "public key")
    key, pos = read_string(wire, pos, "public key")
    if kind != KEY_TYPE or len(key) != 32 or pos != len(wire):
        raise SpecError("public key: not a wire-encoded ssh-ed25519 key")
    return key


def wire_of_line(line: str) -> bytes:
    """`ssh-ed25519 BASE64 [comment]` to the wire encoding (checked to be Ed25519)."""
    parts = line.split()
    if len(parts) < 2 or parts[0] != KEY_TYPE.decode():
        raise SpecError(f"public key line {line[:40]!r}: expected 'ssh-ed25519 BASE64'")
    wire = b64decode_strict(parts[1], "public key line")
    raw_ed25519(wire)
    if read_string(wire, 0, "public key")[0] != parts[0].encode():
        raise SpecError("public key line: type word and encoded type differ")
    return wire


def line_of_wire(wire: bytes) -> str:
    return f"ssh-ed25519 {base64.b64encode(wire).decode()}"


def fingerprint(wire: bytes) -> str:
    """`SHA256:` + unpadded base64 of SHA-256 of the wire encoding, as `ssh-keygen -l` prints."""
    digest = base64.b64encode(hashlib.sha256(wire).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


@dataclass(frozen=True)
class Sshsig:
    """A parsed SSHSIG blob (PROTOCOL.sshsig section 2)."""

    public_key: bytes
    namespace: bytes
    hash_algorithm: bytes
    signature: bytes


def parse_sshsig(blob: bytes) -> Sshsig:
    if blob[:6] != MAGIC:
        raise SpecError("SSHSIG: missing the SSHSIG magic preamble")
    if blob[6:10] != (1).to_bytes(4, "big"):
        raise SpecError("SSHSIG: signature version is not 1")
    public_key, pos = read_string(blob, 10, "SSHSIG publickey")
    namespace, pos = read_string(blob, pos, "SSHSIG namespace")
    _reserved, pos = read_string(blob, pos, "SSHSIG reserved")
    hash_algorithm, pos = read_string(blob, pos, "SSHSIG hash_algorithm")
    signature, pos = read_string(blob, pos, "SSHSIG signature")
    if pos != len(blob):
        raise SpecError("SSHSIG: bytes after the signature")
    return Sshsig(public_key, namespace, hash_algorithm, signature)


def verify_sshsig(blob: bytes, message: bytes) -> bytes:
    """Verify an Ed25519 SSHSIG over `message` in namespace bias-ledger; return the key (wire)."""
    sig = parse_sshsig(blob)
    if sig.namespace != NAMESPACE:
        raise SpecError(f"SSHSIG: namespace {sig.namespace!r}, expected 'bias-ledger'")
    if sig.hash_algorithm != b"sha512":
        raise SpecError(f"SSHSIG: hash algorithm {sig.hash_algorithm!r}, expected sha512")
    raw = raw_ed25519(sig.public_key)
    kind, pos = read_string(sig.signature, 0, "SSHSIG signature")
    value, pos = read_string(sig.signature, pos, "SSHSIG signature")
    if kind != KEY_TYPE or len(value) != 64 or pos != len(sig.signature):
        raise SpecError("SSHSIG: the signature is not one ssh-ed25519 signature")
    signed = (
        MAGIC
        + ssh_string(NAMESPACE)
        + ssh_string(b"")
        + ssh_string(b"sha512")
        + ssh_string(hashlib.sha512(message).digest())
    )
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(value, signed)
    except InvalidSignature as exc:
        raise SpecError("SSHSIG: the Ed25519 signature does not verify") from exc
    return sig.public_key


def armor(blob: bytes) -> str:
    """The armour `ssh-keygen -Y sign` writes: base64 at 70 columns between BEGIN and END lines."""
    text = base64.b64encode(blob).decode()
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    return "\n".join([BEGIN, *lines, END]) + "\n"


def dearmor(text: str) -> bytes:
    """The blob of an armoured signature that must be byte for byte canonical."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[0] != BEGIN or lines[-2] != END or lines[-1] != "":
        raise SpecError("armoured signature: not BEGIN/END SSH SIGNATURE lines")
    blob = b64decode_strict("".join(lines[1:-2]), "armoured signature")
    if armor(blob) != text:
        raise SpecError("armoured signature: not wrapped exactly as ssh-keygen writes it")
    return blob
