"""``bias-ledger audit`` and ``bias-ledger approve``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bias_ledger.cli import inputs as opt
from bias_ledger.cli import ll144_cmd
from bias_ledger.cli import ll144_options as ll144
from bias_ledger.cli.options import JsonOption, KeyOption, LedgerOption, WideOption, print_fitted
from bias_ledger.cli.output import err, json_text, out, print_json, warning_line, write_text
from bias_ledger.errors import ExitCode

if TYPE_CHECKING:
    from bias_ledger._audit import AuditRequest, AuditResult

PROGRESS_BYTES = 50 * 1024 * 1024


def run_with_progress(request: AuditRequest, *, quiet: bool) -> AuditResult:
    """Run the audit, with a progress bar on stderr while hashing inputs over ~50 MB."""
    from bias_ledger._audit import run_audit

    files = [p for p in (request.data, request.predictions) if isinstance(p, Path) and p.is_file()]
    total = sum(path.stat().st_size for path in files)
    if quiet or total < PROGRESS_BYTES or not err().is_terminal:
        return run_audit(request)
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    with Progress(
        TextColumn("reading and hashing inputs"),
        BarColumn(),
        DownloadColumn(),
        console=err(),
        transient=True,
    ) as progress:
        task = progress.add_task("hash", total=total)
        return run_audit(request, progress=lambda n: progress.update(task, advance=n))


def record_payload(result: AuditResult, policy_report: Any | None) -> dict[str, Any]:
    from bias_ledger.records.payloads import audit_payload

    return audit_payload(result, policy_report)


def append(ledger: Path | None, key: Path | None, kind: str, payload: dict[str, Any]) -> Any:
    from bias_ledger.cli.key_cmd import ask_passphrase
    from bias_ledger.ledger.reader import resolve_ledger_path
    from bias_ledger.workflows.append import sign_and_append

    return sign_and_append(
        resolve_ledger_path(ledger),
        kind,
        payload,
        key,
        ask_passphrase=ask_passphrase,
        warn=warning_line,
    )


@opt.takes_input_options("audit")
def audit(
    ctx: typer.Context,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Judge the results with this policy file.")
    ] = None,
    cross_check: Annotated[
        bool,
        typer.Option(
            "--cross-check",
            help="Recompute with fairlearn MetricFrame from the rows in memory (slow; at most "
            "5,000,000 rows).",
        ),
    ] = False,
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Do not append a record to the ledger.")
    ] = False,
    key: KeyOption = None,
    ledger: LedgerOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success.")] = False,
    json_output: JsonOption = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write the JSON result here.")
    ] = None,
    wide: WideOption = False,
    standard: ll144.StandardOpt = None,
    sex: ll144.SexOpt = None,
    race_ethnicity: ll144.RaceOpt = None,
    unknown: ll144.UnknownOpt = None,
    exclude: ll144.ExcludeOpt = None,
    justification: ll144.JustificationOpt = None,
    data_source: ll144.DataSourceOpt = None,
    data_description: ll144.DataDescriptionOpt = None,
    test_data_reason: ll144.TestDataReasonOpt = None,
    audit_date: ll144.AuditDateOpt = None,
    distribution_date: ll144.DistributionDateOpt = None,
    auditor: ll144.AuditorOpt = None,
    auditor_key: ll144.AuditorKeyOpt = None,
    purpose: ll144.PurposeOpt = None,
    **inputs: Any,
) -> None:
    """Compute fairness metrics per group and append a signed record to the ledger."""
    from dataclasses import replace

    from bias_ledger.ledger.reader import read_meta, resolve_ledger_path
    from bias_ledger.outputs import check_output_path

    if output is not None:  # before any work or record: never inside a ledger
        check_output_path(output, ledger=resolve_ledger_path(ledger), what="audit -o")
    if ll144_cmd.chosen_standard(ctx.params) is not None:  # the regulation's tables instead
        ll144_cmd.run_audit_command(ctx.params)
        return
    ll144_cmd.refuse_standard_options(ctx.params)

    # The input options above reach the core by name, through ctx.params.
    request, config_policy = opt.build_request(opt.InputOptions.from_params(ctx.params))
    request = replace(request, cross_check=cross_check)
    if not no_record:
        read_meta(resolve_ledger_path(ledger))  # fail before the work, not after it
    policy_path = policy or config_policy
    loaded_policy = None
    if policy_path is not None:
        from bias_ledger.policy import load_policy

        loaded_policy = load_policy(policy_path)
    result = run_with_progress(request, quiet=quiet or json_output)
    report = None
    if loaded_policy is not None:
        from bias_ledger.policy import evaluate_policy
        from bias_ledger.standards.audit_age import fresh_audit_age

        report = evaluate_policy(loaded_policy, result.binary, audit_age=fresh_audit_age())
    payload = record_payload(result, report)
    if purpose:
        payload["purpose"] = purpose
    document: dict[str, Any] = {**payload, "record": None}
    if not no_record:
        appended = append(ledger, key, "audit", payload)
        document["record"] = {
            "index": appended.index,
            "record_hash": appended.record_hash,
            "checkpoint_size": appended.checkpoint.size,
        }
    if output is not None:
        write_text(
            output,
            json_text(document),
            ledger=resolve_ledger_path(ledger),
            what="audit -o",
            recorded=document["record"],
        )
    if json_output:
        print_json(document)
    elif not quiet:
        from bias_ledger.render.terminal import audit_report

        for warning in result.warnings:
            warning_line(warning)
        print_fitted(audit_report(result), wide)
        if report is not None:
            from bias_ledger.render.policy_terminal import policy_summary

            print_fitted(policy_summary(report), wide)
        if document["record"] is not None:
            record = document["record"]
            out().print(
                f"recorded as record {record['index']} (blake3 {record['record_hash']}), "
                f"checkpoint size {record['checkpoint_size']}"
            )
    if report is not None and not report.passed:
        if quiet and not json_output:
            # Quiet prints nothing on success; a violation still says what exit 1 means.
            from bias_ledger.render.policy_terminal import policy_verdict_line

            out().print(policy_verdict_line(report))
        raise typer.Exit(int(ExitCode.POLICY_VIOLATED))


def approve(
    index: Annotated[int, typer.Argument(help="The audit record to approve.")],
    note: Annotated[str | None, typer.Option("--note", help="Why it is approved.")] = None,
    key: KeyOption = None,
    ledger: LedgerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Append a signed approval of audit record N (usable as a gate baseline)."""
    from bias_ledger.api import Ledger
    from bias_ledger.cli.key_cmd import ask_passphrase

    appended = Ledger.open(ledger).approve(index, note=note, key=key, ask_passphrase=ask_passphrase)
    for warning in appended.warnings:  # committed; the checkpoint or state cache lags behind
        warning_line(warning)
    payload = appended.record["approval"]
    if json_output:
        print_json({"index": appended.index, "record_hash": appended.record_hash, **payload})
        return
    from bias_ledger.ledger.record import signer_fingerprint

    signer = signer_fingerprint(appended.record)
    out().print(f"record {appended.index}: {signer} approves audit record {index}")


def register(app: typer.Typer) -> None:
    app.command()(audit)
    app.command()(approve)
