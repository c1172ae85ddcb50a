"""One ledger entry: the canonical record bytes and the SSHSIG signature over them, on one line.

An entry line is ``<canonical record JSON> TAB <base64 SSHSIG blob> LF``. Canonical JSON never
holds a raw tab or newline, so the split is unambiguous, and the record bytes that were signed
and hashed are sliced out exactly as stored: nothing is re-serialised to verify them.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from bias_ledger.errors import VerificationError

SEPARATOR = b"\t"
ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----"
ARMOR_END = "-----END SSH SIGNATURE-----"
ARMOR_WIDTH = 70


@dataclass(frozen=True)
class Entry:
    """A ledger entry as stored."""

    record_bytes: bytes
    """The RFC 8785 canonical bytes of the record: what is hashed and signed."""
    signature: bytes
    """The binary SSHSIG blob (PROTOCOL.sshsig) over ``record_bytes``."""

    def line(self) -> bytes:
        """The stored line without its terminating newline: the Merkle leaf data."""
        return self.record_bytes + SEPARATOR + base64.b64encode(self.signature)

    def armored_signature(self) -> str:
        return armor(self.signature)


def parse_line(line: bytes, *, where: str) -> Entry:
    """Split one stored line (without its newline) into record bytes and signature blob."""
    record_bytes, separator, encoded = line.partition(SEPARATOR)
    if not separator:
        raise VerificationError(f"{where}: expected '<record>TAB<signature>', found no tab")
    if SEPARATOR in encoded:
        raise VerificationError(f"{where}: expected one tab separator, found several")
    try:
        signature = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise VerificationError(f"{where}: signature is not valid base64 ({exc})") from exc
    if not record_bytes.startswith(b"{") or not record_bytes.endswith(b"}"):
        raise VerificationError(f"{where}: expected a JSON object before the tab")
    return Entry(record_bytes=record_bytes, signature=signature)


def armor(blob: bytes) -> str:
    """ASCII-armour a binary SSHSIG blob exactly as ``ssh-keygen -Y sign`` does."""
    text = base64.b64encode(blob).decode("ascii")
    lines = [text[i : i + ARMOR_WIDTH] for i in range(0, len(text), ARMOR_WIDTH)]
    return "\n".join([ARMOR_BEGIN, *lines, ARMOR_END]) + "\n"


def dearmor(text: str, *, where: str) -> bytes:
    """The binary SSHSIG blob inside an armoured signature."""
    lines = [line.strip() for line in text.strip().splitlines()]
    if len(lines) < 3 or lines[0] != ARMOR_BEGIN or lines[-1] != ARMOR_END:
        raise VerificationError(f"{where}: expected an armoured SSH SIGNATURE block")
    try:
        return base64.b64decode("".join(lines[1:-1]), validate=True)
    except ValueError as exc:  # binascii.Error, or a non-ASCII character
        raise VerificationError(f"{where}: signature armour is not valid base64 ({exc})") from exc
