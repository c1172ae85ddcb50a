"""The C2SP checkpoint body (c2sp.org/tlog-checkpoint): origin, tree size, root hash, extensions.

A checkpoint is the text of a signed note (``note.py``); this module only writes and reads that
text, strictly: one spelling per checkpoint, so the signed bytes are what they say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.note import check_note_text, decode_base64, encode_base64

ROOT_HASH_SIZE = 32
"""Bytes of an RFC 6962 SHA-256 root hash."""
MAX_TREE_SIZE = 2**63 - 1
"""The largest tree size accepted (Go's tlog keeps sizes in an int64)."""

_DECIMAL = re.compile(r"0|[1-9][0-9]*")


def format_size(size: int) -> str:
    """A tree size as ASCII decimal without leading zeroes."""
    if not 0 <= size <= MAX_TREE_SIZE:
        raise VerificationError(f"checkpoint: expected a tree size in [0, 2**63-1], got {size}")
    return str(size)


def parse_size(text: str, what: str) -> int:
    """Parse an ASCII decimal tree size without leading zeroes (``int`` alone takes ``+1_0``)."""
    if _DECIMAL.fullmatch(text) is None:
        raise VerificationError(
            f"{what}: expected a decimal size without leading zeroes, got {text!r}"
        )
    # the length first: int() of thousands of digits raises (Python's digit limit) or is slow
    if len(text) > len(str(MAX_TREE_SIZE)) or int(text) > MAX_TREE_SIZE:
        shown = text if len(text) <= 40 else f"{text[:20]}... ({len(text)} digits)"
        raise VerificationError(f"{what}: expected a size of at most 2**63-1, got {shown}")
    return int(text)


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head as a C2SP checkpoint body."""

    origin: str
    """The log's identity, the first line (and the log key's name)."""
    size: int
    """The number of leaves in the tree."""
    root_hash: bytes
    """The RFC 6962 SHA-256 root hash of the tree at ``size``."""
    extensions: tuple[str, ...] = ()
    """Extension lines after the root hash, each non-empty (bias-ledger writes none)."""

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise VerificationError(
                f"checkpoint: expected a one-line, non-empty origin, got {self.origin!r}"
            )
        format_size(self.size)
        if len(self.root_hash) != ROOT_HASH_SIZE:
            raise VerificationError(
                f"checkpoint: expected a {ROOT_HASH_SIZE}-byte root hash, "
                f"got {len(self.root_hash)} bytes"
            )
        for line in self.extensions:
            if not line or "\n" in line:
                raise VerificationError(
                    f"checkpoint: expected non-empty extension lines, got {line!r}"
                )
        check_note_text(self.text(), "checkpoint")

    def text(self) -> str:
        """The checkpoint body: one line per field, each ending in a newline."""
        lines = [self.origin, str(self.size), encode_base64(self.root_hash), *self.extensions]
        return "".join(f"{line}\n" for line in lines)


def parse_checkpoint(text: str, what: str = "checkpoint") -> Checkpoint:
    """Parse a checkpoint body (a note's text, final newline included)."""
    check_note_text(text, what)
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise VerificationError(
            f"{what}: expected origin, size and root hash lines, got {len(lines)} line(s)"
        )
    origin, size_line, root_line, *extensions = lines
    if not origin:
        raise VerificationError(f"{what}: expected a non-empty origin line")
    size = parse_size(size_line, f"{what}: tree size")
    root_hash = decode_base64(root_line, f"{what}: root hash")
    if len(root_hash) != ROOT_HASH_SIZE:
        raise VerificationError(
            f"{what}: expected a {ROOT_HASH_SIZE}-byte root hash, got {len(root_hash)} bytes"
        )
    for number, line in enumerate(extensions, start=4):
        if not line:
            raise VerificationError(f"{what}: expected a non-empty extension line {number}")
    return Checkpoint(origin, size, root_hash, tuple(extensions))
