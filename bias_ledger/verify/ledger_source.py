"""A ledger directory as a verification source: every record, its chain and its checkpoint.

Trusted core: standard library, blake3, cryptography and ``bias_ledger.ledger`` only.
"""

from __future__ import annotations

from pathlib import Path

from bias_ledger.errors import VerificationError
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.checkpoint import Checkpoint, parse_signed_checkpoint
from bias_ledger.ledger.entry_checks import AlteredRecord, CheckedEntry, check_entries
from bias_ledger.ledger.merkle import BLAKE3_HASHER, CompactRange
from bias_ledger.ledger.reader import StoredLedger, read_ledger
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.verify.chain import check_chain, check_checkpoint, edited_field
from bias_ledger.verify.core import Kept, verify_source
from bias_ledger.verify.result import Checklist, Verification
from bias_ledger.verify.source import Integrity


class LedgerSource:
    """The ledger at ``path``; its leaf hashes are kept for ``--since``, and what it read for a
    caller that must use the very bytes verified (the gate)."""

    kind = "ledger"
    trust_hint = "pass --trusted-keys FILE, --trusted-key FINGERPRINT, or --trust-ledger-keys"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        self._leaves: list[bytes] = []
        self.stored: StoredLedger | None = None
        """The ledger as :meth:`integrity` read it (None before)."""
        self.entries: list[CheckedEntry] = []
        """Its records as :meth:`integrity` checked them."""

    def integrity(self, checklist: Checklist) -> Integrity:
        source = self.name
        stored = read_ledger(self.path, error=VerificationError)
        checklist.add(
            "format", f"ledger format version {stored.meta.format_version}", "docs/FORMAT.md"
        )
        with checklist.check("records", "docs/FORMAT.md, Records") as check:
            if not stored.lines:
                raise VerificationError(f"{source}: the ledger holds no records: nothing to verify")
            try:
                entries = check_entries(stored.lines, source=source)
            except AlteredRecord as exc:
                hint = edited_field(stored.lines, exc.position, stored.meta.origin)
                raise VerificationError(exc.message + hint) from exc
            check.detail = f"{len(entries)} records parse with known format versions"
        checklist.add(
            "signatures",
            f"{len(entries)} SSHSIG Ed25519 signatures over record bytes",
            "the key in each record's signer field",
        )
        with checklist.check("hash chain", "each previous record's BLAKE3 hash") as check:
            check_chain(entries, origin=stored.meta.origin, source=source)
            check.detail = "indexes 0..n-1, each previous_hash is BLAKE3 of the last"
        self._leaves = [item.leaf_hash for item in entries]
        self.stored, self.entries = stored, entries
        warnings: list[str] = []
        if stored.torn_tail:
            # Bytes after the last LF are an interrupted append, never a record (an entry is
            # committed by its LF, written after the rest is durable): report, do not fail.
            warnings.append(
                f"{len(stored.torn_tail)} bytes after record {len(stored.lines) - 1} are an "
                "interrupted append, not a record (the next append overwrites them)"
            )
        checkpoint: Checkpoint | None = None
        key = None
        with checklist.check("checkpoint", f"{source}/checkpoint") as check:
            if stored.checkpoint is None:
                # Appends replace the checkpoint atomically and never remove it, so several
                # records without one means it was removed (or every append so far crashed at
                # the same point, which the next append repairs). One record without one is a
                # crashed first append.
                if len(entries) > 1:
                    raise VerificationError(
                        f"{source}/checkpoint: expected a signed checkpoint for {len(entries)} "
                        "records, found none (it was removed; records may have been removed "
                        "with it)"
                    )
                warnings.append("the ledger has no signed checkpoint")
                check.detail = "none yet (a single record)"
            else:
                where = f"{source}/checkpoint"
                checkpoint = check_checkpoint(
                    stored.checkpoint, self._leaves, None, origin=stored.meta.origin, source=where
                )
                key = sshsig.embedded_public_key(
                    parse_signed_checkpoint(stored.checkpoint, source=where)[1]
                )
                check.detail = (
                    f"Merkle root of {checkpoint.size} records matches the signed checkpoint "
                    f"for origin {checkpoint.origin}, root {checkpoint.root_hash.hex()}"
                )
                if checkpoint.size < len(entries):
                    warnings.append(
                        f"{len(entries) - checkpoint.size} record(s) after the latest checkpoint "
                        "(an append was interrupted after writing its record)"
                    )
        return Integrity(
            origin=stored.meta.origin,
            size=len(entries),
            checkpoint=checkpoint,
            checkpoint_key=key,
            entries={item.header.index: item for item in entries},
            warnings=tuple(warnings),
        )

    def root_at(self, size: int, *, wanted_by: str) -> bytes:
        return CompactRange.of(BLAKE3_HASHER, self._leaves[:size]).root(BLAKE3_HASHER)


def verify_ledger(
    path: Path,
    *,
    trusted: TrustedKeys | None,
    trust_ledger_keys: bool = False,
    since: tuple[bytes, str] | None = None,
) -> Verification:
    """Verify everything about the ledger at ``path`` (see :func:`verify_source`).

    ``since`` is a signed checkpoint kept earlier (its bytes and where they came from) that
    the ledger must extend.
    """
    return verify_source(
        LedgerSource(path),
        trusted=trusted,
        trust_source_keys=trust_ledger_keys,
        since=None if since is None else Kept(*since),
    )
