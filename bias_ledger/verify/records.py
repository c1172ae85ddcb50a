"""Record N of a ledger, verified: the one way every reader of records gets them (``report``,
``attest``, ``export --cyclonedx``, the LL144 summary), for format 1 and format 2 alike.

The whole ledger is verified first by the one verifier of its format (integrity, and trust
following key rotations and revocations when trusted keys are given; without them the ledger's
own keys are walked, which still finds records their key could no longer sign). Every record
handed out afterwards is bound to the checkpoint that verification accepted: format 1 checks
the Merkle root of the records read back, format 2 checks each entry's RFC 6962 inclusion in the
verified note and the record's BLAKE3 against its entry. A ledger changed in between fails.

Trusted core: standard library, blake3, cryptography and ``bias_ledger.ledger`` only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import blake3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.errors import InputError, VerificationError
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.checkpoint import parse_signed_checkpoint
from bias_ledger.ledger.entry import parse_line
from bias_ledger.ledger.keys import parse_public_key
from bias_ledger.ledger.merkle import BLAKE3_HASHER, SHA256_HASHER, CompactRange, MerkleTree
from bias_ledger.ledger.merkle_verify import verify_inclusion
from bias_ledger.ledger.reader import read_ledger, read_meta
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.verify.result import Verification

INTEGRITY_ONLY = (
    "verified for integrity only (hashes, chain, signatures, checkpoint); the signers were "
    "NOT checked against trusted keys (pass --trusted-keys FILE)"
)


@dataclass(frozen=True)
class VerifiedRecord:
    """One record of a verified ledger, with what binds it to the verified checkpoint."""

    index: int
    data: bytes
    """The record's canonical bytes, exactly as signed."""
    record_hash: str
    """Hex BLAKE3-256 of ``data``."""
    signature: bytes
    """The binary SSHSIG blob over ``data``."""
    entry: bytes
    """The Merkle leaf's data: the ``records.log`` line (format 1) or the log entry (format 2)."""

    def record(self) -> dict[str, Any]:
        value = json.loads(self.data)
        if not isinstance(value, dict):  # verification refuses this; kept for the type
            raise VerificationError(f"record {self.index}: expected a JSON object")
        return value


@dataclass(frozen=True)
class VerifiedLedger:
    """A ledger after verification: its checkpoint, how it was verified, and its records."""

    path: Path
    format_version: int
    verification: Verification
    signed_checkpoint: bytes
    """The signed checkpoint verification accepted (format 2: the note, with cosignatures)."""
    checkpoint_key: Ed25519PublicKey
    trusted: bool
    """Whether trust was checked against keys from outside the ledger."""
    _lines: tuple[bytes, ...] = field(default=(), repr=False)

    @property
    def origin(self) -> str:
        return self.verification.origin

    @property
    def size(self) -> int:
        """The records the verified checkpoint covers (0..size-1)."""
        assert self.verification.checkpoint is not None
        return self.verification.checkpoint.size

    @property
    def root_hash(self) -> bytes:
        assert self.verification.checkpoint is not None
        return self.verification.checkpoint.root_hash

    @property
    def how(self) -> str:
        """How the records were verified, in words for a report."""
        if not self.trusted:
            return INTEGRITY_ONLY
        return (
            f"verified for integrity and trust (keys trusted in {self.verification.trust_source})"
        )

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.size:
            raise no_such_record(self.path, index, self.size)

    def record(self, index: int) -> VerifiedRecord:
        """Record ``index``, proven in the verified checkpoint; refused (exit 3) when it is
        invalid (its key could no longer sign it: rotated out or revoked), since whatever
        reads it (a report, an attestation) would vouch for it."""
        self._check_index(index)
        why = self.verification.invalid.get(index)
        if why is not None:
            raise VerificationError(
                f"record {index}: invalid ({why}): a record its key could no longer sign is "
                f"never reported or attested as verified ({self.path})"
            )
        if self.format_version == 1:
            return _line_record(self._lines[index], index)
        return _log_record(self.path, index, self.size, self.root_hash)

    def records(self) -> Iterator[VerifiedRecord]:
        """Every valid record the checkpoint covers, in order (format 2: read one at a time,
        the tree's root checked against the checkpoint once the last is read). An invalid
        record (its key could no longer sign it) is left out: nothing may rely on it."""
        invalid = self.verification.invalid
        if self.format_version == 1:
            for index, line in enumerate(self._lines):
                if index not in invalid:
                    yield _line_record(line, index)
            return
        from bias_ledger.ledger.tlog_read import iter_records
        from bias_ledger.ledger.tlog_source import DirectorySource
        from bias_ledger.ledger.tlog_tiles import leaf_hash

        tree = CompactRange(0)
        for item in iter_records(DirectorySource(self.path), self.size):
            tree = tree.append(SHA256_HASHER, leaf_hash(item.entry_bytes))
            if item.entry.index in invalid:
                continue
            yield VerifiedRecord(
                item.entry.index,
                item.record_bytes,
                item.entry.record,
                item.entry.signature,
                item.entry_bytes,
            )
        if tree.root(SHA256_HASHER) != self.root_hash:
            raise VerificationError(f"{self.path}: the ledger changed while it was being read")

    def inclusion_proof(self, index: int) -> tuple[bytes, list[bytes]]:
        """The leaf hash of record ``index`` and its inclusion proof in the checkpoint's tree
        (BLAKE3 for format 1, RFC 6962 SHA-256 for format 2), checked against its root."""
        self._check_index(index)
        if self.format_version == 1:
            tree = MerkleTree(BLAKE3_HASHER, (BLAKE3_HASHER.hash_leaf(x) for x in self._lines))
            leaf, proof = tree.subtree_hash(index, index + 1), tree.inclusion_proof(index)
            verify_inclusion(BLAKE3_HASHER, index, self.size, leaf, proof, self.root_hash)
            return leaf, proof
        from bias_ledger.ledger.tlog_source import DirectorySource
        from bias_ledger.ledger.tlog_tiles import leaf_hash
        from bias_ledger.ledger.tlog_tree import TileTree

        leaf = leaf_hash(self.record(index).entry)
        proof = TileTree(DirectorySource(self.path), self.size).inclusion_proof(index, self.size)
        verify_inclusion(SHA256_HASHER, index, self.size, leaf, proof, self.root_hash)
        return leaf, proof


