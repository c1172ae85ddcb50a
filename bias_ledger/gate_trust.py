"""What the gate relies on, verified first: the ledger's records, who signed them, approvals.

The gate reads baselines and judged records from a ledger that anyone with write access could
have edited. Before it uses a record, the ledger is verified with the verifier's own checks
(entries and signatures, hash chain, signed checkpoint, key rotations and revocations), and
the record's signer (or its approval's signer) must be trusted from outside: ``--trusted-keys``
for the ledger's signers, ``--approved-by`` for approvers, or, said loudly, the ledger's own
keys (``--trust-ledger-keys``). A validly signed older state of the ledger (a rollback that
brings back an older approval) is caught by a checkpoint kept outside it (``--since``), or by
witnesses' cosignatures (``--witnesses``) when the policy bounds their age (``max_age``: the
older state carries the valid cosignatures of its time). The verification is the one core's
(:mod:`bias_ledger.verify`), and the gate uses the records of that one read.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.errors import VerificationError
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.checkpoint import parse_signed_checkpoint
from bias_ledger.ledger.entry import parse_line
from bias_ledger.ledger.entry_checks import CheckedEntry, check_entries
from bias_ledger.ledger.key_history import KeyWalk, Untrusted, follow_keys
from bias_ledger.ledger.keys import fingerprint
from bias_ledger.ledger.trust import TrustedKeys

if TYPE_CHECKING:
    from bias_ledger.verify import Kept
    from bias_ledger.verify.log import Witnesses

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
    kept: Kept | None = None
    """``--since``: a signed checkpoint kept outside the ledger (an earlier run's) that the
    ledger must extend: a rollback to an older state, or rewritten history, fails."""
    witnesses: Witnesses | None = None
    """``--witnesses``: the checkpoint must carry this policy's quorum of cosignatures."""

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
    checkpoint: bytes | None = None
    """The signed checkpoint verified, as read (for ``--save-checkpoint``); None when empty."""

    def where(self, index: int) -> str:
        return f"{self.path} record {index}"

    def record(self, index: int, *, option: str) -> Mapping[str, Any]:
        if not 0 <= index < len(self.records):
            from bias_ledger.verify.records import no_such_record

            raise no_such_record(self.path, index, len(self.records), option=option)
        return self.records[index]

    def invalid_reason(self, index: int) -> str:
        """Why record ``index`` is invalid (its key could no longer sign it), or ``""``: by any
        walk: a revocation signed by a ``--trusted-keys`` key counts against an approver too,
        though the approvers' walk skips what other keys sign. A revocation by a key trusted
        nowhere counts for nothing: with ``latest-approved``, revoking the newest approval
        would bring back an older one."""
        for walk in (self.signers, self.approvals):
            if walk is not None and index in walk.invalid:
                return f" ({walk.invalid[index]})"
        return ""

    def signer_principal(self, index: int) -> str | None:
        """The principal of record ``index``'s signer when a trusted key signed it and the
        record is valid, else None."""
        if self.invalid_reason(index):
            return None
        for walk in (self.signers, self.approvals):
            if walk is not None and index in walk.trusted_records:
                return walk.trusted_records[index]
        return None

    def approver_principal(self, index: int) -> str | None:
        """The principal of an approval's signer when it may approve (a trusted approver, the
        approval valid), else None."""
        if self.invalid_reason(index):
            return None
        if self.approvals is not None:
            return self.approvals.trusted_records.get(index)
        return None if self.signers is None else self.signers.trusted_records.get(index)


def _core_trust(trust: GateTrust) -> tuple[TrustedKeys | None, bool]:
    """What the verification core trusts: ``--trusted-keys`` (with the approvers, whose
    approvals are records of the ledger); with ``--approved-by`` alone, or
    ``--trust-ledger-keys``, the ledger's own keys (the gate then relies only on what the
    approvers signed, or says loudly that it trusts the ledger)."""
    if trust.trusted is None:
        return None, True
    keys = trust.trusted if trust.approvers is None else _union(trust.trusted, trust.approvers)
    return keys, False


@dataclass(frozen=True)
class _Read:
    """One verified read of a ledger: its lines, their checked entries, and its checkpoint."""

    lines: tuple[bytes, ...]
    entries: tuple[CheckedEntry, ...]
    size: int
    """The checkpoint's tree size: records 0..size - 1 are covered."""
    checkpoint: bytes
    """The signed checkpoint, as read."""
    checkpoint_key: Ed25519PublicKey


def _format2(path: Path, origin: str, trust: GateTrust) -> _Read | None:
    """A format-2 ledger verified by the one core, read once: the records the gate uses are
    those the verification read (and checked against the tiles and the signed checkpoint), not
    a second read that a concurrent writer could have changed. None: no checkpoint yet."""
    from bias_ledger.ledger.keys import parse_public_key
    from bias_ledger.ledger.tlog_read import CHECKPOINT_FILE, iter_records
    from bias_ledger.ledger.tlog_snapshot import SnapshotSource
    from bias_ledger.ledger.tlog_source import DirectorySource
    from bias_ledger.verify.log import verify_log_source

    snapshot = SnapshotSource(DirectorySource(path))
    if snapshot.read(CHECKPOINT_FILE) is None:
        return None
    keys, own = _core_trust(trust)
    log = verify_log_source(
        snapshot,
        kind="ledger",
        trusted=keys,
        trust_log_keys=own,
        origin=origin,
        since=trust.kept,
        witnesses=trust.witnesses,
    ).log
    snapshot.seal()
    lines = tuple(
        item.record_bytes + b"\t" + base64.b64encode(item.entry.signature)
        for item in iter_records(snapshot, log.size)
    )
    # The same bytes, as the checked entries the gate's key walks read.
    entries = check_entries(lines, source=str(path), versions=frozenset({2}))
    key = parse_public_key(log.checkpoint_signer, source=f"{path}/checkpoint")
    return _Read(lines, tuple(entries), log.size, log.signed_checkpoint, key)


def _format1(path: Path, trust: GateTrust) -> _Read | None:
    """A format-1 ledger verified by the one core; the records are those it read. None: no
    record yet."""
    from bias_ledger.errors import InputError
    from bias_ledger.ledger.reader import RECORDS_FILE
    from bias_ledger.verify import LedgerSource, verify_source

    if trust.witnesses is not None:
        raise InputError(
            f"--witnesses: {path} is a format-1 ledger: its checkpoint is an SSHSIG signature, "
            "not a C2SP signed note, so no witness can cosign it; --since works with it, "
            "--witnesses needs a format-2 ledger ('bias-ledger init --format 2')"
        )
    records = path / RECORDS_FILE
    if not records.exists() or records.stat().st_size == 0:
        return None
    source = LedgerSource(path)
    keys, own = _core_trust(trust)
    verified = verify_source(source, trusted=keys, trust_source_keys=own, since=trust.kept)
    stored = source.stored
    assert stored is not None  # verify_source read it
    if stored.torn_tail:
        raise VerificationError(
            f"{path}: torn tail of {len(stored.torn_tail)} bytes after record "
            f"{len(stored.lines) - 1}; run 'bias-ledger fsck'"
        )
    if stored.checkpoint is None or verified.checkpoint is None:
        raise VerificationError(f"{path}: the ledger has no signed checkpoint: nothing verified")
    _, armored = parse_signed_checkpoint(stored.checkpoint, source=f"{path}/checkpoint")
    # Every line was checked, also those after the checkpoint: bytes appended to the log make
    # the gate fail loudly rather than be silently skipped.
    return _Read(
        stored.lines,
        tuple(source.entries),
        verified.checkpoint.size,
        stored.checkpoint,
        sshsig.embedded_public_key(armored),
    )


def _nothing(path: Path, trust: GateTrust) -> VerifiedLedger:
    """An empty ledger: nothing to rely on, nothing forged, unless a kept checkpoint or a
    witness policy says there should be one."""
    if trust.kept is not None:
        raise VerificationError(
            f"rollback: {path} holds no signed checkpoint, but you kept one ({trust.kept.name}): "
            "the ledger was emptied or replaced"
        )
    if trust.witnesses is not None:
        raise VerificationError(
            f"{path}: no checkpoint, so no cosignature of the witnesses in {trust.witnesses.source}"
        )
    return VerifiedLedger(path, (), (), None, None)


def verify_for_gate(path: Path, trust: GateTrust) -> VerifiedLedger:
    """Verify the ledger at ``path`` with the one verification core (entries, signatures,
    chain, tiles, signed checkpoint, trust; ``--since``, ``--witnesses``) before the gate uses
    it, and keep the records of that one read."""
    from bias_ledger.ledger.reader import read_meta

    meta = read_meta(path)
    two = meta.format_version == 2
    read = _format2(path, meta.origin, trust) if two else _format1(path, trust)
    if read is None:
        return _nothing(path, trust)
    source = str(path)
    size = read.size
    covered = read.entries[:size]
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
        signers.checkpoint_signer(read.checkpoint_key, size, what=what)
    if trust.approvers is not None:
        approvals = follow_keys(
            enumerate(covered), trust.approvers, source=source, untrusted=Untrusted.SKIP
        )
        if signers is None:  # the checkpoint's signer need not be an approver, only usable
            approvals.usable_at(fingerprint(read.checkpoint_key), size - 1, what=what)
    records = tuple(
        json.loads(parse_line(line, where=source).record_bytes) for line in read.lines[:size]
    )
    return VerifiedLedger(path, records, tuple(covered), signers, approvals, read.checkpoint)
