"""Checkpoints: the C2SP tlog-checkpoint body of the ledger's tree head, signed with SSHSIG.

A signed checkpoint file is the body (origin, tree size, base64 root hash, each line ending in a
newline), one empty line, then the armored SSHSIG signature (namespace ``bias-ledger``) over
exactly the body bytes. Anyone can check it without bias-ledger: save the lines before the empty
line as ``body`` and the armor after it as ``body.sig``, then run
``ssh-keygen -Y verify -f allowed_signers -I <principal> -n bias-ledger -s body.sig < body``.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.errors import VerificationError
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.digits import parse_digits, shortened
from bias_ledger.ledger.trust import TrustedKeys

_SIZE = re.compile(r"0|[1-9][0-9]*")
SIZE_DIGITS = 20
"""The longest tree size read: no ledger holds 10**20 records, and ``int`` raises beyond 4,300
digits (format 1 sets no other bound; format 2's is 2**63-1)."""
HASH_SIZE = 32
"""Length of the root hash in bytes (BLAKE3-256)."""


def _check_line(value: str, what: str) -> None:
    if not value or "\n" in value or not value.isprintable():
        raise VerificationError(f"checkpoint: expected a non-empty printable {what}, got {value!r}")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: which log, how many leaves, and the Merkle root over them."""

    origin: str
    """The log's unique name, the first line of the body."""
    size: int
    """The number of leaves (records) in the tree."""
    root_hash: bytes
    """The RFC 9162 root of the tree of ``size`` leaves."""
    extensions: tuple[str, ...] = ()
    """Optional extension lines after the root hash (unused by bias-ledger itself)."""

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        for line in self.extensions:
            _check_line(line, "extension line")
        if type(self.size) is not int or self.size < 0:
            raise VerificationError(f"checkpoint: expected a tree size >= 0, got {self.size!r}")
        if len(self.root_hash) != HASH_SIZE:
            raise VerificationError(
                f"checkpoint: expected a {HASH_SIZE}-byte root hash, got {len(self.root_hash)}"
            )

    def to_json(self) -> dict[str, object]:
        """``{"origin", "size", "root_hash"}`` with the root as hex, for reports."""
        return {"origin": self.origin, "size": self.size, "root_hash": self.root_hash.hex()}

    def body(self) -> bytes:
        """Return the checkpoint body bytes: every line, each ending in a newline."""
        root = base64.b64encode(self.root_hash).decode()
        lines = [self.origin, str(self.size), root, *self.extensions]
        return "".join(f"{line}\n" for line in lines).encode()

    @classmethod
    def parse(cls, body: bytes, *, source: str = "checkpoint") -> Checkpoint:
        """Parse a body strictly: it must be exactly what :meth:`body` would write."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise VerificationError(f"{source}: expected UTF-8 text, got {exc.reason}") from exc
        if not text.endswith("\n"):
            raise VerificationError(f"{source}: expected the body to end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise VerificationError(f"{source}: expected at least 3 lines, got {len(lines)}")
        origin, size, root, *extensions = lines
        if not _SIZE.fullmatch(size):
            raise VerificationError(
                f"{source}: expected a decimal tree size without leading zeros, got {size!r}"
            )
        try:
            root_hash = base64.b64decode(root, validate=True)
        except ValueError as exc:  # binascii.Error, or a non-ASCII character
            raise VerificationError(f"{source}: root hash is not base64: {root!r}") from exc
        if base64.b64encode(root_hash).decode() != root:
            raise VerificationError(f"{source}: root hash is not canonical base64: {root!r}")
        count = parse_digits(size, max_digits=SIZE_DIGITS)
        if count is None:
            raise VerificationError(
                f"{source}: expected a tree size of at most {SIZE_DIGITS} digits, got "
                f"{shortened(size)}"
            )
        try:
            checkpoint = cls(origin, count, root_hash, tuple(extensions))
        except VerificationError as exc:
            detail = exc.message.removeprefix("checkpoint: ")
            raise VerificationError(f"{source}: {detail}") from exc
        return checkpoint


def sign_checkpoint(checkpoint: Checkpoint, key: Ed25519PrivateKey) -> bytes:
    """Return the signed checkpoint file: body, an empty line, the SSHSIG armor of the body."""
    body = checkpoint.body()
    return body + b"\n" + sshsig.sign(key, body).encode()


def parse_signed_checkpoint(data: bytes, *, source: str) -> tuple[Checkpoint, str]:
    """Split a signed checkpoint file into its parsed body and its armored signature."""
    body, separator, armor = data.partition(b"\n\n")
    if not separator:
        raise VerificationError(
            f"{source}: expected the checkpoint body, an empty line, then a signature"
        )
    checkpoint = Checkpoint.parse(body + b"\n", source=source)
    try:
        armored = armor.decode("ascii")
    except UnicodeDecodeError as exc:
        raise VerificationError(f"{source}: expected an ASCII signature after the body") from exc
    if not armored.startswith(sshsig.BEGIN):
        raise VerificationError(f"{source}: expected {sshsig.BEGIN!r} after the empty line")
    return checkpoint, armored


def verify_signed_checkpoint(
    data: bytes, trusted: TrustedKeys, *, source: str = "checkpoint"
) -> Checkpoint:
    """Check a signed checkpoint file's signature and that a trusted key made it."""
    checkpoint, armored = parse_signed_checkpoint(data, source=source)
    try:
        signer = sshsig.verify(armored, checkpoint.body())
    except VerificationError as exc:
        raise VerificationError(f"{source}: {exc.message}") from exc
    trusted.require(signer, what=f"{source} (tree size {checkpoint.size})")
    return checkpoint
