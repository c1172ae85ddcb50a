"""Verify a version-3 bundle as a stream: memory holds one record, the signers, and 32 bytes per
record (their hashes, for links and approvals), never the bundle.

Pass 1 (only with trust) reads the key records, as the ledger verifier does, because a
revocation reaches back to records before it; pass 2 checks every byte in the order FORMAT.md
fixes, feeding the one key walk (ledger/key_history.py) record by record; trust of the
checkpoint's signer and ``--since`` are then checked by the one core's functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import blake3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.bundle.checks import check_checkpoint_matches_manifest
from bias_ledger.bundle.format2 import Format2BundleSource, check_record
from bias_ledger.bundle.format3 import RecordHashes, parse_proof, proof_member
from bias_ledger.bundle.model import (
    CHECKPOINT,
    CONSISTENCY,
    REPORT_HTML,
    REPORT_MD,
    SIGNERS,
    BundleContents,
    Manifest,
)
from bias_ledger.bundle.read3 import Bundle3, open_bundle3
from bias_ledger.bundle.signers import signers_text
from bias_ledger.errors import BundleError, VerificationError
from bias_ledger.ledger import note
from bias_ledger.ledger.canonical import parse_json
from bias_ledger.ledger.checkpoint import Checkpoint as BodyCheckpoint
from bias_ledger.ledger.entry_checks import (
    CheckedEntry,
    check_reference,
    check_reference_kind,
    record_links,
)
from bias_ledger.ledger.index_runs import IndexRanges
from bias_ledger.ledger.key_history import KeyWalker, revocations_in_effect
from bias_ledger.ledger.keys import fingerprint, parse_public_key, public_key_openssh
from bias_ledger.ledger.merkle import SHA256_HASHER
from bias_ledger.ledger.merkle_verify import verify_inclusion
from bias_ledger.ledger.record import parse_header
from bias_ledger.ledger.tlog_checkpoint import Checkpoint, parse_checkpoint
from bias_ledger.ledger.tlog_entry import parse_entry
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.verify import (
    Checklist,
    Integrity,
    Kept,
    UntrustedError,
    Verification,
    links_detail,
)
from bias_ledger.verify.core import check_since
from bias_ledger.verify.result import Check, KeyInfo, Status, VerificationFailed
from bias_ledger.wording import counted

_KEY_KINDS = ("key_rotation", "key_revocation")


@dataclass(frozen=True)
class Verified3:
    """A verified version-3 bundle: the one structured result and the checkpoint's bytes."""

    verification: Verification
    signed_checkpoint: bytes
    had_consistency: bool
    signers: bytes
    """``keys/allowed_signers`` as verified (byte for byte what the verifier derived)."""


def _key_records(path: Path, shown: str) -> tuple[list[tuple[int, CheckedEntry]], dict[int, str]]:
    """Pass 1: the key records (rotations, revocations) and their hashes, before the checks."""
    items: list[tuple[int, CheckedEntry]] = []
    hashes: dict[int, str] = {}
    with open_bundle3(path, shown) as bundle:
        for rec in bundle.records():
            if not any(kind.encode() in rec.entry for kind in _KEY_KINDS):
                continue
            where = f"{bundle.where} record {rec.index}"
            entry = parse_entry(rec.entry, where=f"{where} entry")
            if (
                entry.kind not in _KEY_KINDS
                or blake3.blake3(rec.record).hexdigest() != entry.record
            ):
                continue  # not a key record, or altered: pass 2 refuses it in its place
            record = parse_json(rec.record, where=where)
            header = parse_header(record, where=where, versions=frozenset({2}))
            approves, new_key, revokes = record_links(record, header, where=where)
            items.append(
                (rec.index, CheckedEntry(header, entry.record, b"", approves, new_key, revokes))
            )
            hashes[rec.index] = entry.record
    return items, hashes