def no_such_record(path: Path, index: int, size: int, *, option: str = "record") -> InputError:
    """The one-line error for a record index the verified ledger does not hold (exit 2)."""
    held = f"{size} record{'s' if size != 1 else ''} (0..{size - 1})" if size else "no records"
    return InputError(f"{option} {index}: no such record; {path} holds {held}")


def _line_record(line: bytes, index: int) -> VerifiedRecord:
    entry = parse_line(line, where=f"record {index}")
    digest = blake3.blake3(entry.record_bytes).hexdigest()
    return VerifiedRecord(index, entry.record_bytes, digest, entry.signature, line)


def _log_record(path: Path, index: int, size: int, root: bytes) -> VerifiedRecord:
    from bias_ledger.ledger.tlog_entry import parse_entry
    from bias_ledger.ledger.tlog_read import iter_entries, read_record
    from bias_ledger.ledger.tlog_source import DirectorySource
    from bias_ledger.ledger.tlog_tiles import leaf_hash
    from bias_ledger.ledger.tlog_tree import TileTree

    source = DirectorySource(path)
    where = f"{path} record {index}"
    data = next(entry for _, entry in iter_entries(source, index + 1, start=index))
    proof = TileTree(source, size).inclusion_proof(index, size)
    try:
        verify_inclusion(SHA256_HASHER, index, size, leaf_hash(data), proof, root)
    except VerificationError as exc:
        raise VerificationError(
            f"{where}: not in the verified checkpoint ({exc.message}): the ledger changed "
            "while it was being read"
        ) from exc
    entry = parse_entry(data, where=where)
    record = read_record(source, entry, where=where)
    return VerifiedRecord(index, record, entry.record, entry.signature, data)


def open_verified(path: Path, trusted: TrustedKeys | None) -> VerifiedLedger:
    """Verify the ledger at ``path`` and return it for reading; raise
    :class:`~bias_ledger.verify.VerificationFailed` (exit 3) when it does not verify.

    ``trusted`` None: integrity only (the ledger's own keys are walked, and the result says
    that trust was not checked)."""
    meta = read_meta(path, error=VerificationError)
    if meta.format_version == 2:
        from bias_ledger.ledger.tlog_source import DirectorySource
        from bias_ledger.verify.log import verify_log_source

        verified = verify_log_source(
            DirectorySource(path),
            kind="ledger",
            trusted=trusted,
            trust_log_keys=trusted is None,
            origin=meta.origin,
        )
        key = parse_public_key(verified.log.checkpoint_signer, source=f"{path}/checkpoint")
        return VerifiedLedger(
            path, 2, verified.verification, verified.log.signed_checkpoint, key, trusted is not None
        )
    from bias_ledger.verify.ledger_source import verify_ledger

    verification = verify_ledger(path, trusted=trusted, trust_ledger_keys=trusted is None)
    checkpoint = verification.checkpoint
    if checkpoint is None:
        raise VerificationError(f"{path}: the ledger has no signed checkpoint: nothing to read")
    # Read once more and check it is the ledger just verified: same root over the same records.
    stored = read_ledger(path, error=VerificationError)
    if stored.checkpoint is None:
        raise VerificationError(f"{path}/checkpoint: removed while reading")
    signed, armored = parse_signed_checkpoint(stored.checkpoint, source=f"{path}/checkpoint")
    lines = stored.lines[: checkpoint.size]
    root = CompactRange.of(BLAKE3_HASHER, (BLAKE3_HASHER.hash_leaf(x) for x in lines))
    if signed != checkpoint or root.root(BLAKE3_HASHER) != checkpoint.root_hash:
        raise VerificationError(f"{path}: the ledger changed while it was being read")
    key = sshsig.embedded_public_key(armored)
    return VerifiedLedger(
        path, 1, verification, stored.checkpoint, key, trusted is not None, _lines=lines
    )
