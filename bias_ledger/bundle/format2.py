"""Format-2 bundles: records of a format-2 ledger with their entries, SHA-256 inclusion proofs
and the signed checkpoint note, verifiable offline (docs/FORMAT.md section 10.11).

The manifest, record members, signer list and reports are those of format 1; what differs is
the evidence: ``entries/<N>`` (the log entry, the Merkle leaf), RFC 6962 SHA-256 proofs and a
C2SP signed-note ``checkpoint``. The format-independent checks (hash chain, derived members,
trust and rotations) are format 1's own functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import blake3

from bias_ledger.bundle.checks import check_checkpoint_matches_manifest, check_signers_member
from bias_ledger.bundle.model import (
    CHECKPOINT,
    CONSISTENCY,
    FORMAT_NAME,
    MANIFEST,
    REPORT_HTML,
    REPORT_MD,
    SIGNERS,
    BundleContents,
    ConsistencyJson,
    Manifest,
    ManifestRecord,
    dump_json,
    load_json,
    record_json,
    record_sig,
)
from bias_ledger.errors import BundleError, VerificationError
from bias_ledger.ledger import note
from bias_ledger.ledger.canonical import parse_json
from bias_ledger.ledger.checkpoint import Checkpoint as BodyCheckpoint
from bias_ledger.ledger.entry import armor, dearmor
from bias_ledger.ledger.entry_checks import CheckedEntry, Step, record_links
from bias_ledger.ledger.keys import fingerprint, parse_public_key
from bias_ledger.ledger.merkle import SHA256_HASHER
from bias_ledger.ledger.merkle_verify import verify_consistency, verify_inclusion
from bias_ledger.ledger.record import parse_header
from bias_ledger.ledger.tlog_checkpoint import Checkpoint, parse_checkpoint
from bias_ledger.ledger.tlog_entry import parse_entry
from bias_ledger.ledger.tlog_sig import check_signature
from bias_ledger.ledger.tlog_tiles import leaf_hash
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.verify import (
    Checklist,
    Integrity,
    Kept,
    Verification,
    check_links,
    links_detail,
    unheld_targets,
    verify_source,
)

BUNDLE_FORMAT_VERSION = 2
HASH_NAME = "sha256"
FIXED = frozenset({MANIFEST, CHECKPOINT, SIGNERS, REPORT_MD, REPORT_HTML})


def entry_member(index: int) -> str:
    return f"entries/{index}"


class ConsistencyJson2(ConsistencyJson):
    """``consistency.json`` of a format-2 bundle: the same fields, SHA-256 hashes in hex."""

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "hash": HASH_NAME}


def encode_manifest(manifest: Manifest) -> bytes:
    return dump_json({**manifest.to_json(), "hash": HASH_NAME})


def _manifest(raw: bytes, source: str) -> Manifest:
    data = load_json(raw, member=MANIFEST)
    if not isinstance(data, dict) or data.get("hash") != HASH_NAME:
        raise BundleError(f"{source}: {MANIFEST}: expected hash {HASH_NAME!r}")
    try:
        checkpoint = data["checkpoint"]
        records = tuple(
            ManifestRecord(
                index=item["index"],
                record_hash=item["record_hash"],
                leaf_hash=item["leaf_hash"],
                tree_size=item["inclusion_proof"]["tree_size"],
                inclusion_proof=tuple(item["inclusion_proof"]["hashes"]),
            )
            for item in data["records"]
        )
        manifest = Manifest(
            BUNDLE_FORMAT_VERSION,
            data["origin"],
            checkpoint["size"],
            checkpoint["root_hash"],
            records,
            data["report_version"],
        )
    except (KeyError, TypeError) as exc:
        raise BundleError(f"{source}: {MANIFEST}: missing or malformed field {exc}") from None
    if encode_manifest(manifest) != raw:
        raise BundleError(f"{source}: {MANIFEST}: expected the canonical layout and fields")
    return manifest


def contents_v2(
    source: str, members: Mapping[str, bytes], manifest_bytes: bytes | None = None
) -> BundleContents:
    """A safely read format-2 bundle with its members checked against its manifest (by name:
    ``members`` may read each member when looked up, so it is not copied)."""
    raw = members[MANIFEST] if manifest_bytes is None else manifest_bytes
    manifest = _manifest(raw, source)
    listed = {
        name
        for item in manifest.records
        for name in (record_json(item.index), record_sig(item.index), entry_member(item.index))
    }
    for name in sorted((FIXED | listed) - set(members)):
        raise BundleError(f"{source}: missing member {name!r}")
    for name in sorted(set(members) - FIXED - listed - {CONSISTENCY}):
        raise BundleError(f"{source}: unexpected member {name!r} (not listed in {MANIFEST})")
    if isinstance(members, dict):
        members = MappingProxyType(dict(members))
    return BundleContents(source=source, members=members, manifest=manifest)


def _hex(value: bytes) -> str:
    return value.hex()


def _checkpoint(contents: BundleContents, keys: Mapping[str, Any]) -> tuple[Checkpoint, Any]:
    where, manifest = contents.source, contents.manifest
    data = contents.members[CHECKPOINT]
    checkpoint = parse_checkpoint(note.parse_note(data, f"{where}: {CHECKPOINT}").text)
    check_checkpoint_matches_manifest(
        checkpoint.origin, checkpoint.size, checkpoint.root_hash, manifest, where=where
    )
    verifiers = {note.note_verifier(checkpoint.origin, key): key for key in keys.values()}
    opened = note.open_note(data, verifiers, f"{where}: {CHECKPOINT}")
    return checkpoint, verifiers[opened.verified_by[0]]


def check_record(
    where: str, index: int, origin: str, members: tuple[bytes, bytes, bytes], listed: str | None
) -> tuple[CheckedEntry, bytes]:
    """One record of a format-2 ledger in a bundle (its record, entry and signature members):
    BLAKE3 as the entry (and ``listed``, the manifest's hash, if any) commits, the signature
    armour, the header against the entry and place, the SSHSIG. Returns the checked entry and
    the entry's SHA-256 leaf hash."""
    raw, entry_bytes, sig = members
    entry = parse_entry(entry_bytes, where=f"{where} entry")
    digest = blake3.blake3(raw).hexdigest()
    if digest != (listed or entry.record) or digest != entry.record or len(raw) != entry.size:
        names = f" and bundle.json {listed}" if listed is not None else ""
        raise VerificationError(
            f"{where}: {record_json(index)} hashes to {digest}, but the entry names "
            f"{entry.record}{names} (the record was altered)"
        )
    armored = sig.decode("ascii", "replace")
    if (
        dearmor(armored, where=f"{where}: {record_sig(index)}") != entry.signature
        or armor(entry.signature) != armored
    ):
        raise BundleError(f"{where}: {record_sig(index)} is not the entry's signature armoured")
    record = parse_json(raw, where=where)  # before the signature: a forger's bytes, any depth
    header = parse_header(record, where=where, versions=frozenset({2}))
    found = (header.index, header.origin, header.kind.value, header.timestamp, entry.index)
    wanted = (index, origin, entry.kind, entry.timestamp, index)
    if found != wanted or header.signer.fingerprint != entry.signer:
        raise VerificationError(f"{where}: the record's header disagrees with its entry or place")
    key = parse_public_key(header.signer.public_key, source=where)
    check_signature(entry.signature, raw, key, where=where)
    leaf = leaf_hash(entry_bytes)
    approves, new_key, revokes = record_links(record, header, where=where)
    return CheckedEntry(header, digest, leaf, approves, new_key, revokes), leaf


def _record(contents: BundleContents, item: ManifestRecord, size: int, root: bytes) -> CheckedEntry:
    where, index = f"{contents.source} record {item.index}", item.index
    members = (
        contents.members[record_json(index)],
        contents.members[entry_member(index)],
        contents.members[record_sig(index)],
    )
    checked, leaf = check_record(where, index, contents.manifest.origin, members, item.record_hash)
    if leaf.hex() != item.leaf_hash or item.tree_size != size:
        raise VerificationError(f"{where}: leaf hash or proof size differs from bundle.json")
    try:
        proof = [bytes.fromhex(h) for h in item.inclusion_proof]
        verify_inclusion(SHA256_HASHER, index, size, leaf, proof, root)
    except (ValueError, VerificationError) as exc:
        raise VerificationError(f"{where} is not proven in the signed checkpoint: {exc}") from None
    return checked


def _consistency(
    contents: BundleContents, checkpoint: Checkpoint
) -> tuple[Step, ConsistencyJson2] | None:
    raw = contents.members.get(CONSISTENCY)
    if raw is None:
        return None
    data = load_json(raw, member=CONSISTENCY)
    where = f"{contents.source}: {CONSISTENCY}"
    try:
        proof = ConsistencyJson2(
            data["old_size"],
            data["old_root"],
            data["new_size"],
            data["new_root"],
            tuple(data["hashes"]),
        )
        if proof.encode() != raw:
            raise BundleError(f"{where}: expected the canonical layout")
        if (proof.new_size, proof.new_root) != (checkpoint.size, checkpoint.root_hash.hex()):
            raise VerificationError(f"{where}: does not end at the checkpoint")
        verify_consistency(
            SHA256_HASHER,
            proof.old_size,
            proof.new_size,
            bytes.fromhex(proof.old_root),
            bytes.fromhex(proof.new_root),
            [bytes.fromhex(h) for h in proof.hashes],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"{where}: malformed ({exc})") from None
    step = Step("consistency proof", f"size {proof.old_size} is a prefix (RFC 6962, SHA-256)")
    return step, proof


class Format2BundleSource:
    """A format-2 bundle as a source of the one verification core (bias_ledger.verify)."""

    kind = "bundle"
    trust_hint = (
        "pass --trusted-keys FILE or --trusted-key FINGERPRINT (keys inside the bundle are "
        "never trusted)"
    )

    def __init__(self, contents: BundleContents) -> None:
        self.contents = contents
        self.name = contents.source
        self.keys: dict[str, Any] = {}
        self.checkpoint: Checkpoint | None = None
        self._proof: ConsistencyJson2 | None = None

    def integrity(self, checklist: Checklist, *, format_checked: bool = False) -> Integrity:
        contents, manifest, where = self.contents, self.contents.manifest, self.contents.source
        if not format_checked:  # else the bundle source has checked and recorded it
            with checklist.check("bundle format", "docs/FORMAT.md, 10.15") as check:
                if not manifest.records:
                    raise BundleError(f"{where}: bundle.json lists no records: nothing to verify")
                indexes = [item.index for item in manifest.records]
                if indexes != sorted(set(indexes)):
                    raise VerificationError(f"{where}: bundle.json lists {indexes}: out of order")
                check.detail = f"{FORMAT_NAME} version 2: members as listed"
        size, root = manifest.checkpoint_size, bytes.fromhex(manifest.checkpoint_root)
        with checklist.check("records") as check:
            entries = {item.index: _record(contents, item, size, root) for item in manifest.records}
            check.detail = (
                f"{len(entries)} records: BLAKE3 as the entry commits, SSHSIG by the signer, "
                "header as the entry, RFC 6962 SHA-256 inclusion in the checkpoint's root"
            )
        # The checkpoint's signer is a record signer or a key a shipped rotation introduced.
        lines = {e.header.signer.public_key for e in entries.values()}
        lines |= {e.new_key for e in entries.values() if e.new_key is not None}
        self.keys = {line: parse_public_key(line) for line in sorted(lines)}
        with checklist.check("checkpoint signature") as check:
            checkpoint, key = _checkpoint(contents, self.keys)
            self.checkpoint = checkpoint
            check.detail = f"Ed25519 signed note by {fingerprint(key)}"
        with checklist.check("hash chain") as check:
            links = check_links(entries, source=where)
            check.detail = links_detail(links, unheld_targets(entries))
        with checklist.check("signers") as check:
            check.detail = check_signers_member(contents, key, entries)
        proven = _consistency(contents, checkpoint)
        if proven is not None:
            checklist.add(proven[0].what, proven[0].detail)
            self._proof = proven[1]
        body = BodyCheckpoint(checkpoint.origin, checkpoint.size, checkpoint.root_hash)
        return Integrity(manifest.origin, size, body, key, entries)

    def root_at(self, size: int, *, wanted_by: str) -> bytes:
        """The root at a kept checkpoint's size: the checkpoint's own, or the old root of the
        consistency proof checked in :meth:`integrity`."""
        assert self.checkpoint is not None
        if size == self.checkpoint.size:
            return self.checkpoint.root_hash
        if self._proof is None or self._proof.old_size != size:
            raise VerificationError(
                f"fork: no consistency proof in the bundle from the kept size {size} "
                f"({wanted_by}); export it with --consistent-with"
            )
        return bytes.fromhex(self._proof.old_root)

    def kept_checkpoint(self, kept: Kept, trusted: TrustedKeys) -> tuple[BodyCheckpoint, Any]:
        """A kept signed note: its body and the key (a record signer's or a trusted one)
        whose Ed25519 signature, named by the origin, verifies."""
        text = note.parse_note(kept.data, kept.name).text
        body = parse_checkpoint(text, kept.name)
        keys = [*self.keys.values(), *(k.public_key for k in trusted if k.public_key)]
        verifiers = {note.note_verifier(body.origin, key): key for key in keys}
        opened = note.open_note(kept.data, verifiers, kept.name)
        checkpoint = BodyCheckpoint(body.origin, body.size, body.root_hash)
        return checkpoint, verifiers[opened.verified_by[0]]


def verify_contents_v2(
    contents: BundleContents,
    trusted: TrustedKeys | None,
    *,
    kept_checkpoint: bytes | None = None,
    kept_source: str = "--since",
) -> Verification:
    """Verify a format-2 bundle with the one core, ``--since`` (a kept signed note) too."""
    kept = None if kept_checkpoint is None else Kept(kept_checkpoint, kept_source)
    return verify_source(Format2BundleSource(contents), trusted=trusted, since=kept)
