"""Checking a format-2 checkpoint note's log signature and witness cosignatures (10.6, 10.11-12)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from .note import (
    COSIGNATURE_V1,
    ED25519,
    Note,
    key_id,
    parse_verifier_key,
    verify_cosignature,
    verify_ed25519,
)
from .sshsig import SpecError, fingerprint, raw_ed25519


def log_signer(note: Note, origin: str, candidates: Iterable[bytes]) -> bytes:
    """The candidate key (SSH wire) whose Ed25519 note signature under `origin` verifies.

    Lines by unknown keys (name and key ID not both known) are ignored; a line by a known key
    that does not verify rejects the note (signed-note).
    """
    known = {key_id(origin, ED25519, raw_ed25519(wire)): wire for wire in candidates}
    found: bytes | None = None
    for line in note.signatures:
        wire = known.get(line.key_id) if line.name == origin else None
        if wire is None:
            continue
        if not verify_ed25519(note.text, line.signature, raw_ed25519(wire)):
            raise SpecError(f"checkpoint: the signature by {fingerprint(wire)} does not verify")
        found = found or wire
    if found is None:
        raise SpecError(f"checkpoint: no signature under {origin!r} by any candidate key")
    return found


def read_policy(path: Path) -> tuple[dict[str, tuple[str, bytes]], int]:
    """A witness policy file (10.12): `witness NAME VKEY` lines and one `quorum K` line."""
    witnesses: dict[str, tuple[str, bytes]] = {}
    quorum: int | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = raw.split("#", 1)[0].split()
        if not fields:
            continue
        if fields[0] == "witness" and len(fields) == 3:
            name, kind, key = parse_verifier_key(fields[2])
            if kind != COSIGNATURE_V1 or fields[1] in witnesses:
                raise SpecError(f"{path}:{number}: not a unique type 0x04 witness key")
            witnesses[fields[1]] = (name, key)
        elif fields[0] == "quorum" and len(fields) == 2 and re.fullmatch(r"[0-9]+", fields[1]):
            if quorum is not None:
                raise SpecError(f"{path}:{number}: a second quorum line")
            quorum = int(fields[1])
        else:
            raise SpecError(f"{path}:{number}: expected 'witness NAME KEY' or 'quorum K'")
    if quorum is None or not 1 <= quorum <= len(witnesses):
        raise SpecError(f"{path}: quorum missing or not between 1 and the number of witnesses")
    return witnesses, quorum


def cosigned_by(note: Note, witnesses: dict[str, tuple[str, bytes]]) -> set[str]:
    """The policy labels of witnesses with a valid cosignature; an invalid one fails."""
    good: set[str] = set()
    for label, (name, key) in witnesses.items():
        wanted = key_id(name, COSIGNATURE_V1, key)
        for line in note.signatures:
            if line.name != name or line.key_id != wanted:
                continue
            if verify_cosignature(note.text, line.signature, key) is None:
                raise SpecError(f"checkpoint: the cosignature by witness {label} does not verify")
            good.add(label)
    return good


def check_quorum(note: Note, policy: Path) -> set[str]:
    witnesses, quorum = read_policy(policy)
    good = cosigned_by(note, witnesses)
    if len(good) < quorum:
        raise SpecError(f"checkpoint: {len(good)} witness cosignatures, the quorum is {quorum}")
    return good