class _Anchors(Format2BundleSource):
    """What ``--since`` asks a bundle (format 2's answers: a kept note, the consistency root),
    over the keys and proof pass 2 found instead of a bundle read into memory."""

    def __init__(self, name: str, keys: dict[str, Any], checkpoint: Checkpoint) -> None:
        empty = Manifest(3, checkpoint.origin, checkpoint.size, "", ())
        super().__init__(BundleContents(source=name, members={}, manifest=empty))
        self.keys, self.checkpoint = keys, checkpoint


@dataclass
class _Pass:
    """The state of pass 2: O(signers) plus 32 bytes per record."""

    bundle: Bundle3
    walker: KeyWalker | None
    key_hashes: dict[int, str]
    hashes: RecordHashes
    signers: set[tuple[str, str]]
    keys: dict[str, Ed25519PublicKey]
    count: int = 0
    key_seen: int = 0
    """Key records of pass 2 that pass 1 read with the same hash."""
    links: int = 0
    unheld: list[tuple[int, int]] = field(default_factory=list)
    """(approval, target) of approvals whose target the bundle does not hold."""

    def record(self, rec: Any, checkpoint: Checkpoint) -> None:
        where, index = f"{self.bundle.where} record {rec.index}", rec.index
        members = (rec.record, rec.entry, rec.signature)
        checked, leaf = check_record(where, index, checkpoint.origin, members, None)
        if self.walker is not None:
            self._same_as_first(where, index, checked)
        try:
            proof = parse_proof(rec.proof, f"{where}: {proof_member(index)}")
            verify_inclusion(
                SHA256_HASHER, index, checkpoint.size, leaf, proof, checkpoint.root_hash
            )
        except VerificationError as exc:
            raise VerificationError(
                f"{where}: {proof_member(index)} does not prove it in the signed checkpoint: "
                f"{exc.message}"
            ) from None
        self._links(where, index, checked)
        self.hashes.add(index, bytes.fromhex(checked.record_hash), checked.header.kind)
        signer = checked.header.signer
        self.signers.add((signer.fingerprint, signer.public_key.strip()))
        for line in (signer.public_key, checked.new_key):
            if line is not None and line not in self.keys:
                self.keys[line] = parse_public_key(line, source=where)
        if self.walker is not None:
            self.walker.add(index, checked)
        self.count += 1

    def _same_as_first(self, where: str, index: int, checked: CheckedEntry) -> None:
        """Refuse a key record that pass 1 (which found the revocations in effect) did not
        read as it is: a bundle swapped between the reads could otherwise hide a revocation."""
        shown = self.key_hashes.get(index)
        if shown is None and checked.header.kind.value not in _KEY_KINDS:
            return
        if shown != checked.record_hash:
            first = "did not show it" if shown is None else f"read record hash {shown}"
            raise VerificationError(
                f"{where}: changed between the two reads of the bundle (a "
                f"{checked.header.kind.value} record; the first read {first}): the revocations "
                "in effect are unknown"
            )
        self.key_seen += 1

    def finish(self) -> None:
        """Refuse a key record of pass 1 that pass 2 did not read."""
        if self.walker is not None and self.key_seen != len(self.key_hashes):
            raise VerificationError(
                f"{self.bundle.where}: changed between the two reads of the bundle (the first "
                f"read {len(self.key_hashes)} key record(s), the second {self.key_seen})"
            )

    def _links(self, where: str, index: int, checked: CheckedEntry) -> None:
        previous = checked.header.previous_hash
        if index == 0 and previous is not None:
            raise VerificationError(f"{where}: expected previous_hash null")
        before = self.hashes.get(index - 1) if index else None
        if before is not None:
            if previous != before:
                raise VerificationError(
                    f"{where}: expected previous_hash {before} (record {index - 1}), found "
                    f"{previous}"
                )
            self.links += 1
        if checked.approves is not None:
            kind = checked.header.kind.value
            check_reference(where, kind, checked.approves, index)
            target, digest = checked.approves
            approved = self.hashes.get(target)
            if approved is None:
                self.unheld.append((index, target))
            if approved is not None and approved != digest:
                raise VerificationError(
                    f"{where}: approves record {target} with hash {digest}, but that record "
                    f"hashes to {approved}"
                )
            named = self.hashes.kind(target)
            if named is not None:
                check_reference_kind(where, kind, target, named)


