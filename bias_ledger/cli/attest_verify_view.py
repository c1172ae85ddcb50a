"""``bias-ledger verify --attestation FILE``: check an attestation, print the checklist."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import typer
from rich.markup import escape

from bias_ledger.cli.output import error_line, out, print_json
from bias_ledger.errors import ExitCode, InputError, VerificationError


def run_verify_attestation(
    path: Path,
    trusted_keys: Path | None,
    trusted_key: Sequence[str],
    *,
    bundle: Path | None,
    json_output: bool,
) -> None:
    from bias_ledger.cli.verify_view import load_trust
    from bias_ledger.exports.intoto_verify import verify_attestation

    if bundle is not None:
        raise InputError("--attestation is verified on its own: give no BUNDLE with it")
    trusted = load_trust(trusted_keys, trusted_key)
    if trusted is None:
        raise InputError(
            "--attestation needs trust from outside it: --trusted-keys FILE or --trusted-key FP"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the attestation ({exc.strerror})") from None
    try:
        result = verify_attestation(data, trusted, source=str(path))
    except VerificationError as error:
        if json_output:
            print_json({"valid": False, "error": error.diagnostics()})
        else:
            error_line(error.diagnostics())
            out().print("[bold red]INVALID[/]")
        raise typer.Exit(int(ExitCode.VERIFICATION_FAILED)) from None
    if json_output:
        print_json(result.to_json())
        return
    for step in result.steps:
        out().print(f"[green]✓[/] {escape(step.what)}: {escape(step.detail)}")
    name = escape(str(result.subject.get("name")))
    out().print(
        f"[bold green]VALID[/]: attestation of {name} by record {result.index} of "
        f"{escape(result.origin)} (checkpoint size {result.checkpoint_size})"
    )
