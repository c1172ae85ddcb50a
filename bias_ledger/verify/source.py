"""The seam between the verification core and the things it verifies.

A *source* holds signed records and a signed checkpoint: a ledger directory
(:mod:`bias_ledger.verify.ledger_source`), a bundle (:mod:`bias_ledger.bundle.verify`), and
later the format-2 tiles of a published log. The core asks a source two things only:

* :meth:`Source.integrity`: everything that needs no trust anchor (bytes, hashes, record
  signatures, the hash chain, inclusion in or the root of the checkpoint, the checkpoint's own
  signature), recorded check by check in the given :class:`Checklist`; raise
  :class:`~bias_ledger.errors.VerificationError` at the first failure.
* :meth:`Source.root_at`: the root of the tree's first ``size`` leaves, as the source can prove
  it is a prefix of its checkpoint's tree (computed from every leaf, or read from a verified
  consistency proof); raise when it cannot.

A source whose checkpoints are not format-1 SSHSIG checkpoints (a format-2 bundle's signed
notes) also has ``kept_checkpoint(kept, trusted)``: the kept checkpoint's body and the key
whose signature over it verified, as :func:`bias_ledger.verify.core.check_since` needs them
(or None: read it as a format-1 checkpoint).

Trust (following key rotations from the keys the user trusts), the checkpoint signer's trust,
and ``--since`` (rollback and fork) are written once, in :mod:`bias_ledger.verify.core`, over
what these two methods return. To add a source: implement the two methods and the three
attributes, and call :func:`bias_ledger.verify.core.verify_source`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.ledger.checkpoint import Checkpoint
from bias_ledger.ledger.entry_checks import CheckedEntry
from bias_ledger.verify.result import Checklist


@dataclass(frozen=True)
class Integrity:
    """What a source proved without trusting anyone."""

    origin: str
    size: int
    """The tree size the source speaks for (a ledger's record count, a bundle's checkpoint)."""
    checkpoint: Checkpoint | None
    checkpoint_key: Ed25519PublicKey | None
    """The key whose signature over the checkpoint verified; None without a checkpoint."""
    entries: Mapping[int, CheckedEntry]
    """The records present, by index, in ascending order."""
    warnings: tuple[str, ...] = field(default=())


class Source(Protocol):
    kind: str
    """``ledger``, ``bundle``, ``tiles``: names the source in reports."""
    name: str
    """The path or URL, for messages."""
    trust_hint: str
    """What to pass when no trust anchor was given (ends the "no trusted key" message)."""

    def integrity(self, checklist: Checklist) -> Integrity: ...

    def root_at(self, size: int, *, wanted_by: str) -> bytes: ...