def _checkpoint_key(data: bytes, checkpoint: Checkpoint, keys: dict[str, Any], where: str) -> Any:
    verifiers = {note.note_verifier(checkpoint.origin, key): key for key in keys.values()}
    opened = note.open_note(data, verifiers, f"{where}: {CHECKPOINT}")
    return verifiers[opened.verified_by[0]]


def _consistency(anchors: _Anchors, raw: bytes | None, checkpoint: Checkpoint) -> str:
    if raw is None:
        return f"no {CONSISTENCY} in the bundle"
    from bias_ledger.bundle import format2

    contents = BundleContents(
        source=anchors.name, members={CONSISTENCY: raw}, manifest=anchors.contents.manifest
    )
    proven = format2._consistency(contents, checkpoint)  # noqa: SLF001 - format 2's own check
    assert proven is not None
    anchors._proof = proven[1]  # noqa: SLF001
    return proven[0].detail


def verify_bundle3(
    path: Path, trusted: TrustedKeys | None, *, since: Kept | None = None, shown: str | None = None
) -> Verified3:
    """Verify the version-3 bundle at ``path``; raise :class:`VerificationFailed` at the first
    failure, with the checks so far (:class:`UntrustedError` without trust)."""
    checklist = Checklist()
    try:
        return _verify(path, shown or str(path), trusted, since, checklist)
    except UntrustedError:
        raise
    except VerificationError as exc:
        if not checklist.checks or checklist.checks[-1].status is not Status.FAILED:
            checklist.checks.append(Check("verification", exc.message, Status.FAILED))
        raise VerificationFailed(
            exc.message, kind="bundle", source=shown or str(path), checks=tuple(checklist.checks)
        ) from exc


