"""A bundle as a verification source: records, inclusion proofs, checkpoint, consistency proof.

Trusted core: standard library, blake3, cryptography and ``bias_ledger.ledger`` only (plus the
bundle's own format modules). Trust and ``--since`` are checked by the one core,
:mod:`bias_ledger.verify.core`; this module answers its :class:`~bias_ledger.verify.Source`
questions for a bundle. The reports inside a bundle are informative views and are not read.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import blake3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.bundle.checks import (
    check_checkpoint_matches_manifest,
    check_consistency,
    check_signers_member,
)
from bias_ledger.bundle.model import (
    CHECKPOINT,
    CHECKPOINT_BODY,
    CHECKPOINT_SIG,
    CONSISTENCY,
    FORMAT_NAME,
    REPORT_HTML,
    REPORT_MD,
    ConsistencyJson,
    ManifestRecord,
    record_json,
    record_sig,
)
from bias_ledger.bundle.read import BundleContents, read_bundle
from bias_ledger.errors import BundleError, VerificationError
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.checkpoint import Checkpoint, parse_signed_checkpoint
from bias_ledger.ledger.entry import SEPARATOR, armor, dearmor
from bias_ledger.ledger.entry_checks import CheckedEntry, check_entry
from bias_ledger.ledger.keys import fingerprint
from bias_ledger.ledger.merkle import BLAKE3_HASHER
from bias_ledger.ledger.merkle_verify import verify_inclusion
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.verify import (
    Checklist,
    Integrity,
    Kept,
    UntrustedError,
    Verification,
    check_links,
    links_detail,
    unheld_targets,
    verify_source,
)

if TYPE_CHECKING:
    from bias_ledger.bundle.format2 import Format2BundleSource

BundleVerification = Verification
BundleUntrustedError = UntrustedError


def _checkpoint(contents: BundleContents) -> tuple[Checkpoint, Ed25519PublicKey]:
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
    check_checkpoint_matches_manifest(
        checkpoint.origin, checkpoint.size, checkpoint.root_hash, manifest, where=where
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


class BundleSource:
    """A bundle file (read safely when first checked) or contents already read."""

    kind = "bundle"
    trust_hint = (
        "pass --trusted-keys FILE or --trusted-key FINGERPRINT (keys inside the bundle are "
        "never trusted)"
    )

    def __init__(self, path: Path | None = None, *, contents: BundleContents | None = None):
        if contents is not None:
            self.name = contents.source
        elif path is not None:
            self.name = str(path)
        else:
            raise ValueError("a BundleSource is read from a path or from contents")
        self._path = path
        self._contents = contents
        self._checkpoint: Checkpoint | None = None
        self._proof: ConsistencyJson | None = None
        self._format2: Format2BundleSource | None = None

    @property
    def contents(self) -> BundleContents:
        if self._contents is None:
            raise RuntimeError("the bundle is read by integrity() first")
        return self._contents

    def integrity(self, checklist: Checklist) -> Integrity:
        with checklist.check("bundle format", "docs/FORMAT.md, Bundle format") as check:
            if self._contents is None:
                assert self._path is not None
                self._contents = read_bundle(self._path)
            contents = self._contents
            manifest, where = contents.manifest, contents.source
            if not manifest.records:
                raise BundleError(f"{where}: bundle.json lists no records: nothing to verify")
            indexes = [item.index for item in manifest.records]
            if indexes != sorted(set(indexes)):
                raise VerificationError(
                    f"{where}: bundle.json lists records {indexes}; expected strictly ascending "
                    "indexes (records duplicated or reordered)"
                )
            check.detail = (
                f"{FORMAT_NAME} version {manifest.format_version}: {len(contents.members)} "
                "members, safe names, within size limits, none missing or unexpected, "
                "deterministic zip layout"
            )
        if manifest.format_version == 2:  # entries, SHA-256 proofs, a signed-note checkpoint
            from bias_ledger.bundle.format2 import Format2BundleSource

            self._format2 = Format2BundleSource(contents)
            return self._format2.integrity(checklist, format_checked=True)
        with checklist.check("checkpoint signature", f"the key in {CHECKPOINT_SIG}") as check:
            checkpoint, key = _checkpoint(contents)
            check.detail = (
                f"SSHSIG by {fingerprint(key)} over {CHECKPOINT_BODY} (origin "
                f"{checkpoint.origin}, tree size {checkpoint.size}, root "
                f"{checkpoint.root_hash.hex()})"
            )
        self._checkpoint = checkpoint
        with checklist.check("records", "bundle.json and each record's signer field") as check:
            entries = {item.index: _record(contents, item, checkpoint) for item in manifest.records}
            check.detail = (
                f"{len(entries)} records ({', '.join(map(str, entries))}): BLAKE3 hash as "
                "listed, SSHSIG signature by the key in their signer field, origin and index "
                "as listed"
            )
        checklist.add(
            "inclusion proofs",
            "each record's entry line is a leaf of the signed checkpoint's tree "
            f"(size {checkpoint.size}, RFC 9162 inclusion proofs)",
            f"the checkpoint's root {checkpoint.root_hash.hex()}",
        )
        with checklist.check("hash chain", "the records' previous_hash fields") as check:
            links = check_links(entries, source=where)
            check.detail = links_detail(links, unheld_targets(entries))
        with checklist.check("signers list", "the keys that signed") as check:
            check.detail = check_signers_member(contents, key, entries)
        checklist.skip(
            "reports",
            f"{REPORT_MD} and {REPORT_HTML} are informative views derived from the records, "
            "not evidence: not compared (read the numbers in the records)",
        )
        with checklist.check("consistency proof", "the checkpoint's tree") as check:
            self._proof = check_consistency(contents, checkpoint)
            if self._proof is None:
                check.detail = f"no {CONSISTENCY} in the bundle"
            else:
                check.detail = (
                    f"the tree of size {self._proof.old_size} (root {self._proof.old_root}) is "
                    f"a prefix of the checkpoint's tree of size {self._proof.new_size} "
                    "(RFC 9162 consistency proof)"
                )
        return Integrity(
            origin=manifest.origin,
            size=checkpoint.size,
            checkpoint=checkpoint,
            checkpoint_key=key,
            entries=entries,
        )

    def kept_checkpoint(self, kept: Kept, trusted: TrustedKeys) -> tuple[Checkpoint, Any] | None:
        """A format-2 bundle reads a kept checkpoint as a signed note; None for format 1."""
        return None if self._format2 is None else self._format2.kept_checkpoint(kept, trusted)

    def root_at(self, size: int, *, wanted_by: str) -> bytes:
        if self._format2 is not None:
            return self._format2.root_at(size, wanted_by=wanted_by)
        assert self._checkpoint is not None
        if size == self._checkpoint.size:
            return self._checkpoint.root_hash
        if self._proof is None:
            raise BundleError(
                f"{self.name}: no {CONSISTENCY} to prove it extends {wanted_by} (size {size}); "
                f"export with --consistent-with {wanted_by}"
            )
        if self._proof.old_size != size:
            raise VerificationError(
                f"{self.name}: {CONSISTENCY} starts at tree size {self._proof.old_size}, but "
                f"the kept checkpoint {wanted_by} has size {size}"
            )
        return bytes.fromhex(self._proof.old_root)


def verify_bundle(
    source: BundleSource, trusted: TrustedKeys | None, *, since: Kept | None = None
) -> Verification:
    """Verify a bundle; a consistency proof not anchored by ``since`` is a warning."""
    result = verify_source(source, trusted=trusted, since=since)
    if since is None and CONSISTENCY in source.contents.members:
        warning = "consistency.json present but not anchored: pass --since CHECKPOINT_FILE"
        result = replace(result, warnings=(*result.warnings, warning))
    return result


def verify_contents(
    contents: BundleContents,
    trusted: TrustedKeys | None,
    *,
    kept_checkpoint: bytes | None = None,
    kept_source: str = "--since",
) -> Verification:
    """Verify a safely read bundle; raise on the first failure."""
    if contents.manifest.format_version == 2:
        from bias_ledger.bundle.format2 import verify_contents_v2

        return verify_contents_v2(
            contents, trusted, kept_checkpoint=kept_checkpoint, kept_source=kept_source
        )
    since = None if kept_checkpoint is None else Kept(kept_checkpoint, kept_source)
    return verify_bundle(BundleSource(contents=contents), trusted, since=since)
