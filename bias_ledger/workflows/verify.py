"""Verify a ledger (format 1 or 2), a bundle or a published log, from trust given outside it.

Each function raises a :class:`~bias_ledger.errors.VerificationError` at the first failure
(:class:`~bias_ledger.verify.VerificationFailed` carries the checks that ran, for a report) or
returns a :class:`Verified`. The verification itself is the one core (:mod:`bias_ledger.verify`
for format-1 ledgers and bundles, :mod:`bias_ledger.ledger.tlog_verify` for format-2 logs);
this module picks the source, reads the kept checkpoint and witness policy, and adds
``--recompute`` and witness quorums.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bias_ledger.errors import InputError
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.verify import Check, Kept, Status, Verification, VerificationFailed

if TYPE_CHECKING:
    from bias_ledger.bundle.read import BundleContents
    from bias_ledger.ledger.tlog_verify import LogVerification
    from bias_ledger.witness.policy import WitnessPolicy


@dataclass(frozen=True)
class RecomputeInputs:
    """``verify BUNDLE --recompute``: the original files, and the policy that judged them."""

    data: Path
    predictions: Path | None = None
    policy: Path | None = None
    """With it, the verdicts of the records it judged are re-judged on the recomputed numbers."""


@dataclass(frozen=True)
class Verified:
    """A verification that passed: what was verified, by whom it was signed, every check."""

    kind: str
    """``ledger``, ``bundle`` or ``log`` (a format-2 ledger or published log)."""
    source: str
    """The path or URL verified."""
    origin: str
    size: int
    """How many records the verified tree holds."""
    records: tuple[int, ...]
    """The records verified: all of a ledger, a bundle's selection."""
    signers: tuple[tuple[str, str], ...]
    """(fingerprint, principals or "") of every key that signed a record or the checkpoint."""
    checks: tuple[Check, ...]
    warnings: tuple[str, ...] = ()
    trust_source: str = ""
    recompute: Mapping[str, Any] | None = None
    """The ``--recompute`` report, when asked for."""
    outcome: Verification | LogVerification | None = field(default=None, repr=False, compare=False)
    """The core's own result (``to_json`` and ``verify --report`` are built from it)."""

    @property
    def valid(self) -> bool:
        return True  # a failure raises; kept for symmetry with the JSON document's "valid"

    def to_json(self) -> dict[str, Any]:
        """The document ``bias-ledger verify --json`` prints."""
        if self.outcome is None:
            raise ValueError("a Verified built by hand has no core result to print")
        document = self.outcome.to_json()
        if isinstance(self.outcome, Verification):
            document["steps"] = [check.to_json() for check in self.checks]
        else:
            document["steps"] = [{"what": c.what, "detail": c.detail} for c in self.checks]
        document["warnings"] = list(self.warnings)
        if self.kind == "bundle":
            document["recompute"] = None if self.recompute is None else dict(self.recompute)
        return document

    def __repr__(self) -> str:
        who = ", ".join(fp for fp, _ in self.signers)
        return (
            f"<Verified {self.kind} {self.source}: {len(self.records)} of {self.size} records "
            f"of {self.origin}, {len(self.checks)} checks passed, signed by {who}>"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(c.what)}</td><td>{html.escape(c.status.value)}</td>"
            f"<td>{html.escape(c.detail)}</td></tr>"
            for c in self.checks
        )
        return (
            f"<p><b>VALID</b>: {html.escape(self.kind)} {html.escape(self.source)}, "
            f"{self.size} records of {html.escape(self.origin)}</p>"
            f"<table><tr><th>check</th><th>status</th><th>detail</th></tr>{rows}</table>"
        )


