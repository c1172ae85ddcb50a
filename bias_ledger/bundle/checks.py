"""Bundle checks beyond single records: the signers member and the consistency proof.

Standard library, blake3, cryptography and ``bias_ledger.ledger`` only.
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.bundle.model import (
    CHECKPOINT,
    CONSISTENCY,
    SIGNERS,
    BundleContents,
    ConsistencyJson,
    Manifest,
    parse_consistency,
)
from bias_ledger.bundle.signers import signers_text
from bias_ledger.errors import BundleError, VerificationError
from bias_ledger.ledger.checkpoint import Checkpoint
from bias_ledger.ledger.entry_checks import CheckedEntry
from bias_ledger.ledger.keys import fingerprint, public_key_openssh
from bias_ledger.ledger.merkle import BLAKE3_HASHER
from bias_ledger.ledger.merkle_verify import verify_consistency
from bias_ledger.wording import counted


def _first_difference(expected: bytes, found: bytes) -> str:
    old, new = expected.split(b"\n"), found.split(b"\n")
    for number, (a, b) in enumerate(zip(old, new, strict=False), start=1):
        if a != b:
            return f"line {number}"
    return f"line {min(len(old), len(new)) + 1} (length differs)"


def check_signers_member(
    contents: BundleContents, checkpoint_key: Ed25519PublicKey, entries: Mapping[int, CheckedEntry]
) -> str:
    """``keys/allowed_signers`` lists exactly the keys that signed, in the specified bytes."""
    signers = {
        (e.header.signer.fingerprint, e.header.signer.public_key.strip()) for e in entries.values()
    }
    signers.add((fingerprint(checkpoint_key), public_key_openssh(checkpoint_key)))
    expected, found = signers_text(signers), contents.members[SIGNERS]
    if found != expected:
        raise VerificationError(
            f"{contents.source}: {SIGNERS} differs from the list of the keys that signed, at "
            f"{_first_difference(expected, found)} (edited after export)"
        )
    return f"{SIGNERS} lists exactly the {counted(len(signers), 'key')} that signed, as specified"


def check_consistency(contents: BundleContents, checkpoint: Checkpoint) -> ConsistencyJson | None:
    """A consistency.json, when present, proves its old root is a prefix of the checkpoint."""
    raw = contents.members.get(CONSISTENCY)
    if raw is None:
        return None
    where = f"{contents.source}: {CONSISTENCY}"
    try:
        proof = parse_consistency(raw)
    except BundleError as exc:
        raise BundleError(f"{contents.source}: {exc.message}") from None
    if (proof.new_size, proof.new_root) != (checkpoint.size, checkpoint.root_hash.hex()):
        raise VerificationError(
            f"{where}: proves up to size {proof.new_size} root {proof.new_root}, expected the "
            f"checkpoint's size {checkpoint.size} root {checkpoint.root_hash.hex()}"
        )
    try:
        verify_consistency(
            BLAKE3_HASHER,
            proof.old_size,
            proof.new_size,
            bytes.fromhex(proof.old_root),
            bytes.fromhex(proof.new_root),
            [bytes.fromhex(h) for h in proof.hashes],
        )
    except VerificationError as exc:
        raise VerificationError(f"{where}: {exc.message}") from None
    return proof


def check_checkpoint_matches_manifest(
    origin: str, size: int, root_hash: bytes, manifest: Manifest, *, where: str
) -> None:
    """The bundle's checkpoint (either format's) is the one ``bundle.json`` lists: same origin
    as the records, same size and root; VerificationError naming the difference otherwise."""
    if origin != manifest.origin:
        raise VerificationError(
            f"{where}: {CHECKPOINT} is for origin {origin!r}, but the bundle's records "
            f"are of {manifest.origin!r} (a checkpoint from another ledger)"
        )
    if (size, root_hash.hex()) != (manifest.checkpoint_size, manifest.checkpoint_root):
        raise VerificationError(
            f"{where}: {CHECKPOINT} has size {size} and root {root_hash.hex()}, but "
            f"bundle.json lists size {manifest.checkpoint_size} and root "
            f"{manifest.checkpoint_root} (the checkpoint was replaced)"
        )
