"""The ``add-checkpoint`` request body of c2sp.org/tlog-witness, written and read strictly.

``old <size>``, up to 63 base64 consistency-proof hashes, a blank line, then the signed
checkpoint note. Both the server and the client use this one codec.
"""

from __future__ import annotations

from dataclasses import dataclass

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.note import decode_base64, encode_base64
from bias_ledger.ledger.tlog_checkpoint import ROOT_HASH_SIZE, format_size, parse_size
from bias_ledger.ledger.tlog_source import MAX_CHECKPOINT_BYTES

ADD_CHECKPOINT_PATH = "/add-checkpoint"
"""Where, under a witness's submission prefix, checkpoints are posted."""
MONITORING_CHECKPOINT_PATH = "/{origin_hash}/checkpoint"
"""Where, under its monitoring prefix, a witness serves the latest checkpoint it cosigned for
the log whose origin has this SHA-256 (lowercase hex)."""
SIZE_CONTENT_TYPE = "text/x.tlog.size"
"""Content type of a 409 response: the witness's latest cosigned size and a newline."""
MAX_PROOF_HASHES = 63
"""A client MUST NOT send more consistency-proof lines than this."""
MAX_BODY_BYTES = MAX_CHECKPOINT_BYTES + 8 * 1024
"""Largest request body a witness reads: the largest checkpoint a verifier reads (room for
16 post-quantum-sized signatures, as signed-note asks), the old size line and 63 proof lines."""


@dataclass(frozen=True)
class AddCheckpoint:
    """One ``add-checkpoint`` request."""

    old_size: int
    """The size of the latest checkpoint the client believes the witness cosigned."""
    proof: tuple[bytes, ...]
    """The RFC 6962 consistency proof from ``old_size`` to the checkpoint's size."""
    checkpoint_note: bytes
    """The signed checkpoint note (its signature lines included)."""

    def encode(self) -> bytes:
        """The request body."""
        if len(self.proof) > MAX_PROOF_HASHES:
            raise VerificationError(
                f"add-checkpoint: expected at most {MAX_PROOF_HASHES} proof hashes, "
                f"got {len(self.proof)}"
            )
        lines = [f"old {format_size(self.old_size)}", *map(encode_base64, self.proof), ""]
        return "".join(f"{line}\n" for line in lines).encode("ascii") + self.checkpoint_note


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse an ``add-checkpoint`` body; the checkpoint note itself is parsed by the caller."""
    what = "add-checkpoint request"
    blank = body.find(b"\n\n")
    if blank < 0:
        raise VerificationError(f"{what}: expected a blank line before the checkpoint")
    try:
        head = body[:blank].decode("ascii")
    except UnicodeDecodeError as exc:
        raise VerificationError(f"{what}: expected ASCII old-size and proof lines") from exc
    first, *proof_lines = head.split("\n")
    if not first.startswith("old "):
        raise VerificationError(f"{what}: expected 'old <size>' as the first line, got {first!r}")
    old_size = parse_size(first[len("old ") :], f"{what}: old size")
    if len(proof_lines) > MAX_PROOF_HASHES:
        raise VerificationError(
            f"{what}: expected at most {MAX_PROOF_HASHES} proof lines, got {len(proof_lines)}"
        )
    proof = []
    for number, line in enumerate(proof_lines, start=2):
        value = decode_base64(line, f"{what}: proof line {number}")
        if len(value) != ROOT_HASH_SIZE:
            raise VerificationError(
                f"{what}: proof line {number}: expected a {ROOT_HASH_SIZE}-byte hash, "
                f"got {len(value)} bytes"
            )
        proof.append(value)
    return AddCheckpoint(old_size, tuple(proof), body[blank + 2 :])


def format_size_body(size: int) -> bytes:
    """The body of a 409 response."""
    return f"{format_size(size)}\n".encode("ascii")


def parse_size_body(body: bytes) -> int:
    """The witness's latest cosigned size from a 409 response body."""
    text = body.decode("ascii", "replace")
    if not text.endswith("\n"):
        raise VerificationError(f"409 response: expected a size and a newline, got {text!r}")
    return parse_size(text[:-1], "409 response")
