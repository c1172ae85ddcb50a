"""``bias-ledger verify BUNDLE``: read safely, verify, optionally recompute; print the checklist."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from bias_ledger.cli.output import error_line, out, print_json
from bias_ledger.cli.verify_view import print_steps
from bias_ledger.errors import ExitCode, InputError, VerificationError
from bias_ledger.ledger.entry_checks import Step
from bias_ledger.ledger.trust import TrustedKeys


def _fail(
    error: VerificationError,
    json_output: bool,
    steps: Sequence[Step] = (),
    extra: dict[str, Any] | None = None,
) -> None:
    if json_output:
        document = {
            "valid": False,
            "error": error.diagnostics(),
            "steps": [step.to_json() for step in steps],
        }
        print_json({**document, **(extra or {})})
    else:
        print_steps(steps, ())
        error_line(error.diagnostics())
        out().print("[bold red]INVALID[/]")
    raise typer.Exit(int(ExitCode.VERIFICATION_FAILED))


def _read_kept(since: Path | None) -> bytes | None:
    if since is None:
        return None
    try:
        return since.read_bytes()
    except OSError as exc:
        raise InputError(f"{since}: cannot read the kept checkpoint ({exc.strerror})") from None


def run_verify_bundle(
    bundle: Path,
    *,
    trusted: TrustedKeys | None,
    since: Path | None,
    recompute: bool,
    data: Path | None,
    predictions: Path | None,
    json_output: bool,
    policy: Path | None = None,
) -> None:
    from bias_ledger.bundle.read import read_bundle
    from bias_ledger.bundle.verify import BundleUntrustedError, verify_contents

    if recompute and data is None:
        raise InputError("--recompute needs --data FILE (and --predictions FILE if one was used)")
    if not recompute and (data is not None or predictions is not None or policy is not None):
        raise InputError("--data, --predictions and --policy are used with --recompute")
    kept = _read_kept(since)
    try:
        contents = read_bundle(bundle)
        result = verify_contents(contents, trusted, kept_checkpoint=kept, kept_source=str(since))
    except BundleUntrustedError as error:
        listed = [{"fingerprint": fp, "principal": ""} for fp in error.signers]
        _fail(error, json_output, error.steps, {"signers": listed})
        return
    except VerificationError as error:
        _fail(error, json_output)
        return
    steps = list(result.steps)
    recomputed: dict[str, Any] | None = None
    if recompute and data is not None:
        from bias_ledger.bundle.recompute import FLOAT_TOLERANCE, recompute_bundle

        report = recompute_bundle(contents, data=data, predictions=predictions, policy=policy)
        recomputed = report.to_json()
        done = [r.index for r in report.records if r.recomputed]
        skipped = [r for r in report.records if not r.recomputed]
        lines = [f"record {r.index} skipped: {f.describe()}" for r in skipped for f in r.files]
        mismatches = [
            f"record {r.index}: {m.describe()}" for r in report.records for m in r.mismatches
        ]
        if not report.ok:
            reason = (
                f"{len(mismatches)} recomputed value(s) differ: " + "; ".join(mismatches[:20])
                if done
                else "no audit record of the bundle was made from the given files: "
                + "; ".join(lines)
            )
            _fail(
                VerificationError(f"--recompute: {reason}"),
                json_output,
                steps,
                {"recompute": recomputed},
            )
            return
        steps.append(
            Step(
                "recompute",
                f"records {', '.join(map(str, done))}: input files hash to the recorded BLAKE3 "
                f"digests; every count equal and every float within {FLOAT_TOLERANCE:g} after "
                "re-running the audit with the recorded parameters",
            )
        )
        result_warnings = [*result.warnings, *lines]
    else:
        result_warnings = list(result.warnings)
    if json_output:
        document = result.to_json()
        document["steps"] = [step.to_json() for step in steps]
        document["warnings"] = result_warnings
        document["recompute"] = recomputed
        print_json(document)
        return
    print_steps(steps, result_warnings)
    signers = ", ".join(f"{fp} ({who})" if who else fp for fp, who in result.signers)
    out().print(
        f"[bold green]VALID[/]: bundle {escape(str(bundle))}: records "
        f"{', '.join(map(str, result.indexes))} of {escape(result.origin)}"
    )
    out().print(f"signers: {escape(signers)}")
