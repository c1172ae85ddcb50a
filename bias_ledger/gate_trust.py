"""What the gate relies on, verified first: the ledger's records, who signed them, approvals.

The gate reads baselines and judged records from a ledger that anyone with write access could
have edited. Before it uses a record, the ledger is verified with the verifier's own checks
(entries and signatures, hash chain, signed checkpoint, key rotations and revocations), and
the record's signer (or its approval's signer) must be trusted from outside: ``--trusted-keys``
for the ledger's signers, ``--approved-by`` for approvers, or, said loudly, the ledger's own
keys (``--trust-ledger-keys``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.errors import VerificationError
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.checkpoint import parse_signed_checkpoint
from bias_ledger.ledger.entry import parse_line
from bias_ledger.ledger.entry_checks import CheckedEntry, check_entries
from bias_ledger.ledger.key_history import KeyWalk, Untrusted, follow_keys
from bias_ledger.ledger.keys import fingerprint
from bias_ledger.ledger.reader import read_ledger
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.verify import check_chain, check_checkpoint

TRUST_LEDGER_KEYS_WARNING = (
    "--trust-ledger-keys: trusting the keys found in the ledger itself; anyone who can write "
    "to the ledger can forge the baseline or record this gate relies on"
)


@dataclass(frozen=True)
class GateTrust:
    """Where the gate's trust comes from (at most all three; none refuses to rely on records)."""

    trusted: TrustedKeys | None = None
    """``--trusted-keys``: every record and the checkpoint must be signed by these keys."""
    approvers: TrustedKeys | None = None
    """``--approved-by``: a baseline's approval must be signed by one of these keys."""
    trust_ledger_keys: bool = False
    """``--trust-ledger-keys``: trust whatever keys signed the ledger."""

    @property
    def anchored(self) -> bool:
        return self.trusted is not None or self.approvers is not None or self.trust_ledger_keys

    def refusal(self, what: str) -> VerificationError:
        return VerificationError(
            f"{what}: refusing to rely on it without a trusted key; pass --approved-by FILE "
            "(allowed_signers of the approvers), --trusted-keys FILE (of the ledger's signers), "
            "or --trust-ledger-keys to trust the ledger's own keys"
        )


def _union(first: TrustedKeys, second: TrustedKeys) -> TrustedKeys:
    return TrustedKeys({**second.keys, **first.keys}, f"{first.source} and {second.source}")


@dataclass(frozen=True)
class VerifiedLedger:
    """The records a signed checkpoint covers, every one verified, and who is trusted."""

    path: Path
    records: tuple[Mapping[str, Any], ...]
    """The records, as JSON, of indexes 0..checkpoint size - 1."""
    entries: tuple[CheckedEntry, ...]
    signers: KeyWalk | None
    """The walk over ``--trusted-keys`` (or the ledger's keys); None without either."""
    approvals: KeyWalk | None
    """The walk over ``--approved-by``; None without it."""

    def where(self, index: int) -> str:
        return f"{self.path} record {index}"

    def record(self, index: int, *, option: str) -> Mapping[str, Any]:
        if not 0 <= index < len(self.records):
            from bias_ledger.verify.records import no_such_record

            raise no_such_record(self.path, index, len(self.records), option=option)
        return self.records[index]

    def invalid_reason(self, index: int) -> str:
        """Why record ``index`` is invalid (its key could no longer sign it), or ``""``."""
        for walk in (self.signers, self.approvals):
            if walk is not None and index in walk.invalid:
                return f" ({walk.invalid[index]})"
        return ""

    def signer_principal(self, index: int) -> str | None:
        """The principal of record ``index``'s signer when a trusted key signed it, else None."""
        for walk in (self.signers, self.approvals):
            if walk is not None and index in walk.trusted_records:
                return walk.trusted_records[index]
        return None

    def approver_principal(self, index: int) -> str | None:
        """The principal of an approval's signer when it may approve, else None."""
        if self.approvals is not None:
            return self.approvals.trusted_records.get(index)
        return None if self.signers is None else self.signers.trusted_records.get(index)


def _verified_log(path: Path, origin: str) -> tuple[int, Ed25519PublicKey]:
    """A format-2 ledger's size and checkpoint key, once the format-2 verifier checked every
    entry, record, tile and the signed note (before anything reads its records: an altered
    record is a failed verification, exit 3, not an unreadable ledger)."""
    from bias_ledger.ledger.keys import parse_public_key
    from bias_ledger.ledger.tlog_source import DirectorySource
    from bias_ledger.ledger.tlog_verify import verify_log

    log = verify_log(DirectorySource(path), trusted=None, trust_log_keys=True, origin=origin)
    return log.size, parse_public_key(log.checkpoint_signer, source=f"{path}/checkpoint")


def verify_for_gate(path: Path, trust: GateTrust) -> VerifiedLedger:
    """Verify the ledger at ``path`` with the verifier's checks before the gate uses it."""
    from bias_ledger.ledger.reader import CHECKPOINT_FILE, read_meta

    meta = read_meta(path)
    log = None
    if meta.format_version == 2 and (path / CHECKPOINT_FILE).exists():
        log = _verified_log(path, meta.origin)
    stored = read_ledger(path)
    source = str(path)
    if stored.torn_tail:
        raise VerificationError(
            f"{source}: torn tail of {len(stored.torn_tail)} bytes after record "
            f"{len(stored.lines) - 1}; run 'bias-ledger fsck'"
        )
    if not stored.lines:
        return VerifiedLedger(path, (), (), None, None)  # nothing to rely on, nothing forged
    if stored.checkpoint is None:
        raise VerificationError(f"{source}: the ledger has no signed checkpoint: nothing verified")
    if log is not None:
        # The records the format-2 verifier read back go through the same trust walk as
        # format 1's.
        entries = check_entries(stored.lines, source=source, versions=frozenset({2}))
        check_chain(entries, origin=stored.meta.origin, source=source)
        size, checkpoint_key = log
    else:
        # Every line is checked, also those after the checkpoint: bytes appended to the log
        # make the gate fail loudly rather than be silently skipped.
        entries = check_entries(stored.lines, source=source)
        check_chain(entries, origin=stored.meta.origin, source=source)
        size = check_checkpoint(
            stored.checkpoint,
            [item.leaf_hash for item in entries],
            None,
            origin=stored.meta.origin,
            source=f"{source}/checkpoint",
        ).size
        _, armored = parse_signed_checkpoint(stored.checkpoint, source=f"{source}/checkpoint")
        checkpoint_key = sshsig.embedded_public_key(armored)
    covered = entries[:size]
    what = f"{source}/checkpoint (tree size {size})"
    signers = approvals = None
    keys = trust.trusted
    if keys is None and trust.trust_ledger_keys:
        keys = TrustedKeys.from_fingerprints(
            {item.header.signer.fingerprint for item in covered}, source="--trust-ledger-keys"
        )
    if keys is not None:
        if trust.approvers is not None:
            keys = _union(keys, trust.approvers)
        signers = follow_keys(enumerate(covered), keys, source=source)
        signers.checkpoint_signer(checkpoint_key, size, what=what)
    if trust.approvers is not None:
        approvals = follow_keys(
            enumerate(covered), trust.approvers, source=source, untrusted=Untrusted.SKIP
        )
        if signers is None:  # the checkpoint's signer need not be an approver, only usable
            approvals.usable_at(fingerprint(checkpoint_key), size - 1, what=what)
    records = tuple(
        json.loads(parse_line(line, where=source).record_bytes) for line in stored.lines[:size]
    )
    return VerifiedLedger(path, records, tuple(covered), signers, approvals)
