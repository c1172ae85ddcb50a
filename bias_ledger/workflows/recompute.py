"""``verify BUNDLE --recompute``: re-run the audits of a verified bundle and compare."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from bias_ledger.verify import Check, Status
from bias_ledger.workflows.verified import RecomputeFailed, Verified

if TYPE_CHECKING:
    from collections.abc import Iterable

    from bias_ledger.bundle.read import BundleContents


@dataclass(frozen=True)
class RecomputeInputs:
    """``verify BUNDLE --recompute``: the original files, and the policy that judged them."""

    data: Path
    predictions: Path | None = None
    policy: Path | None = None
    """With it, the verdicts of the records it judged are re-judged on the recomputed numbers."""
    engine: str | None = None
    """The engine that recounts (arrow, duckdb, spark); None: the one each record names."""


def recomputed(
    verified: Verified,
    contents: BundleContents | tuple[str, Iterable[tuple[int, bytes]]],
    inputs: RecomputeInputs,
) -> Verified:
    """``verified`` with its recompute check and notes added; RecomputeFailed on a mismatch.
    ``contents``: a bundle read into memory, or (its name, its (index, record bytes)) read
    as a stream (version 3)."""
    from bias_ledger.bundle.compare import FLOAT_TOLERANCE
    from bias_ledger.bundle.model import record_json
    from bias_ledger.bundle.recompute import recompute_records

    if isinstance(contents, tuple):
        source, records = contents
    else:
        members = contents.members
        source = contents.source
        records = ((i, members[record_json(i)]) for i in contents.record_indexes())
    report = recompute_records(
        source,
        records,
        data=inputs.data,
        predictions=inputs.predictions,
        policy=inputs.policy,
        engine=inputs.engine,
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
