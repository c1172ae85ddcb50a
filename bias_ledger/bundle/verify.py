"""Verify a bundle offline: record hashes and signatures, inclusion proofs, checkpoint, trust.

The trusted core: standard library, blake3, cryptography and ``bias_ledger.ledger`` only (plus
the standard-library report renderers, to re-derive the reports). Raises or returns a checklist.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import blake3

from bias_ledger.bundle.checks import (
    check_chain_links,
    check_consistency,
    check_derived,
    check_kept_checkpoint,
)
from bias_ledger.bundle.model import (
    CHECKPOINT,
    CHECKPOINT_BODY,
    CHECKPOINT_SIG,
    FORMAT_NAME,
    ManifestRecord,
    record_json,
    record_sig,
)
from bias_ledger.bundle.read import BundleContents
from bias_ledger.errors import BundleError, VerificationError
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.checkpoint import Checkpoint, parse_signed_checkpoint
from bias_ledger.ledger.entry import SEPARATOR, armor, dearmor
from bias_ledger.ledger.entry_checks import CheckedEntry, Step, check_entry
from bias_ledger.ledger.keys import fingerprint, parse_public_key
from bias_ledger.ledger.merkle import BLAKE3_HASHER
from bias_ledger.ledger.merkle_verify import verify_inclusion
from bias_ledger.ledger.trust import TrustedKey, TrustedKeys


@dataclass(frozen=True)
class BundleVerification:
    """What a successful bundle verification checked."""

    source: str
    origin: str
    checkpoint: Checkpoint
    indexes: tuple[int, ...]
    signers: tuple[tuple[str, str], ...]
    """(fingerprint, principals or "") of every key that signed a record or the checkpoint."""
    steps: tuple[Step, ...]
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": True,
            "bundle": self.source,
            "origin": self.origin,
            "records": list(self.indexes),
            "checkpoint": self.checkpoint.to_json(),
            "signers": [{"fingerprint": fp, "principal": who} for fp, who in self.signers],
            "steps": [step.to_json() for step in self.steps],
            "warnings": list(self.warnings),
        }


class BundleUntrustedError(VerificationError):
    """Integrity holds, but no trust anchor was given; the checklist so far is attached."""

    def __init__(self, message: str, steps: tuple[Step, ...], signers: tuple[str, ...]) -> None:
        super().__init__(message)
        self.steps = steps
        self.signers = signers


@dataclass(frozen=True)
class _Checked:
    checkpoint: Checkpoint
    checkpoint_key: Any
    entries: Mapping[int, CheckedEntry]


def _checkpoint(contents: BundleContents) -> tuple[Checkpoint, Any]:
    members, manifest, where = contents.members, contents.manifest, contents.source
    data = members[CHECKPOINT]
    checkpoint, armored = parse_signed_checkpoint(data, source=f"{where}: {CHECKPOINT}")
    body = checkpoint.body()
    if members[CHECKPOINT_BODY] != body:
        raise BundleError(f"{where}: {CHECKPOINT_BODY} differs from the body of {CHECKPOINT}")
    if members[CHECKPOINT_SIG] != armored.encode("ascii"):
        raise BundleError(f"{where}: {CHECKPOINT_SIG} differs from the signature in {CHECKPOINT}")
    if data != body + b"\n" + armored.encode("ascii"):
        raise BundleError(
            f"{where}: {CHECKPOINT}: expected body, empty line, signature; found more"
        )
    if checkpoint.origin != manifest.origin:
        raise VerificationError(
            f"{where}: {CHECKPOINT} is for origin {checkpoint.origin!r}, but the bundle's records "
            f"are of {manifest.origin!r} (a checkpoint from another ledger)"
        )
    if (checkpoint.size, checkpoint.root_hash.hex()) != (
        manifest.checkpoint_size,
        manifest.checkpoint_root,
    ):
        raise VerificationError(
            f"{where}: {CHECKPOINT} has size {checkpoint.size} and root "
            f"{checkpoint.root_hash.hex()}, but bundle.json lists size {manifest.checkpoint_size} "
            f"and root {manifest.checkpoint_root} (the checkpoint was replaced)"
        )
    try:
        key = sshsig.verify(armored, body)
    except VerificationError as exc:
        raise VerificationError(f"{where}: {CHECKPOINT_SIG}: {exc.message}") from None
    return checkpoint, key


def _record(contents: BundleContents, item: ManifestRecord, checkpoint: Checkpoint) -> CheckedEntry:
    where, index = contents.source, item.index
    raw = contents.members[record_json(index)]
    found = blake3.blake3(raw).hexdigest()
    if found != item.record_hash:
        raise VerificationError(
            f"{where}: {record_json(index)}: expected BLAKE3 {item.record_hash} (bundle.json), "
            f"found {found} (the record was altered)"
        )
    try:
        armored = contents.members[record_sig(index)].decode("ascii")
    except UnicodeDecodeError:
        raise BundleError(f"{where}: {record_sig(index)}: expected ASCII armor") from None
    blob = dearmor(armored, where=f"{where}: {record_sig(index)}")
    if armor(blob) != armored:
        raise BundleError(f"{where}: {record_sig(index)}: expected the canonical SSHSIG armor")
    line = raw + SEPARATOR + base64.b64encode(blob)
    checked = check_entry(line, index, source=where)
    if checked.header.index != index:
        raise VerificationError(
            f"{where}: {record_json(index)} holds record {checked.header.index}, expected "
            f"record {index} (a record was moved or swapped)"
        )
    if checked.header.origin != contents.manifest.origin:
        raise VerificationError(
            f"{where}: record {index}: expected origin {contents.manifest.origin!r}, found "
            f"{checked.header.origin!r} (a record from another ledger)"
        )
    if checked.leaf_hash.hex() != item.leaf_hash:
        raise VerificationError(
            f"{where}: record {index}: leaf hash {checked.leaf_hash.hex()} of the entry line, "
            f"but bundle.json lists {item.leaf_hash}"
        )
    if item.tree_size != checkpoint.size:
        raise VerificationError(
            f"{where}: record {index}: inclusion proof is for tree size {item.tree_size}, "
            f"expected the checkpoint's size {checkpoint.size}"
        )
    proof = [bytes.fromhex(h) for h in item.inclusion_proof]
    try:
        verify_inclusion(
            BLAKE3_HASHER, index, checkpoint.size, checked.leaf_hash, proof, checkpoint.root_hash
        )
    except VerificationError as exc:
        raise VerificationError(
            f"{where}: record {index} is not proven in the signed checkpoint: {exc.message}"
        ) from None
    return checked


def _integrity(contents: BundleContents, steps: list[Step]) -> _Checked:
    manifest, where = contents.manifest, contents.source
    steps.append(
        Step(
            "bundle format",
            f"{FORMAT_NAME} version {manifest.format_version}: {len(contents.members)} members, "
            "safe names, within size limits, none missing or unexpected",
        )
    )
    if not manifest.records:
        raise BundleError(f"{where}: bundle.json lists no records: nothing to verify")
    indexes = [item.index for item in manifest.records]
    if indexes != sorted(set(indexes)):
        raise VerificationError(
            f"{where}: bundle.json lists records {indexes}; expected strictly ascending indexes "
            "(records duplicated or reordered)"
        )
    checkpoint, key = _checkpoint(contents)
    steps.append(
        Step(
            "checkpoint signature",
            f"SSHSIG by {fingerprint(key)} over {CHECKPOINT_BODY} (origin {checkpoint.origin}, "
            f"tree size {checkpoint.size}, root {checkpoint.root_hash.hex()})",
        )
    )
    entries = {item.index: _record(contents, item, checkpoint) for item in manifest.records}
    steps.append(
        Step(
            "records",
            f"{len(entries)} records ({', '.join(map(str, entries))}): BLAKE3 hash as listed, "
            "SSHSIG signature by the key in their signer field, origin and index as listed",
        )
    )
    steps.append(
        Step(
            "inclusion proofs",
            f"each record's entry line is a leaf of the signed checkpoint's tree "
            f"(size {checkpoint.size}, RFC 9162 inclusion proofs)",
        )
    )
    links = check_chain_links(entries, source=where)
    steps.append(Step("hash chain", f"{links} previous_hash link(s) between adjacent records"))
    return _Checked(checkpoint, key, entries)


def _trust(
    checked: _Checked, trusted: TrustedKeys, source: str
) -> tuple[dict[str, str], TrustedKeys]:
    """Principals of every signer, and the trust set extended by the bundle's key rotations."""
    what = f"{source}: {CHECKPOINT} (tree size {checked.checkpoint.size})"
    principals = {fingerprint(checked.checkpoint_key): ""}
    for index in sorted(checked.entries):
        entry = checked.entries[index]
        where = f"{source} record {index}"
        signer = entry.header.signer
        key = parse_public_key(signer.public_key, source=where)
        stamp = datetime.fromisoformat(entry.header.timestamp.replace("Z", "+00:00"))
        trusted_key = trusted.require(key, what=where, at=stamp)
        principals[signer.fingerprint] = trusted_key.principals
        if entry.new_key is not None:
            new_key = parse_public_key(entry.new_key, source=f"{where} new_public_key")
            successor = TrustedKey(
                fingerprint(new_key),
                trusted_key.principals,
                public_key=new_key,
                origin=f"rotation in {where} from {signer.fingerprint}",
            )
            trusted = replace(trusted, keys={**trusted.keys, successor.fingerprint: successor})
    principals[fingerprint(checked.checkpoint_key)] = trusted.require(
        checked.checkpoint_key, what=what
    ).principals
    return principals, trusted


