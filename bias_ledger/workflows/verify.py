"""Verify a ledger (format 1 or 2), a bundle or a published log, from trust given outside it.

Each function raises a :class:`~bias_ledger.errors.VerificationError` at the first failure
(:class:`~bias_ledger.verify.VerificationFailed` carries the checks that ran, for a report) or
returns a :class:`Verified`. The verification itself is the one core (:mod:`bias_ledger.verify`
for format-1 ledgers and bundles, :mod:`bias_ledger.ledger.tlog_verify` for format-2 logs);
this module picks the source, reads the kept checkpoint and witness policy, and adds
``--recompute`` and witness quorums.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from bias_ledger.errors import InputError
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.verify import Kept, Status, Verification, VerificationFailed
from bias_ledger.workflows.recompute import RecomputeInputs, recomputed
from bias_ledger.workflows.verified import RecomputeFailed, Verified

__all__ = [
    "RecomputeFailed",
    "RecomputeInputs",
    "Verified",
    "read_kept",
    "verify_bundle_file",
    "verify_ledger_dir",
    "verify_log_at",
]

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bias_ledger.ledger.tlog_verify import LogVerification
    from bias_ledger.witness.policy import Cosignature, WitnessPolicy


def read_kept(since: Path | None) -> Kept | None:
    """The checkpoint kept earlier (``--since``), read; InputError when it cannot be read."""
    if since is None:
        return None
    from bias_ledger.ledger.files import read_regular

    try:
        return Kept(read_regular(since), str(since))
    except OSError as exc:
        raise InputError(f"{since}: cannot read the kept checkpoint ({exc.strerror})") from None


def _from_core(result: Verification, trust: TrustedKeys | None) -> Verified:
    return Verified(
        kind=result.kind,
        source=result.source,
        origin=result.origin,
        size=result.size,
        records=result.indexes,
        signers=result.signers,
        checks=result.checks,
        warnings=result.warnings,
        trust_source="" if trust is None else trust.source,
        outcome=result,
    )


def verify_log_at(
    location: str | Path,
    *,
    trusted: TrustedKeys | None,
    trust_ledger_keys: bool = False,
    origin: str | None = None,
    since: Path | None = None,
    witnesses: Path | None = None,
) -> Verified:
    """A format-2 log: a ledger directory, a published directory or an http(s) URL.

    ``origin`` (a ledger's own) is required of its checkpoint; ``witnesses`` is a witness
    policy whose quorum must have cosigned the checkpoint. The result is the one structured
    :class:`Verification` (each check with what it was checked against, the cosignatures)."""
    from bias_ledger.ledger.tlog_source import open_source
    from bias_ledger.verify.log import Witnesses, verify_log_source

    policy = None
    if witnesses is not None:
        from bias_ledger.witness.policy import load_witness_policy

        policy = Witnesses(load_witness_policy(witnesses), str(witnesses))
    kept = read_kept(since)
    source = open_source(str(location))
    try:
        verified = verify_log_source(
            source,
            kind="published log" if origin is None else "ledger",
            trusted=trusted,
            trust_log_keys=trust_ledger_keys,
            origin=origin,
            since=kept,
            witnesses=policy,
        )
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
    return _from_core(verified.verification, verified.log.trusted)


def verify_ledger_dir(
    path: Path,
    *,
    trusted: TrustedKeys | None,
    trust_ledger_keys: bool = False,
    since: Path | None = None,
    witnesses: Path | None = None,
) -> Verified:
    """The ledger directory at ``path``, of format 1 or 2 (as ``bias-ledger verify``)."""
    from bias_ledger.errors import VerificationError
    from bias_ledger.ledger.reader import read_meta
    from bias_ledger.verify import LedgerSource, verify_source

    meta = read_meta(path, error=VerificationError)
    if meta.format_version == 2:
        return verify_log_at(
            path,
            trusted=trusted,
            trust_ledger_keys=trust_ledger_keys,
            origin=meta.origin,
            since=since,
            witnesses=witnesses,
        )
    if witnesses is not None:
        raise InputError("--witnesses applies to a format-2 ledger, bundle or published log")
    kept = read_kept(since)
    result = verify_source(
        LedgerSource(path), trusted=trusted, trust_source_keys=trust_ledger_keys, since=kept
    )
    return _from_core(result, trusted)


def _witnessed(
    verified: Verified, checkpoint: bytes | None, policy: WitnessPolicy, source: str
) -> Verified:
    """``verified`` with the witness check of a format-2 bundle's checkpoint cosignatures
    (``checkpoint``: the signed note; None: a format-1 bundle, refused)."""
    if checkpoint is None:
        raise InputError(
            f"{verified.source}: --witnesses needs a format-2 bundle (its checkpoint is a note)"
        )
    from bias_ledger.verify.log import Witnesses, cosignature_checks

    witnessed = Witnesses(policy, source)
    found, check = cosignature_checks(checkpoint, verified.origin, witnessed)
    assert check is not None  # a policy was given
    outcome = _with_cosignatures(verified.outcome, found)
    if check.status is Status.FAILED:
        signers = tuple(fp for fp, _ in verified.signers)
        raise VerificationFailed(
            check.detail,
            kind=verified.kind,
            source=verified.source,
            checks=(*verified.checks, check),
            signers=signers,
            report=outcome if isinstance(outcome, Verification) else None,
        )
    return replace(verified, checks=(*verified.checks, check), outcome=outcome)


def _listed_cosignatures(verified: Verified, checkpoint: bytes) -> Verified:
    """``verified`` with the cosignatures a format-2 bundle's checkpoint carries, listed (not
    counted: without a witness policy nothing says whose cosignatures matter)."""
    from bias_ledger.verify.log import cosignature_checks

    found, _ = cosignature_checks(checkpoint, verified.origin, None)
    if not found:
        return verified
    return replace(verified, outcome=_with_cosignatures(verified.outcome, found))


def _with_cosignatures(
    outcome: Verification | LogVerification | None, found: Sequence[Cosignature]
) -> Verification | LogVerification | None:
    """The outcome with the checkpoint's cosignatures listed, for the verification report."""
    if not isinstance(outcome, Verification):
        return outcome
    cosignatures = tuple(item.to_json() for item in found)
    return replace(outcome, cosignatures=cosignatures, format_version=2)


