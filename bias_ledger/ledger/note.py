"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures and cosignature/v1.

Byte-for-byte what Go's ``golang.org/x/mod/sumdb/note`` writes and accepts (except a repeated
line by a known key, which is verified here as the spec demands, skipped by Go): a text ending
in a newline, a blank line, then signature lines ``— <key name> <base64(key ID || signature)>``.
Verifier keys are the ``<name>+<8 hex key ID>+<base64(type byte || public key)>`` strings.
Timestamped witness cosignatures (c2sp.org/tlog-cosignature, type 0x04) are note signatures too,
so one :func:`open_note` checks a log's signature and its witnesses' cosignatures alike.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bias_ledger.errors import VerificationError

ED25519 = 0x01
"""Signature type byte of plain Ed25519 note signatures (a log's checkpoint signature)."""
COSIGNATURE_V1 = 0x04
"""Signature type byte of timestamped Ed25519 witness cosignatures (tlog-cosignature)."""
MAX_SIGNATURES = 100
"""More signature lines than this make a note malformed (Go's limit; the spec asks >= 16)."""
MAX_TIMESTAMP = 2**63 - 1
"""The largest cosignature timestamp tlog-cosignature allows."""

_SIGNATURE_PREFIX = "— "
_SIGNATURE_LENGTH = {ED25519: 64, COSIGNATURE_V1: 8 + 64}
_TYPE_NAMES = {ED25519: "Ed25519", COSIGNATURE_V1: "cosignature/v1"}


def is_valid_key_name(name: str) -> bool:
    """Whether ``name`` may name a key: non-empty, no Unicode space, no ``+``, no control."""
    return (
        name != ""
        and "+" not in name
        and not any(char.isspace() or ord(char) < 0x20 for char in name)
    )


def _check_key_name(name: str, what: str) -> None:
    if not is_valid_key_name(name):
        raise VerificationError(
            f"{what}: expected a key name without spaces, '+' or control characters, got {name!r}"
        )


def decode_base64(text: str, what: str) -> bytes:
    """Decode standard, padded base64 (RFC 4648 section 4), accepting only its canonical form."""
    try:
        value = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise VerificationError(f"{what}: expected standard base64, got {text!r}") from exc
    # b64decode tolerates padding in the middle and stray low bits; one spelling per value
    # keeps a signed line from having several encodings.
    if base64.b64encode(value).decode("ascii") != text:
        raise VerificationError(f"{what}: expected canonical padded base64, got {text!r}")
    return value


def decode_signature_base64(text: str, what: str) -> bytes:
    """Decode a signature line's base64 as Go's ``sumdb/note`` does (``StdEncoding``, not
    strict): standard alphabet and padding, the unused low bits of the last character free.
    A line is not signed, and every spelling decodes to the same key ID and signature, so a
    note Go opens opens here too (and one it refuses is refused)."""
    try:
        value = binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise VerificationError(f"{what}: expected standard base64, got {text!r}") from exc
    canonical = base64.b64encode(value).decode("ascii")
    # Same length and padding: only the last character's unused bits may differ (every other
    # character spells six bits of the value); "AAAA====" and the like are refused, as in Go.
    if len(canonical) != len(text) or canonical.count("=") != text.count("="):
        raise VerificationError(f"{what}: expected padded base64, got {text!r}")
    return value


def encode_base64(value: bytes) -> str:
    """Encode standard, padded base64."""
    return base64.b64encode(value).decode("ascii")


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    """The 32 bytes of an Ed25519 public key (RFC 8032 encoding)."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, signature_type: int, public_key: bytes) -> int:
    """``SHA-256(name || 0x0A || type || public key)[:4]`` as a big-endian uint32."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([signature_type]) + public_key)
    value: int = struct.unpack(">I", digest.digest()[:4])[0]
    return value


