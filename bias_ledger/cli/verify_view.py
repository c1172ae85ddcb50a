"""``bias-ledger verify``: load trust anchors, verify a ledger or a bundle, print the checklist."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import typer
from rich.markup import escape

from bias_ledger.cli.output import error_line, out, print_json, warning_line
from bias_ledger.errors import ExitCode, InputError, VerificationError
from bias_ledger.ledger.entry_checks import Step
from bias_ledger.ledger.trust import TrustedKeys, load_allowed_signers
from bias_ledger.verify import LedgerVerification, UntrustedError


def load_trust(trusted_keys: Path | None, trusted_key: Sequence[str]) -> TrustedKeys | None:
    """The trust set from --trusted-keys and --trusted-key (their union), or None."""
    from dataclasses import replace

    sets: list[TrustedKeys] = []
    if trusted_keys is not None:
        sets.append(load_allowed_signers(trusted_keys))
    if trusted_key:
        sets.append(TrustedKeys.from_fingerprints(trusted_key))
    if not sets:
        return None
    merged = sets[0]
    for other in sets[1:]:
        merged = replace(
            merged, keys={**other.keys, **merged.keys}, source=f"{merged.source} + {other.source}"
        )
    return merged


def print_steps(steps: Sequence[Step], warnings: Sequence[str]) -> None:
    for step in steps:
        out().print(f"[green]✓[/] {escape(step.what)}: {escape(step.detail)}")
    for warning in warnings:
        warning_line(warning)


def _report(result: LedgerVerification, json_output: bool) -> None:
    if json_output:
        print_json(result.to_json())
        return
    print_steps(result.steps, result.warnings)
    signers = ", ".join(f"{fp} ({who})" if who else fp for fp, who in result.signers)
    out().print(f"[bold green]VALID[/]: {result.size} records of {escape(result.origin)}")
    out().print(f"signers: {escape(signers)}")


def _fail(
    error: VerificationError,
    json_output: bool,
    steps: Sequence[Step] = (),
    signers: Sequence[tuple[str, str]] = (),
) -> None:
    if json_output:
        document: dict[str, object] = {
            "valid": False,
            "error": error.diagnostics(),
            "steps": [step.to_json() for step in steps],
        }
        if signers:
            document["signers"] = [{"fingerprint": fp, "principal": who} for fp, who in signers]
        print_json(document)
    else:
        print_steps(steps, ())
        error_line(error.diagnostics())
        out().print("[bold red]INVALID[/]")
    raise typer.Exit(int(ExitCode.VERIFICATION_FAILED))


def run_verify(
    *,
    bundle: Path | None,
    ledger: Path | None,
    trusted_keys: Path | None,
    trusted_key: Sequence[str],
    trust_ledger_keys: bool,
    since: Path | None,
    recompute: bool,
    data: Path | None,
    predictions: Path | None,
    json_output: bool,
    policy: Path | None = None,
) -> None:
    from bias_ledger.ledger.reader import resolve_ledger_path
    from bias_ledger.verify import verify_ledger

    trusted = load_trust(trusted_keys, trusted_key)
    if bundle is not None:
        from bias_ledger.cli.bundle_view import run_verify_bundle

        if trust_ledger_keys:
            raise InputError(
                "--trust-ledger-keys does not apply to a bundle: a bundle's keys are never "
                "trusted; pass --trusted-keys FILE or --trusted-key FINGERPRINT"
            )
        run_verify_bundle(
            bundle,
            trusted=trusted,
            since=since,
            recompute=recompute,
            data=data,
            predictions=predictions,
            json_output=json_output,
            policy=policy,
        )
        return
    if recompute or policy is not None:
        raise InputError(
            "--recompute and --policy apply to a bundle: bias-ledger verify BUNDLE --recompute"
        )
    kept = None
    if since is not None:
        try:
            kept = (since.read_bytes(), str(since))
        except OSError as exc:
            raise InputError(f"{since}: cannot read the kept checkpoint ({exc.strerror})") from exc
    try:
        result = verify_ledger(
            resolve_ledger_path(ledger),
            trusted=trusted,
            trust_ledger_keys=trust_ledger_keys,
            since=kept,
        )
    except UntrustedError as error:
        _fail(error, json_output, error.report.steps, error.report.signers)
        return
    except VerificationError as error:
        _fail(error, json_output)
        return
    _report(result, json_output)
