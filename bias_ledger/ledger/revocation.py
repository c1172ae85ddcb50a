"""What a revocation in effect, or a rotation, forbids a key to sign (docs/FORMAT.md section 4).

Part of the verifier's trusted core: the rules the key walk (``key_history.py``) applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Revocation:
    """A ``key_revocation`` record in effect."""

    index: int
    """The revocation record's index."""
    after: int
    """Its ``invalid_after``: the revoked key's records above it are invalid."""
    kept: int | None = None
    """The rotation record, signed by the revoked key, that introduced the revocation's signer
    (or its ancestor): a revocation never reaches the rotation its own signer's trust rests on."""

    def reaches(self, index: int) -> bool:
        """Whether the revoked key's record ``index`` is invalid by this revocation."""
        return index > self.after and index != self.kept


Revoked = Mapping[str, Sequence[Revocation]]
"""Fingerprint to the revocations in effect against it, in index order."""


def invalidity(
    retired: Mapping[str, tuple[int, str]], revoked: Revoked, fp: str, index: int
) -> str | None:
    """Why key ``fp`` may not sign at ``index`` (rotated out, or revoked), or None."""
    if fp in retired and index > retired[fp][0]:
        at, successor = retired[fp]
        return (
            f"signed by key {fp} after record {at} rotated it out to {successor} "
            "(a rotated-out key signs no new records)"
        )
    for revocation in revoked.get(fp, ()):
        if revocation.reaches(index):
            but = "" if revocation.kept is None else f" but record {revocation.kept}"
            return (
                f"signed by key {fp}, which record {revocation.index} revoked for everything "
                f"it signed after record {revocation.after}{but}"
            )
    return None


def orphaned(fp: str, rotation: int) -> str:
    """Why a key that only an invalid rotation introduced signs nothing valid."""
    return (
        f"signed by key {fp}, which only the rotation in record {rotation} introduced, "
        "and that record is invalid"
    )
