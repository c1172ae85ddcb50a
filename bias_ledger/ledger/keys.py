"""Ed25519 keys in OpenSSH formats: generate, load, write, print and fingerprint them.

Keys written here are read by ssh-keygen and git, and ``~/.ssh/id_ed25519`` is read as it is.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
import struct
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bias_ledger.errors import KeyFileError
from bias_ledger.ledger.files import fsync_directory, read_regular, temporary_name

KEY_TYPE = "ssh-ed25519"
"""The only key type bias-ledger signs and verifies with."""

_PRIVATE_HEADER = b"-----BEGIN OPENSSH PRIVATE KEY-----"
_PRIVATE_FOOTER = b"-----END OPENSSH PRIVATE KEY-----"
_PRIVATE_MAGIC = b"openssh-key-v1\x00"


def encode_string(value: bytes) -> bytes:
    """Return ``value`` as an SSH wire ``string`` (RFC 4251 section 5): length, then bytes."""
    return struct.pack(">I", len(value)) + value


class WireReader:
    """Reads RFC 4251 ``uint32`` and ``string`` fields, raising ``ValueError`` on short data."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._offset = 0

    def take(self, count: int) -> bytes:
        """Return the next ``count`` raw bytes."""
        end = self._offset + count
        if end > len(self._data):
            raise ValueError(f"expected {count} more bytes, got {len(self._data) - self._offset}")
        chunk = self._data[self._offset : end]
        self._offset = end
        return chunk

    def uint32(self) -> int:
        """Return the next big-endian 32-bit unsigned integer."""
        value: int = struct.unpack(">I", self.take(4))[0]
        return value

    def string(self) -> bytes:
        """Return the next length-prefixed string."""
        return self.take(self.uint32())

    def end(self) -> None:
        """Check that every byte was read."""
        if self._offset != len(self._data):
            raise ValueError(f"expected no more data, got {len(self._data) - self._offset} bytes")


def generate_key() -> Ed25519PrivateKey:
    """Return a new random Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def public_key_blob(public_key: Ed25519PublicKey) -> bytes:
    """Return the SSH wire encoding of a public key: ``string "ssh-ed25519"``, ``string key``."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return encode_string(KEY_TYPE.encode()) + encode_string(raw)


