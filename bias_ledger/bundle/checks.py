"""Bundle checks beyond single records: chain links, derived members, consistency with a kept
checkpoint (rollback and fork detection). Standard library, blake3, cryptography only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bias_ledger.bundle.derived import derived_members, report_data
from bias_ledger.bundle.model import (
    CONSISTENCY,
    REPORT_VERSION,
    parse_consistency,
    record_json,
)
from bias_ledger.bundle.read import BundleContents
from bias_ledger.errors import BundleError, VerificationError
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.checkpoint import Checkpoint, parse_signed_checkpoint
from bias_ledger.ledger.entry_checks import CheckedEntry, Step
from bias_ledger.ledger.keys import fingerprint, public_key_openssh
from bias_ledger.ledger.merkle import BLAKE3_HASHER
from bias_ledger.ledger.merkle_verify import verify_consistency
from bias_ledger.ledger.trust import TrustedKeys


def check_chain_links(entries: Mapping[int, CheckedEntry], *, source: str) -> int:
    """Adjacent records (N and N+1 both present) link by previous_hash; returns the count."""
    links = 0
    for index, entry in entries.items():
        if index == 0 and entry.header.previous_hash is not None:
            raise VerificationError(f"{source} record 0: expected previous_hash null")
        before = entries.get(index - 1)
        if before is not None:
            if entry.header.previous_hash != before.record_hash:
                raise VerificationError(
                    f"{source} record {index}: expected previous_hash {before.record_hash} "
                    f"(record {index - 1}), found {entry.header.previous_hash}"
                )
            links += 1
        if entry.approves is not None:
            target, digest = entry.approves
            approved = entries.get(target)
            if approved is not None and approved.record_hash != digest:
                raise VerificationError(
                    f"{source} record {index}: approves record {target} with hash {digest}, "
                    f"but that record hashes to {approved.record_hash}"
                )
    return links


def _first_difference(expected: bytes, found: bytes) -> str:
    old, new = expected.split(b"\n"), found.split(b"\n")
    for number, (a, b) in enumerate(zip(old, new, strict=False), start=1):
        if a != b:
            return f"line {number}"
    return f"line {min(len(old), len(new)) + 1} (length differs)"


def check_derived(
    contents: BundleContents,
    checkpoint: Checkpoint,
    checkpoint_key: Any,
    entries: Mapping[int, CheckedEntry],
) -> Step:
    """``keys/allowed_signers``, ``report.md`` and ``report.html`` equal their re-derivation."""
    if contents.manifest.report_version != REPORT_VERSION:
        raise BundleError(
            f"{contents.source}: reports rendered by report_version "
            f"{contents.manifest.report_version}; this bias-ledger re-derives version "
            f"{REPORT_VERSION} only and cannot check them (use the matching bias-ledger version)"
        )
    signers = {
        (e.header.signer.fingerprint, e.header.signer.public_key.strip()) for e in entries.values()
    }
    signers.add((fingerprint(checkpoint_key), public_key_openssh(checkpoint_key)))
    data = report_data(
        origin=contents.manifest.origin,
        checkpoint_size=checkpoint.size,
        checkpoint_root=checkpoint.root_hash.hex(),
        checkpoint_signer=fingerprint(checkpoint_key),
        records=[
            (index, entry.record_hash, contents.members[record_json(index)])
            for index, entry in entries.items()
        ],
        signers=signers,
    )
    for name, expected in sorted(derived_members(data).items()):
        found = contents.members[name]
        if found != expected:
            raise VerificationError(
                f"{contents.source}: {name} differs from the one re-derived from the signed "
                f"records at {_first_difference(expected, found)} (edited after export: "
                "a number or name in it is not what the records say)"
            )
    return Step(
        "derived members",
        "keys/allowed_signers, report.md and report.html equal, byte for byte, their "
        "re-derivation from the verified records",
    )


def check_consistency(contents: BundleContents, checkpoint: Checkpoint) -> Step | None:
    """A consistency.json, when present, proves its old root is a prefix of the checkpoint."""
    raw = contents.members.get(CONSISTENCY)
    if raw is None:
        return None
    proof = parse_consistency(raw)
    where = f"{contents.source}: {CONSISTENCY}"
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
    return Step(
        "consistency proof",
        f"the tree of size {proof.old_size} (root {proof.old_root}) is a prefix of the "
        f"checkpoint's tree of size {proof.new_size} (RFC 9162 consistency proof)",
    )


def check_kept_checkpoint(
    contents: BundleContents,
    checkpoint: Checkpoint,
    kept_data: bytes,
    kept_source: str,
    trusted: TrustedKeys,
) -> Step:
    """``--since``: the bundle's ledger extends a checkpoint the verifier kept earlier."""
    kept, armored = parse_signed_checkpoint(kept_data, source=kept_source)
    try:
        key = sshsig.verify(armored, kept.body())
    except VerificationError as exc:
        raise VerificationError(f"{kept_source}: {exc.message}") from None
    # The kept file's signer is checked for trust last: a rollback or fork shows either way.
    _relation(contents, checkpoint, kept, kept_source)
    trusted.require(key, what=f"{kept_source} (kept checkpoint, tree size {kept.size})")
    if kept.size == checkpoint.size:
        return Step("since", f"the bundle's checkpoint is the one kept in {kept_source}")
    return Step(
        "since",
        f"the bundle's ledger (size {checkpoint.size}) extends the checkpoint kept in "
        f"{kept_source} (size {kept.size}), signed by trusted key {fingerprint(key)}",
    )


def _relation(
    contents: BundleContents, checkpoint: Checkpoint, kept: Checkpoint, kept_source: str
) -> None:
    """Raise unless the bundle's tree equals or extends the kept one (proven by consistency)."""
    if kept.origin != checkpoint.origin:
        raise VerificationError(
            f"{kept_source}: kept checkpoint is for origin {kept.origin!r}, the bundle's for "
            f"{checkpoint.origin!r}: not the same ledger"
        )
    if kept.size > checkpoint.size:
        raise VerificationError(
            f"rollback: the bundle's checkpoint covers {checkpoint.size} records, fewer than the "
            f"{kept.size} of the checkpoint you kept ({kept_source})"
        )
    if kept.size == checkpoint.size:
        if kept.root_hash != checkpoint.root_hash:
            raise VerificationError(
                f"fork: the bundle's checkpoint and {kept_source} both cover {kept.size} records "
                f"but have different roots ({checkpoint.root_hash.hex()} vs "
                f"{kept.root_hash.hex()}): the history was rewritten"
            )
        return
    raw = contents.members.get(CONSISTENCY)
    if raw is None:
        raise BundleError(
            f"{contents.source}: no {CONSISTENCY} to prove it extends {kept_source} (size "
            f"{kept.size}); export with --consistent-with {kept_source}"
        )
    proof = parse_consistency(raw)
    if proof.old_size != kept.size:
        raise VerificationError(
            f"{contents.source}: {CONSISTENCY} starts at tree size {proof.old_size}, but the kept "
            f"checkpoint {kept_source} has size {kept.size}"
        )
    if proof.old_root != kept.root_hash.hex():
        raise VerificationError(
            f"fork: the bundle's ledger had root {proof.old_root} at size {kept.size}, but the "
            f"checkpoint you kept ({kept_source}) says {kept.root_hash.hex()}: the history "
            "was rewritten"
        )
