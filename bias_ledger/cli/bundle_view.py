"""``verify BUNDLE --recompute``: re-run the audits of a verified bundle and say what matched."""

from __future__ import annotations

from pathlib import Path

from bias_ledger.bundle.read import BundleContents
from bias_ledger.cli.verify_output import Shown
from bias_ledger.verify import Check, Status, Verification


def recompute_shown(
    result: Verification,
    contents: BundleContents,
    *,
    data: Path,
    predictions: Path | None,
    policy: Path | None,
    engine: str | None = None,
) -> Shown:
    """The verification with its recompute check appended (or the recompute's failure)."""
    from bias_ledger.bundle.compare import FLOAT_TOLERANCE
    from bias_ledger.bundle.recompute import recompute_bundle

    report = recompute_bundle(
        contents, data=data, predictions=predictions, policy=policy, engine=engine
    )
    document = report.to_json()
    done = [r.index for r in report.records if r.recomputed]
    skipped = [r for r in report.records if not r.recomputed]
    notes = [f"record {r.index} skipped: {f.describe()}" for r in skipped for f in r.files]
    notes += [f"record {r.index}: {r.verdict}" for r in report.records if r.verdict]
    inputs = "; ".join(
        dict.fromkeys(
            f"{f.role} {f.given} (blake3 {f.given_digest})"
            for r in report.records
            for f in r.files
            if f.given is not None
        )
    )
    mismatches = [f"record {r.index}: {m.describe()}" for r in report.records for m in r.mismatches]
    if not report.ok:
        reason = (
            f"{len(mismatches)} recomputed value(s) differ: " + "; ".join(mismatches[:20])
            if done
            else "no audit record of the bundle was made from the given files: " + "; ".join(notes)
        )
        error = f"--recompute: {reason}"
        failed = Check("recompute", error, Status.FAILED, inputs)
        return Shown(result, (failed,), tuple(notes), document, error=error)
    passed = Check(
        "recompute",
        f"records {', '.join(map(str, done))}: input files hash to the recorded BLAKE3 "
        f"digests; every count equal and every float within {FLOAT_TOLERANCE:g} after "
        "re-running the audit with the recorded parameters",
        Status.PASSED,
        inputs,
    )
    return Shown(result, (passed,), tuple(notes), document)