def public_key_from_blob(blob: bytes, *, source: str) -> Ed25519PublicKey:
    """Parse the SSH wire encoding of an Ed25519 public key; ``source`` names it in errors."""
    try:
        reader = WireReader(blob)
        key_type = reader.string().decode("ascii", "replace")
        if key_type != KEY_TYPE:
            raise KeyFileError(f"{source}: expected an {KEY_TYPE} key, found {key_type}")
        raw = reader.string()
        reader.end()
    except ValueError as exc:
        raise KeyFileError(f"{source}: malformed {KEY_TYPE} public key: {exc}") from exc
    if len(raw) != 32:
        raise KeyFileError(f"{source}: expected a 32-byte Ed25519 public key, got {len(raw)} bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """Return the key's fingerprint as ``ssh-keygen -l`` prints it: ``SHA256:`` + base64."""
    digest = hashlib.sha256(public_key_blob(public_key)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


@functools.lru_cache(maxsize=64)
def line_fingerprint(line: str) -> str:
    """The fingerprint of an OpenSSH public key line, as records derive their signer's (cached:
    a ledger has few signers and many records); raises KeyFileError for anything else."""
    return fingerprint(parse_public_key(line))


def public_key_openssh(public_key: Ed25519PublicKey, comment: str = "") -> str:
    """Return the one-line OpenSSH form ``ssh-ed25519 AAAA... [comment]``."""
    line = f"{KEY_TYPE} {base64.b64encode(public_key_blob(public_key)).decode()}"
    return f"{line} {comment}" if comment else line


def parse_public_key(text: str, *, source: str = "public key") -> Ed25519PublicKey:
    """Parse ``ssh-ed25519 AAAA... [comment]`` (a ``.pub`` file's line)."""
    fields = text.strip().split(maxsplit=2)
    if len(fields) < 2:
        raise KeyFileError(f"{source}: expected '{KEY_TYPE} <base64> [comment]', got {text!r}")
    if fields[0] != KEY_TYPE:
        raise KeyFileError(f"{source}: expected an {KEY_TYPE} key, found {fields[0]}")
    try:
        blob = base64.b64decode(fields[1], validate=True)
    except ValueError as exc:  # binascii.Error, or a non-ASCII character
        raise KeyFileError(f"{source}: public key is not valid base64: {exc}") from exc
    return public_key_from_blob(blob, source=source)


def _openssh_body(data: bytes, source: str) -> WireReader:
    """Return a reader past the magic of an ``openssh-key-v1`` private key file.

    Errors describe what was found without quoting it: whatever was passed as a private key
    may be one (a raw seed, a key in another format, a truncated file).
    """
    text = data.strip()
    if not (text.startswith(_PRIVATE_HEADER) and text.endswith(_PRIVATE_FOOTER)):
        raise KeyFileError(
            f"{source}: expected an OpenSSH private key from {_PRIVATE_HEADER.decode()} to "
            f"{_PRIVATE_FOOTER.decode()}, found {_describe(text)} (contents not shown)"
        )
    inner = text[len(_PRIVATE_HEADER) : -len(_PRIVATE_FOOTER)]
    try:
        decoded = base64.b64decode(b"".join(inner.split()), validate=True)
    except binascii.Error as exc:
        raise KeyFileError(f"{source}: OpenSSH private key is not valid base64") from exc
    if not decoded.startswith(_PRIVATE_MAGIC):
        raise KeyFileError(f"{source}: expected the openssh-key-v1 format")
    return WireReader(decoded[len(_PRIVATE_MAGIC) :])


def _describe(text: bytes) -> str:
    """What a would-be private key looks like, in words that reveal none of its bytes."""
    if not text:
        return "nothing"
    if text.startswith(_PRIVATE_HEADER):
        return f"{len(text)} bytes with no {_PRIVATE_FOOTER.decode()} line (truncated?)"
    if text.startswith(b"-----BEGIN "):
        return "a PEM block of another kind (convert it with ssh-keygen -p -f FILE)"
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) in (32, 64):
        return f"base64 of {len(raw)} raw bytes (expected the whole OpenSSH key file)"
    return f"{len(text)} bytes of something else"


def private_key_info(data: bytes, *, source: str) -> tuple[str, bool]:
    """Return the key type and whether the key is encrypted, without decrypting it."""
    reader = _openssh_body(data, source)
    try:
        cipher = reader.string()
        reader.string()  # KDF name
        reader.string()  # KDF options
        reader.uint32()  # number of keys
        key_type = _printable(WireReader(reader.string()).string())
    except ValueError as exc:
        raise KeyFileError(f"{source}: malformed OpenSSH private key: {exc}") from exc
    return key_type, cipher != b"none"


def _printable(name: bytes) -> str:
    """A key type name, or a stand-in when the bytes are no plausible name."""
    text = name.decode("ascii", "replace")
    return text if len(text) <= 64 and text.isprintable() and text.isascii() else "unknown"


def load_private_key(data: bytes, passphrase: bytes | None, *, source: str) -> Ed25519PrivateKey:
    """Load an OpenSSH Ed25519 private key, decrypting it with ``passphrase`` if encrypted.

    A passphrase given for an unencrypted key is ignored. ``source`` names the key in errors.
    """
    key_type, encrypted = private_key_info(data, source=source)
    if key_type != KEY_TYPE:
        raise KeyFileError(f"{source}: expected an {KEY_TYPE} key, found {key_type}")
    if encrypted and not passphrase:
        raise KeyFileError(f"{source}: the key is encrypted, expected a passphrase, got none")
    try:
        key = serialization.load_ssh_private_key(data, passphrase if encrypted else None)
    except ValueError as exc:
        if encrypted:
            raise KeyFileError(f"{source}: wrong passphrase (the key did not decrypt)") from exc
        raise KeyFileError(f"{source}: malformed OpenSSH private key") from exc
    except UnsupportedAlgorithm as exc:
        raise KeyFileError(f"{source}: unsupported key encryption: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{source}: expected an Ed25519 key, found {type(key).__name__}")
    return key


def load_private_key_file(path: Path, passphrase: bytes | None) -> Ed25519PrivateKey:
    """Read and load an OpenSSH Ed25519 private key file."""
    try:
        data = read_regular(path, error=KeyFileError)
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the key file: {exc.strerror}") from exc
    return load_private_key(data, passphrase, source=str(path))


def private_key_to_openssh(key: Ed25519PrivateKey, passphrase: bytes | None) -> bytes:
    """Return the key in OpenSSH format, encrypted (bcrypt KDF, AES-256) if a passphrase is set."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, encryption
    )


def _create_exclusive(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` holding ``data`` with ``mode``, atomically, never replacing a file.

    The bytes go to a temporary file that is then hard-linked into place: the link fails if
    ``path`` exists, and nobody can see a partly written key.
    """
    temporary = temporary_name(path)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
    except FileExistsError as exc:
        raise KeyFileError(f"{path}: refusing to overwrite an existing file") from exc
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot write the key file: {exc.strerror}") from exc
    finally:
        temporary.unlink(missing_ok=True)


def write_private_key_file(
    path: Path, key: Ed25519PrivateKey, passphrase: bytes | None, *, comment: str = ""
) -> Path:
    """Write the private key (mode 0600) and ``<path>.pub`` beside it; return the .pub path.

    Refuses to overwrite either file.
    """
    path = Path(path)
    public_path = path.with_name(path.name + ".pub")
    for existing in (path, public_path):
        if os.path.lexists(existing):
            raise KeyFileError(f"{existing}: refusing to overwrite an existing file")
    _create_exclusive(path, private_key_to_openssh(key, passphrase), 0o600)
    public_line = public_key_openssh(key.public_key(), comment) + "\n"
    _create_exclusive(public_path, public_line.encode(), 0o644)
    fsync_directory(path.parent)
    return public_path