def verify_contents(
    contents: BundleContents,
    trusted: TrustedKeys | None,
    *,
    kept_checkpoint: bytes | None = None,
    kept_source: str = "--since",
) -> BundleVerification:
    """Verify everything in a safely read bundle; raise on the first failure."""
    if contents.manifest.format_version == 2:
        from bias_ledger.bundle.format2 import verify_contents_v2

        return verify_contents_v2(
            contents, trusted, kept_checkpoint=kept_checkpoint, kept_source=kept_source
        )
    steps: list[Step] = []
    warnings: list[str] = []
    checked = _integrity(contents, steps)
    steps.append(
        check_derived(contents, checked.checkpoint, checked.checkpoint_key, checked.entries)
    )
    proven = check_consistency(contents, checked.checkpoint)
    if proven is not None:
        steps.append(proven)
    signer_fps = tuple(
        dict.fromkeys(
            [fingerprint(checked.checkpoint_key)]
            + [e.header.signer.fingerprint for e in checked.entries.values()]
        )
    )
    if trusted is None:
        raise BundleUntrustedError(
            "no trusted key given: integrity verified, but the signers "
            f"({', '.join(signer_fps)}) are not trusted; pass --trusted-keys FILE or "
            "--trusted-key FINGERPRINT (keys inside the bundle are never trusted)",
            tuple(steps),
            signer_fps,
        )
    principals, trusted = _trust(checked, trusted, contents.source)
    steps.append(
        Step("trust", f"checkpoint and every record signed by a key trusted in {trusted.source}")
    )
    if kept_checkpoint is not None:
        steps.append(
            check_kept_checkpoint(
                contents, checked.checkpoint, kept_checkpoint, kept_source, trusted
            )
        )
    elif proven is not None:
        warnings.append("consistency.json present but not anchored: pass --since CHECKPOINT_FILE")
    return BundleVerification(
        source=contents.source,
        origin=contents.manifest.origin,
        checkpoint=checked.checkpoint,
        indexes=tuple(sorted(checked.entries)),
        signers=tuple(principals.items()),
        steps=tuple(steps),
        warnings=tuple(warnings),
    )
