"""What a witness decides about one ``add-checkpoint`` request (c2sp.org/tlog-witness).

HTTP-free, so that each status code has one place and a test: malformed 400, unknown origin
404, no valid log signature 403, old size not the one cosigned 409 (with that size), a size-0
checkpoint without the empty tree's root, roots of equal sizes that differ, or a consistency
proof that fails 422 (tlog-witness since C2SP/C2SP#280; 409 is only "retry from this size").
"""

from __future__ import annotations

from dataclasses import dataclass

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.merkle import SHA256_HASHER
from bias_ledger.ledger.merkle_verify import verify_consistency
from bias_ledger.ledger.note import NoteSignature, SignedNote, open_note, parse_note
from bias_ledger.ledger.tlog_checkpoint import Checkpoint, parse_checkpoint
from bias_ledger.witness.logs import LogKeys
from bias_ledger.witness.protocol import SIZE_CONTENT_TYPE, format_size_body, parse_add_checkpoint
from bias_ledger.witness.state import Cosigned


class WitnessRefusal(VerificationError):
    """A request the witness does not cosign, with the HTTP answer the spec prescribes."""

    def __init__(
        self, status: int, message: str, *, body: bytes | None = None, content_type: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = body if body is not None else f"{message}\n".encode()
        self.content_type = content_type or "text/plain"


@dataclass(frozen=True)
class Submission:
    """A request whose syntax and log signature checked out."""

    old_size: int
    """The size the client says the witness last cosigned."""
    proof: tuple[bytes, ...]
    """The consistency proof from ``old_size`` to ``checkpoint.size``."""
    checkpoint: Checkpoint
    """The submitted checkpoint's body."""
    note: SignedNote
    """The submitted checkpoint note."""
    note_bytes: bytes
    """The note's bytes, as received."""
    log_signatures: tuple[NoteSignature, ...] = ()
    """The note's signatures by the log's keys that the witness verified."""


def admit(body: bytes, logs: LogKeys) -> Submission:
    """Check what needs no state: syntax (400), origin (404), log signature (403), sizes (400)."""
    try:
        request = parse_add_checkpoint(body)
        note = parse_note(request.checkpoint_note, "checkpoint")
        checkpoint = parse_checkpoint(note.text)
    except VerificationError as exc:
        raise WitnessRefusal(400, exc.message) from exc
    verifiers = logs.get(checkpoint.origin)
    if verifiers is None:
        raise WitnessRefusal(404, f"unknown log origin {checkpoint.origin!r}")
    try:
        opened = open_note(request.checkpoint_note, verifiers, f"checkpoint of {checkpoint.origin}")
    except VerificationError as exc:
        raise WitnessRefusal(403, exc.message) from exc
    if request.old_size > checkpoint.size:
        raise WitnessRefusal(
            400, f"old size {request.old_size} is larger than the checkpoint's {checkpoint.size}"
        )
    return Submission(
        request.old_size,
        request.proof,
        checkpoint,
        note,
        request.checkpoint_note,
        opened.verified,
    )


def _conflict(message: str, cosigned_size: int) -> WitnessRefusal:
    return WitnessRefusal(
        409, message, body=format_size_body(cosigned_size), content_type=SIZE_CONTENT_TYPE
    )


def check_consistency(submission: Submission, last: Cosigned | None) -> None:
    """Check ``submission`` against the latest cosigned checkpoint (409, 422) or return."""
    new = submission.checkpoint
    last_size = last.checkpoint.size if last else 0
    last_root = last.checkpoint.root_hash if last else SHA256_HASHER.empty_root()
    if new.size == 0 and new.root_hash != SHA256_HASHER.empty_root():
        raise WitnessRefusal(422, "expected the empty tree's root hash for a checkpoint of size 0")
    if submission.old_size != last_size:
        raise _conflict(
            f"old size {submission.old_size}, but the latest cosigned size is {last_size}",
            last_size,
        )
    if submission.old_size == new.size:
        if new.root_hash != last_root:
            raise WitnessRefusal(422, f"a different root hash at the cosigned size {last_size}")
        if submission.proof:
            raise WitnessRefusal(422, "expected an empty consistency proof for equal sizes")
        return
    if submission.old_size == 0:
        if submission.proof:
            raise WitnessRefusal(422, "expected an empty consistency proof from size 0")
        return
    try:
        verify_consistency(
            SHA256_HASHER,
            submission.old_size,
            new.size,
            last_root,
            new.root_hash,
            submission.proof,
        )
    except VerificationError as exc:
        raise WitnessRefusal(422, exc.message) from exc