def cosignature_message(text: str, timestamp: int) -> bytes:
    """The bytes a cosignature/v1 signs: header line, ``time <t>`` line, the checkpoint text."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise VerificationError(
            f"cosignature: expected a timestamp in [0, 2**63-1], got {timestamp}"
        )
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note."""

    name: str
    """The signing key's name."""
    key_id: int
    """The signing key's 32-bit ID (the first four bytes of the line's base64 payload)."""
    signature: bytes
    """The signature bytes after the key ID (for cosignature/v1: timestamp || Ed25519)."""

    def line(self) -> str:
        """The signature line ``— <name> <base64>`` with its final newline."""
        payload = struct.pack(">I", self.key_id) + self.signature
        return f"{_SIGNATURE_PREFIX}{self.name} {encode_base64(payload)}\n"

    def key(self) -> str:
        """``name+hex key ID``: how Go names a key in its errors."""
        return f"{self.name}+{self.key_id:08x}"


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted Ed25519 key for notes: a log key (type 0x01) or a witness key (type 0x04)."""

    name: str
    """The key name signature lines must carry."""
    signature_type: int
    """:data:`ED25519` or :data:`COSIGNATURE_V1`."""
    public_key: bytes = field(repr=False)
    """The 32-byte Ed25519 public key."""

    def __post_init__(self) -> None:
        _check_key_name(self.name, "verifier key")
        if self.signature_type not in _SIGNATURE_LENGTH:
            raise VerificationError(
                f"verifier key {self.name}: expected signature type 0x01 or 0x04, "
                f"got 0x{self.signature_type:02x}"
            )
        if len(self.public_key) != 32:
            raise VerificationError(
                f"verifier key {self.name}: expected a 32-byte Ed25519 key, "
                f"got {len(self.public_key)} bytes"
            )

    @property
    def key_id(self) -> int:
        """The key ID signature lines by this key carry."""
        return key_id(self.name, self.signature_type, self.public_key)

    def verifier_key(self) -> str:
        """The ``<name>+<hex key ID>+<base64(type || key)>`` string (Go's ``vkey``)."""
        material = encode_base64(bytes([self.signature_type]) + self.public_key)
        return f"{self.name}+{self.key_id:08x}+{material}"

    def verify(self, text: str, signature: bytes) -> bool:
        """Whether ``signature`` (after the key ID) is this key's valid signature of ``text``."""
        if len(signature) != _SIGNATURE_LENGTH[self.signature_type]:
            return False
        message = text.encode("utf-8")
        if self.signature_type == COSIGNATURE_V1:
            timestamp: int = struct.unpack(">Q", signature[:8])[0]
            if timestamp > MAX_TIMESTAMP:
                return False
            message, signature = cosignature_message(text, timestamp), signature[8:]
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


def note_verifier(
    name: str, public_key: Ed25519PublicKey, signature_type: int = ED25519
) -> NoteVerifier:
    """The verifier of ``public_key`` under ``name`` for notes (default) or cosignatures."""
    return NoteVerifier(name, signature_type, raw_public_key(public_key))


def parse_verifier_key(vkey: str) -> NoteVerifier:
    """Parse a ``<name>+<hex key ID>+<base64(type || key)>`` verifier key, checking its ID."""
    what = f"verifier key {vkey!r}"
    name, _, rest = vkey.partition("+")
    id_hex, _, material_b64 = rest.partition("+")
    _check_key_name(name, what)
    if len(id_hex) != 8 or any(char not in "0123456789abcdefABCDEF" for char in id_hex):
        raise VerificationError(f"{what}: expected 8 hex digits of key ID after the name")
    material = decode_base64(material_b64, what)
    if len(material) != 33:
        raise VerificationError(
            f"{what}: expected a type byte and a 32-byte Ed25519 key, got {len(material)} bytes"
        )
    verifier = NoteVerifier(name, material[0], material[1:])
    if verifier.key_id != int(id_hex, 16):
        raise VerificationError(
            f"{what}: key ID {id_hex} does not match the key, expected {verifier.key_id:08x}"
        )
    return verifier


@dataclass(frozen=True)
class SignedNote:
    """A note's text and its signature lines, parsed but not verified."""

    text: str
    """The note text, including its final newline."""
    signatures: tuple[NoteSignature, ...]
    """The signature lines in the order they appear."""

    def encode(self) -> bytes:
        """The note's bytes: text, blank line, signature lines."""
        return (self.text + "\n" + "".join(sig.line() for sig in self.signatures)).encode()


@dataclass(frozen=True)
class OpenedNote:
    """A note whose signatures by trusted keys all verified."""

    note: SignedNote
    """The note as parsed."""
    verified: tuple[NoteSignature, ...]
    """Valid signatures by trusted keys, one per key, at least one."""
    verified_by: tuple[NoteVerifier, ...]
    """The trusted key of each verified signature, in the same order."""
    unverified: tuple[NoteSignature, ...]
    """Signatures by keys not trusted here (ignored, as the spec demands)."""

    @property
    def text(self) -> str:
        """The verified note text."""
        return self.note.text


def check_note_text(text: str, what: str = "note") -> None:
    """Check text a note may carry: ends in a newline, no control character but newline."""
    if not text.endswith("\n"):
        raise VerificationError(f"{what}: expected text ending in a newline")
    for char in text:
        if ord(char) < 0x20 and char != "\n":
            raise VerificationError(
                f"{what}: expected no control character but newline, got U+{ord(char):04X}"
            )


def _parse_signature_line(line: str, what: str) -> NoteSignature:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise VerificationError(f"{what}: expected a signature line starting '— ', got {line!r}")
    name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    _check_key_name(name, what)
    payload = decode_signature_base64(encoded, f"{what}: signature of {name}")
    if len(payload) < 5:
        raise VerificationError(f"{what}: expected a key ID and a signature from {name}")
    return NoteSignature(name, struct.unpack(">I", payload[:4])[0], payload[4:])


def parse_note(data: bytes, what: str = "note") -> SignedNote:
    """Split a signed note into text and signature lines, checking its syntax only."""
    try:
        message = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VerificationError(
            f"{what}: expected UTF-8, got an invalid byte at {exc.start}"
        ) from exc
    check_note_text(message, what)
    split = message.rfind("\n\n")
    if split < 0:
        raise VerificationError(f"{what}: expected a blank line before the signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block:
        raise VerificationError(f"{what}: expected at least one signature line")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise VerificationError(
            f"{what}: expected at most {MAX_SIGNATURES} signatures, got {len(lines)}"
        )
    return SignedNote(text, tuple(_parse_signature_line(line, what) for line in lines))


def _index(verifiers: Iterable[NoteVerifier]) -> dict[tuple[str, int], NoteVerifier]:
    known: dict[tuple[str, int], NoteVerifier] = {}
    for verifier in verifiers:
        slot = (verifier.name, verifier.key_id)
        if slot in known and known[slot] != verifier:
            raise VerificationError(
                f"ambiguous verifier keys: two keys are {slot[0]}+{slot[1]:08x}"
            )
        known[slot] = verifier
    return known


def open_note(data: bytes, verifiers: Iterable[NoteVerifier], what: str = "note") -> OpenedNote:
    """Parse ``data`` and verify every signature by a trusted key.

    Signatures by unknown keys (other name or key ID) are ignored; a trusted key's signature
    that fails rejects the whole note, even after a valid one by the same key; a note no
    trusted key signed is rejected.
    """
    note = parse_note(data, what)
    known = _index(verifiers)
    verified: dict[tuple[str, int], NoteSignature] = {}
    by: dict[tuple[str, int], NoteVerifier] = {}
    unverified: list[NoteSignature] = []
    for signature in note.signatures:
        slot = (signature.name, signature.key_id)
        verifier = known.get(slot)
        if verifier is None:
            if signature not in unverified:
                unverified.append(signature)
            continue
        # Every line by a known key is checked, a repeated one too (signed-note: "MUST verify
        # the signature"); Go's note.Open skips repeats of a key it already verified.
        if not verifier.verify(note.text, signature.signature):
            raise VerificationError(
                f"{what}: invalid {_TYPE_NAMES[verifier.signature_type]} signature "
                f"by {signature.key()}"
            )
        if slot not in verified:
            verified[slot], by[slot] = signature, verifier
    if not verified:
        names = ", ".join(f"{name}+{kid:08x}" for name, kid in known) or "none"
        raise VerificationError(
            f"{what}: expected a signature by a trusted key ({names}), found none"
        )
    return OpenedNote(note, tuple(verified.values()), tuple(by.values()), tuple(unverified))


def sign_text(text: str, name: str, private_key: Ed25519PrivateKey) -> NoteSignature:
    """The Ed25519 (type 0x01) note signature of ``text`` by ``private_key`` named ``name``."""
    _check_key_name(name, "signer")
    check_note_text(text)
    public = raw_public_key(private_key.public_key())
    return NoteSignature(name, key_id(name, ED25519, public), private_key.sign(text.encode()))


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> bytes:
    """A signed note of ``text`` with one Ed25519 signature, as bytes."""
    return SignedNote(text, (sign_text(text, name, private_key),)).encode()


def cosign_text(
    text: str, name: str, private_key: Ed25519PrivateKey, timestamp: int
) -> NoteSignature:
    """The cosignature/v1 (type 0x04) of checkpoint ``text`` at POSIX time ``timestamp``."""
    _check_key_name(name, "cosigner")
    check_note_text(text, "checkpoint")
    public = raw_public_key(private_key.public_key())
    signature = private_key.sign(cosignature_message(text, timestamp))
    return NoteSignature(
        name, key_id(name, COSIGNATURE_V1, public), struct.pack(">Q", timestamp) + signature
    )


def cosignature_timestamp(signature: NoteSignature) -> int:
    """The timestamp a cosignature/v1 signature line carries."""
    if len(signature.signature) != _SIGNATURE_LENGTH[COSIGNATURE_V1]:
        raise VerificationError(f"cosignature by {signature.key()}: expected 72 bytes")
    value: int = struct.unpack(">Q", signature.signature[:8])[0]
    return value


def with_signatures(note: SignedNote, added: Sequence[NoteSignature]) -> SignedNote:
    """``note`` with ``added`` after its signatures; an added key's older line is dropped."""
    replaced = {(sig.name, sig.key_id) for sig in added}
    kept = tuple(sig for sig in note.signatures if (sig.name, sig.key_id) not in replaced)
    return SignedNote(note.text, kept + tuple(added))