def _verify(
    path: Path, shown: str, trusted: TrustedKeys | None, since: Kept | None, checklist: Checklist
) -> Verified3:
    walker = None
    key_hashes: dict[int, str] = {}
    if trusted is not None:
        items, key_hashes = _key_records(path, shown)
        revoked = revocations_in_effect(items, trusted, source=shown)
        walker = KeyWalker(trusted, revoked, source=shown)
    with open_bundle3(path, shown) as bundle:
        where, manifest = bundle.where, bundle.manifest
        with checklist.check("bundle format", "docs/FORMAT.md, Bundle format 3") as check:
            checkpoint = parse_checkpoint(
                note.parse_note(bundle.checkpoint, f"{where}: {CHECKPOINT}").text
            )
            root = bytes.fromhex(manifest.checkpoint_root)
            listed = Manifest(3, manifest.origin, manifest.checkpoint_size, root.hex(), ())
            check_checkpoint_matches_manifest(
                checkpoint.origin, checkpoint.size, checkpoint.root_hash, listed, where=where
            )
            check.detail = (
                f"bias-ledger-bundle version 3 (ustar, fixed layout): "
                f"{counted(manifest.count, 'record')} in {counted(len(manifest.ranges), 'range')}, "
                "read in order"
            )
        hashes = RecordHashes(manifest.ranges)
        state = _Pass(bundle, walker, key_hashes, hashes, set(), {})
        try:
            with checklist.check("records", "each entry, and the checkpoint's root") as check:
                for rec in bundle.records():
                    state.record(rec, checkpoint)
                state.finish()
                check.detail = (
                    f"{state.count} records: BLAKE3 as the entry commits, SSHSIG by the "
                    "signer, header as the entry, RFC 6962 SHA-256 inclusion in the "
                    "checkpoint's root"
                )
        finally:
            hashes.close()  # its temporary file, on a refusal too
        with checklist.check("checkpoint signature") as check:
            key = _checkpoint_key(bundle.checkpoint, checkpoint, state.keys, where)
            check.detail = f"Ed25519 signed note by {fingerprint(key)}"
        checklist.add("hash chain", links_detail(state.links, state.unheld))
        trailer = bundle.trailer()
        with checklist.check("signers", "the keys that signed") as check:
            signers = {*state.signers, (fingerprint(key), public_key_openssh(key))}
            if trailer.signers != signers_text(signers):
                raise VerificationError(
                    f"{where}: {SIGNERS} differs from the list of the keys that signed "
                    "(edited after export)"
                )
            check.detail = f"{SIGNERS} lists exactly the {counted(len(signers), 'key')} that signed"
        anchors = _Anchors(where, state.keys, checkpoint)
        with checklist.check("consistency proof", "the checkpoint's tree") as check:
            check.detail = _consistency(anchors, trailer.consistency, checkpoint)
        checklist.skip(
            "reports",
            f"{REPORT_MD} and {REPORT_HTML} are informative views derived from the records, "
            "not evidence: not compared (read the numbers in the records)",
        )
    body = BodyCheckpoint(checkpoint.origin, checkpoint.size, checkpoint.root_hash)
    signer_fps = tuple(dict.fromkeys([fingerprint(key), *sorted(fp for fp, _ in state.signers)]))

    def outcome(**extra: Any) -> Verification:
        return Verification(
            kind="bundle",
            source=where,
            origin=manifest.origin,
            size=checkpoint.size,
            checkpoint=body,
            indexes=IndexRanges(manifest.ranges),
            checks=tuple(checklist.checks),
            format_version=2,
            **extra,
        )

    if walker is None:
        checklist.skip("trust", "no trusted key given", "nothing")
        raise UntrustedError(
            f"no trusted key given: integrity verified, but the signers "
            f"({', '.join(signer_fps)}) are not trusted; {anchors.trust_hint}",
            report=outcome(signers=tuple((fp, "") for fp in signer_fps)),
            signers=signer_fps,
        )
    assert trusted is not None
    with checklist.check("trust", against=trusted.source) as check:
        walk = walker.walk
        for index, why in walk.invalid.items():
            raise VerificationError(f"{where} record {index}: {why}")
        check.detail = (
            f"every record signed by a key trusted in {trusted.source}, following key "
            "rotations and revocations"
        )
    with checklist.check("checkpoint signer", against=trusted.source) as check:
        size = checkpoint.size
        who = walk.checkpoint_signer(key, size, what=f"{where}: checkpoint (tree size {size})")
        principals = {fingerprint(key): who, **walk.principals}
        check.detail = f"the checkpoint's signer {fingerprint(key)} is trusted"
    warnings: tuple[str, ...] = ()
    if since is not None:
        with checklist.check("since", against=since.name) as check:
            integrity = Integrity(manifest.origin, checkpoint.size, body, key, {})
            check.detail, check.against = check_since(anchors, integrity, since, walk.trusted)
    elif trailer.consistency is not None:
        warnings = ("consistency.json present but not anchored: pass --since CHECKPOINT_FILE",)
    result = outcome(
        signers=tuple(principals.items()),
        warnings=warnings,
        trust_source=walk.trusted.source,
        trusted_keys=tuple(KeyInfo(k.fingerprint, k.principals, k.origin) for k in walk.trusted),
    )
    return Verified3(result, bundle.checkpoint, trailer.consistency is not None, trailer.signers)


def records_of(path: Path, shown: str | None = None) -> Any:
    """(index, record bytes) of every record of a bundle, read again (``--recompute``)."""
    with open_bundle3(path, shown) as bundle:
        for rec in bundle.records():
            yield rec.index, rec.record
        bundle.trailer()


__all__ = ["BundleError", "Verified3", "records_of", "verify_bundle3"]
