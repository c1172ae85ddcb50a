"""How ``bias-ledger verify`` shows its outcome: the checklist, JSON, and the --report file."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from bias_ledger.cli.output import (
    error_line,
    listed_records,
    out,
    print_json,
    warning_line,
    write_text,
)
from bias_ledger.errors import ExitCode
from bias_ledger.verify import Check, Status, Verification, VerificationFailed
from bias_ledger.wording import counted
from bias_ledger.workflows.verify import RecomputeFailed, Verified


def check_report_path(path: Path | None) -> None:
    """Refuse an unknown report extension before anything is verified."""
    from bias_ledger.render.formats import VERIFICATION_REPORT

    if path is not None:
        VERIFICATION_REPORT.for_path(path, option="--report")


@dataclass(frozen=True)
class Shown:
    """Everything one verification prints: its outcome, and where its report goes."""

    outcome: Verified | VerificationFailed
    report: Path | None = None
    trust_source: str = ""
    since: Path | None = None
    witnesses: Path | None = None

    @property
    def checks(self) -> tuple[Check, ...]:
        return self.outcome.checks

    @property
    def recompute(self) -> Mapping[str, Any] | None:
        verified = (
            self.outcome.verified if isinstance(self.outcome, RecomputeFailed) else self.outcome
        )
        return verified.recompute if isinstance(verified, Verified) else None


def _write_report(shown: Shown) -> None:
    if shown.report is None:
        return
    from dataclasses import replace

    from bias_ledger._version import __version__
    from bias_ledger.render.formats import VERIFICATION_REPORT
    from bias_ledger.verify.report import Context, document

    outcome: Verification | VerificationFailed
    error = None
    verified = (
        shown.outcome.verified if isinstance(shown.outcome, RecomputeFailed) else shown.outcome
    )
    if isinstance(verified, Verified):
        assert isinstance(verified.outcome, Verification), "format-2 logs have no report yet"
        outcome = replace(verified.outcome, checks=verified.checks, warnings=verified.warnings)
        if isinstance(shown.outcome, RecomputeFailed):
            error = shown.outcome.message
    else:
        outcome = verified
    context = Context(
        tool_version=__version__,
        command_line=("bias-ledger", *sys.argv[1:]),
        time=datetime.now(UTC),
        trust_source=shown.trust_source,
        since=None if shown.since is None else str(shown.since),
        witnesses=None if shown.witnesses is None else str(shown.witnesses),
    )
    doc = document(outcome, context, recompute=shown.recompute, error=error)
    # The ledger being verified has its marker, so the guard finds it without --ledger.
    text = VERIFICATION_REPORT.render(doc, shown.report, option="--report")
    write_text(shown.report, text, ledger=None, what="--report")


def _print_checks(checks: Sequence[Check], warnings: Sequence[str]) -> None:
    marks = {Status.PASSED: "[green]✓[/]", Status.SKIPPED: "[dim]-[/]"}
    for check in checks:
        if check.status is Status.FAILED:
            continue  # said once, by the error line
        out().print(f"{marks[check.status]} {escape(check.what)}: {escape(check.detail)}")
    for warning in warnings:
        warning_line(warning)


def show_failure(shown: Shown, json_output: bool) -> None:
    """Print the checks that passed and the one line that failed; write the report; exit 3."""
    _write_report(shown)
    assert isinstance(shown.outcome, VerificationFailed)
    message = shown.outcome.message
    if json_output:
        document: dict[str, Any] = {
            "valid": False,
            "error": message,
            "steps": [c.to_json() for c in shown.checks if c.status is not Status.FAILED],
            "checks": [c.to_json() for c in shown.checks],
        }
        signers = shown.outcome.signers
        if signers:
            document["signers"] = [{"fingerprint": fp, "principal": ""} for fp in signers]
        if shown.recompute is not None:
            document["recompute"] = dict(shown.recompute)
        print_json(document)
    else:
        _print_checks(shown.checks, ())
        error_line(message)
        out().print("[bold red]INVALID[/]")
    raise typer.Exit(int(ExitCode.VERIFICATION_FAILED))


def show_success(shown: Shown, json_output: bool) -> None:
    result = shown.outcome
    assert isinstance(result, Verified)
    _write_report(shown)
    if json_output:
        print_json(result.to_json())
        return
    _print_checks(result.checks, result.warnings)
    signers = ", ".join(f"{fp} ({who})" if who else fp for fp, who in result.signers)
    if result.kind == "bundle":
        out().print(
            f"[bold green]VALID[/]: bundle {escape(result.source)}: "
            f"{listed_records(result.records)} of {escape(result.origin)}"
        )
    else:
        out().print(
            f"[bold green]VALID[/]: {counted(result.size, 'record')} of {escape(result.origin)}"
        )
    out().print(f"signers: {escape(signers)}")
