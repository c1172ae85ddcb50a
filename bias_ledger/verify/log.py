"""A format-2 log (a ledger directory, a published directory, a URL) verified into the one
structured result every report is built from (:class:`~bias_ledger.verify.result.Verification`).

The streaming verifier is :func:`bias_ledger.ledger.tlog_verify.verify_log` (entries, records,
tiles, the signed note, trust by the one key walk, ``--since``); this module names what each of
its steps was checked against, adds the witness cosignatures (each one: which witness, its key,
valid or not) and the quorum of a ``--witnesses`` policy, and turns failures into
:class:`VerificationFailed` so that a failed verification is reported as fully as a passed one.

Trusted core: standard library, cryptography, ``bias_ledger.ledger`` and the witness policy.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.checkpoint import Checkpoint
from bias_ledger.ledger.entry_checks import Step
from bias_ledger.ledger.index_runs import IndexRanges
from bias_ledger.ledger.tlog_source import LogSource
from bias_ledger.ledger.tlog_verify import LogVerification, UntrustedLogError, verify_log
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.verify.core import Kept
from bias_ledger.verify.result import (
    Check,
    KeyInfo,
    Status,
    UntrustedError,
    Verification,
    VerificationFailed,
)
from bias_ledger.witness.policy import (
    Cosignature,
    WitnessPolicy,
    check_witness_quorum,
    list_cosignatures,
)

FORMAT_VERSION = 2


@dataclass(frozen=True)
class Witnesses:
    """A ``--witnesses`` policy and the file it was read from."""

    policy: WitnessPolicy
    source: str


@dataclass(frozen=True)
class LogVerified:
    """A verified format-2 log: the structured result and the verifier's own outcome."""

    verification: Verification
    log: LogVerification


def _against(step: Step, name: str, trusted: TrustedKeys | None, since: Kept | None) -> str:
    return {
        "format": "docs/FORMAT.md, format 2",
        "records": "each entry's BLAKE3 record hash and the header fields it commits to",
        "signatures": "the key in each record's signer field",
        "tiles": f"{name}/tile",
        "checkpoint": f"{name}/checkpoint",
        "trust": trusted.source if trusted is not None else "--trust-ledger-keys",
        "since": since.name if since is not None else "",
    }.get(step.what, "")


def _checks(
    steps: Sequence[Step], name: str, trusted: TrustedKeys | None, since: Kept | None
) -> list[Check]:
    return [
        Check(step.what, step.detail, Status.PASSED, _against(step, name, trusted, since))
        for step in steps
    ]


def cosignature_checks(
    signed: bytes, origin: str, witnesses: Witnesses | None
) -> tuple[tuple[Cosignature, ...], Check | None]:
    """Every cosignature with its status, and the quorum check when a policy is given."""
    policy = witnesses.policy if witnesses is not None else None
    now = time.time()  # one clock reading: the list and the quorum agree on what is stale
    found = tuple(list_cosignatures(signed, policy, log_name=origin, now=now))
    if witnesses is None:
        return found, None
    try:
        names = check_witness_quorum(signed, witnesses.policy, now=now)
    except VerificationError as exc:
        detail = f"{exc.message} (witness policy {witnesses.source})"
        return found, Check("witnesses", detail, Status.FAILED, witnesses.source)
    age = witnesses.policy.max_age
    fresh = "" if age is None else f", each at most {age} s old (max_age)"
    detail = (
        f"cosigned by {', '.join(names)} (quorum met): {len(names)} valid cosignature(s){fresh}, "
        f"the policy requires {witnesses.policy.quorum}"
    )
    return found, Check("witnesses", detail, Status.PASSED, witnesses.source)


def verify_log_source(
    source: LogSource,
    *,
    kind: str,
    trusted: TrustedKeys | None,
    trust_log_keys: bool = False,
    origin: str | None = None,
    since: Kept | None = None,
    witnesses: Witnesses | None = None,
) -> LogVerified:
    """Verify the log in ``source``; raise :class:`VerificationFailed` (or
    :class:`UntrustedError`, integrity verified but nothing trusted) with the checks.

    ``kind``: ``ledger`` for a ledger directory, ``published log`` for a published copy.
    """
    name = source.name
    kept = None if since is None else (since.data, since.name)
    format_check = Check("format", "ledger format version 2", Status.PASSED, "docs/FORMAT.md")
    try:
        log = verify_log(
            source, trusted=trusted, trust_log_keys=trust_log_keys, origin=origin, since=kept
        )
    except UntrustedLogError as exc:
        skipped = Check("trust", "no trusted key given", Status.SKIPPED, "nothing")
        report = Verification(
            kind=kind,
            source=name,
            origin=origin or "",
            size=0,
            checkpoint=None,
            indexes=(),
            signers=tuple((fp, "") for fp in exc.signers),
            checks=(*_checks(exc.steps, name, trusted, since), skipped),
        )
        raise UntrustedError(exc.message, report=report, signers=exc.signers) from exc
    except VerificationError as exc:
        failed = Check("verification", exc.message, Status.FAILED, name)
        raise VerificationFailed(
            exc.message, kind=kind, source=name, checks=(format_check, failed)
        ) from exc
    checks = _checks(log.steps, name, trusted, since)
    cosignatures, quorum = cosignature_checks(log.signed_checkpoint, log.origin, witnesses)
    if quorum is not None:
        checks.append(quorum)
    keys = () if log.trusted is None else tuple(log.trusted)
    verification = Verification(
        kind=kind,
        source=name,
        origin=log.origin,
        size=log.size,
        checkpoint=Checkpoint(log.checkpoint.origin, log.checkpoint.size, log.checkpoint.root_hash),
        indexes=IndexRanges(((0, log.size - 1),) if log.size else ()),
        signers=log.signers,
        checks=tuple(checks),
        warnings=log.warnings,
        trust_source=log.trusted.source if log.trusted is not None else "",
        trusted_keys=tuple(KeyInfo(key.fingerprint, key.principals, key.origin) for key in keys),
        cosignatures=tuple(item.to_json() for item in cosignatures),
        format_version=FORMAT_VERSION,
        invalid=log.invalid,
    )
    if quorum is not None and quorum.status is Status.FAILED:
        raise VerificationFailed(
            quorum.detail,
            kind=kind,
            source=name,
            checks=tuple(checks),
            signers=tuple(fp for fp, _ in log.signers),
            report=verification,
        )
    return LogVerified(verification, log)