class RecomputeFailed(VerificationFailed):
    """The bundle verified, but a recomputed number differs (or no input matched)."""

    def __init__(self, message: str, verified: Verified) -> None:
        outcome = verified.outcome
        assert isinstance(outcome, Verification)
        super().__init__(
            message,
            kind=outcome.kind,
            source=outcome.source,
            checks=verified.checks,
            signers=tuple(fp for fp, _ in outcome.signers),
        )
        self.verified = verified


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
    """A format-2 log in a ledger directory, a published directory or at an http(s) URL;
    ``origin`` (a ledger's own) is required of its checkpoint; ``witnesses`` is a witness
    policy whose quorum must have cosigned the checkpoint."""
    from bias_ledger.ledger.entry_checks import Step
    from bias_ledger.ledger.tlog_source import open_source
    from bias_ledger.ledger.tlog_verify import verify_log

    kept = read_kept(since)
    policy = None
    if witnesses is not None:
        from bias_ledger.witness.policy import load_witness_policy

        policy = load_witness_policy(witnesses)
    source = open_source(location)
    try:
        result = verify_log(
            source,
            trusted=trusted,
            trust_log_keys=trust_ledger_keys,
            origin=origin,
            since=None if kept is None else (kept.data, kept.name),
        )
        steps = list(result.steps)
        if policy is not None:
            from bias_ledger.witness.policy import check_witness_quorum

            names = check_witness_quorum(result.signed_checkpoint, policy)
            steps.append(Step("witnesses", f"cosigned by {', '.join(names)} (quorum met)"))
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
    return Verified(
        kind="log",
        source=str(location),
        origin=result.origin,
        size=result.size,
        records=tuple(range(result.size)),
        signers=result.signers,
        checks=tuple(Check(step.what, step.detail, Status.PASSED) for step in steps),
        warnings=result.warnings,
        trust_source="" if trusted is None else trusted.source,
        outcome=result,
    )


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


def _witnessed(verified: Verified, contents: BundleContents, policy: WitnessPolicy) -> Verified:
    """``verified`` with the witness check of a format-2 bundle's checkpoint cosignatures."""
    from bias_ledger.bundle.model import CHECKPOINT
    from bias_ledger.errors import VerificationError
    from bias_ledger.witness.policy import check_witness_quorum

    if contents.manifest.format_version != 2:
        raise InputError(
            f"{verified.source}: --witnesses needs a format-2 bundle (its checkpoint is a note)"
        )
    try:
        names = check_witness_quorum(contents.members[CHECKPOINT], policy)
    except VerificationError as exc:
        failed = Check("witnesses", exc.message, Status.FAILED)
        signers = tuple(fp for fp, _ in verified.signers)
        raise VerificationFailed(
            exc.message,
            kind=verified.kind,
            source=verified.source,
            checks=(*verified.checks, failed),
            signers=signers,
        ) from None
    check = Check("witnesses", f"cosigned by {', '.join(names)} (quorum met)")
    return replace(verified, checks=(*verified.checks, check))


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
    from bias_ledger.bundle.verify import BundleSource, verify_bundle

    policy = None
    if witnesses is not None:
        from bias_ledger.witness.policy import load_witness_policy

        policy = load_witness_policy(witnesses)
    kept = read_kept(since)
    source = BundleSource(path)
    verified = _from_core(verify_bundle(source, trusted, since=kept), trusted)
    if policy is not None:
        verified = _witnessed(verified, source.contents, policy)
    if recompute is not None:
        verified = _recomputed(verified, source.contents, recompute)
    return verified


def _recomputed(verified: Verified, contents: BundleContents, inputs: RecomputeInputs) -> Verified:
    """``verified`` with its recompute check and notes added; RecomputeFailed on a mismatch."""
    from bias_ledger.bundle.compare import FLOAT_TOLERANCE
    from bias_ledger.bundle.recompute import recompute_bundle

    report = recompute_bundle(
        contents, data=inputs.data, predictions=inputs.predictions, policy=inputs.policy
    )
    done = [r.index for r in report.records if r.recomputed]
    notes = [
        f"record {r.index} skipped: {f.describe()}"
        for r in report.records
        if not r.recomputed
        for f in r.files
    ]
    notes += [f"record {r.index}: {r.verdict}" for r in report.records if r.verdict]
    inputs_text = "; ".join(
        dict.fromkeys(
            f"{f.role} {f.given} (blake3 {f.given_digest})"
            for r in report.records
            for f in r.files
            if f.given is not None
        )
    )
    with_notes = replace(
        verified, warnings=(*verified.warnings, *notes), recompute=report.to_json()
    )
    if not report.ok:
        mismatches = [
            f"record {r.index}: {m.describe()}" for r in report.records for m in r.mismatches
        ]
        reason = (
            f"{len(mismatches)} recomputed value(s) differ: " + "; ".join(mismatches[:20])
            if done
            else "no audit record of the bundle was made from the given files: " + "; ".join(notes)
        )
        error = f"--recompute: {reason}"
        failed = Check("recompute", error, Status.FAILED, inputs_text)
        raise RecomputeFailed(error, replace(with_notes, checks=(*verified.checks, failed)))
    passed = Check(
        "recompute",
        f"records {', '.join(map(str, done))}: input files hash to the recorded BLAKE3 "
        f"digests; every count equal and every float within {FLOAT_TOLERANCE:g} after "
        "re-running the audit with the recorded parameters",
        Status.PASSED,
        inputs_text,
    )
    return replace(with_notes, checks=(*verified.checks, passed))