def verify_bundle_file(
    path: Path,
    *,
    trusted: TrustedKeys | None,
    since: Path | None = None,
    witnesses: Path | None = None,
    recompute: RecomputeInputs | None = None,
) -> Verified:
    """A bundle (format 1 or 2); a bundle's own keys are never trusted. ``witnesses`` is a
    witness policy whose quorum must have cosigned a format-2 bundle's checkpoint. With
    ``recompute``, every audit made from the given files is re-run and compared
    (:class:`RecomputeFailed`)."""
    from bias_ledger.bundle.model import CHECKPOINT
    from bias_ledger.bundle.read3 import is_tar, sniff
    from bias_ledger.bundle.verify import BundleSource, verify_bundle

    policy = None
    if witnesses is not None:
        from bias_ledger.witness.policy import load_witness_policy

        policy = load_witness_policy(witnesses)
    kept = read_kept(since)
    if is_tar(sniff(path)):  # version 3: read as a stream
        return _verify_bundle3(path, trusted, kept, policy, witnesses, recompute)
    source = BundleSource(path)
    verified = _from_core(verify_bundle(source, trusted, since=kept), trusted)
    contents = source.contents
    version = contents.manifest.format_version
    checkpoint: bytes | None = contents.members[CHECKPOINT] if version == 2 else None
    verified = _cosigned(verified, checkpoint, policy, witnesses)
    if recompute is not None:
        verified = recomputed(verified, contents, recompute)
    return verified


def _cosigned(
    verified: Verified,
    checkpoint: bytes | None,
    policy: WitnessPolicy | None,
    witnesses: Path | None,
) -> Verified:
    if policy is not None:
        return _witnessed(verified, checkpoint, policy, str(witnesses))
    if checkpoint is not None:
        return _listed_cosignatures(verified, checkpoint)
    return verified


def _verify_bundle3(
    path: Path,
    trusted: TrustedKeys | None,
    kept: Kept | None,
    policy: WitnessPolicy | None,
    witnesses: Path | None,
    recompute: RecomputeInputs | None,
) -> Verified:
    """A version-3 bundle, verified as a stream. With ``recompute`` its records are read
    again, from a private copy verified first (the caller's file could change in between)."""
    if recompute is None:
        from bias_ledger.bundle.verify3 import verify_bundle3

        done = verify_bundle3(path, trusted, since=kept)
        verified = _from_core(done.verification, trusted)
        return _cosigned(verified, done.signed_checkpoint, policy, witnesses)
    from bias_ledger.bundle.verified3 import verified_bundle3

    with verified_bundle3(path, trusted, since=kept) as bundle:
        verified = _from_core(bundle.verified.verification, trusted)
        verified = _cosigned(verified, bundle.verified.signed_checkpoint, policy, witnesses)
        records = ((r.index, r.raw) for r in bundle.records())
        return recomputed(verified, (str(path), records), recompute)
