"""``bias-ledger gate``: judge an audit against a policy, for CI (exit 0 pass, 1 violated)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bias_ledger.cli import inputs as opt
from bias_ledger.cli.audit_cmd import run_with_progress
from bias_ledger.cli.github_files import append_step_summary, step_summary
from bias_ledger.cli.options import JsonOption, KeyOption, LedgerOption, WideOption, print_fitted
from bias_ledger.cli.output import out, print_json, warning_line
from bias_ledger.errors import ExitCode
from bias_ledger.outputs import check_output_path

if TYPE_CHECKING:
    from bias_ledger._audit_model import AuditResult
    from bias_ledger.workflows.gate import GateDecision


def _github_outputs(ledger: Path) -> Callable[[GateDecision], None]:
    """Workflow-command annotations on stdout and a Markdown job summary, under GitHub Actions
    (the summary file never inside a ledger: see bias_ledger.cli.github_files)."""

    def write(decision: GateDecision) -> None:
        if os.environ.get("GITHUB_ACTIONS") != "true" or decision.results is None:
            return
        report, results = decision.report, decision.results
        from bias_ledger.render.github import annotations, step_summary_markdown

        for line in annotations(report):
            typer.echo(line)
        append_step_summary(step_summary_markdown(report, results), ledger=ledger)

    return write


@opt.takes_input_options("gate")
def gate(
    ctx: typer.Context,
    policy: Annotated[
        Path, typer.Option("--policy", metavar="FILE", help="Fairness policy file (TOML).")
    ],
    record: Annotated[
        int | None,
        typer.Option("--record", metavar="N", help="Judge existing audit record N instead."),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            metavar="latest-approved|N|BUNDLE",
            help="For regression rules: the latest approved record, record N, or a bundle.",
        ),
    ] = None,
    approved_by: Annotated[
        Path | None,
        typer.Option(
            "--approved-by",
            metavar="FILE",
            help="allowed_signers file of approvers: the baseline (latest-approved or N) must be "
            "approved by one of these keys; a baseline bundle must be signed by them.",
        ),
    ] = None,
    trusted_keys: Annotated[
        Path | None,
        typer.Option(
            "--trusted-keys",
            metavar="FILE",
            help="allowed_signers file: every ledger record and the checkpoint must be signed "
            "by one of these keys (for --record N and --baseline).",
        ),
    ] = None,
    trust_ledger_keys: Annotated[
        bool,
        typer.Option(
            "--trust-ledger-keys",
            help="Trust the keys found in the ledger (or baseline bundle) itself. Unsafe: "
            "anyone who can write to it can forge a baseline.",
        ),
    ] = False,
    since: Annotated[
        Path | None,
        typer.Option(
            "--since",
            metavar="FILE",
            help="A signed checkpoint kept from an earlier run (--save-checkpoint), outside the "
            "ledger: the ledger must extend it, or the gate fails (exit 3): catches a rollback "
            "to an older state that brings back an older or revoked approval.",
            show_default=False,
        ),
    ] = None,
    witnesses: Annotated[
        Path | None,
        typer.Option(
            "--witnesses",
            metavar="FILE",
            help="Format 2: a witness policy file; the ledger's checkpoint must carry its "
            "quorum of valid cosignatures (exit 3 otherwise). Catches a rollback only when the "
            "policy has 'max_age' (cosignatures at most that old).",
            show_default=False,
        ),
    ] = None,
    save_checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--save-checkpoint",
            metavar="FILE",
            help="Once the ledger verified, write the checkpoint the gate relied on here "
            "(atomically; never inside the ledger), for the next run's --since FILE.",
            show_default=False,
        ),
    ] = None,
    junit: Annotated[
        Path | None, typer.Option("--junit", metavar="FILE", help="Write JUnit XML here.")
    ] = None,
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Do not record the verdict in the ledger.")
    ] = False,
    key: KeyOption = None,
    ledger: LedgerOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only violations.")] = False,
    json_output: JsonOption = False,
    wide: WideOption = False,
    **inputs: Any,
) -> None:
    """Evaluate a fairness policy; record the verdict; exit 0 pass, 1 violated, 2 bad input,
    3 a baseline or record that does not verify.

    Against rollback (an older, validly signed state of the ledger restored), keep the
    checkpoint each run relied on outside the ledger and give it to the next run:
    --save-checkpoint FILE, then --since FILE (the first run has none to give).
    """
    from bias_ledger.cli.key_cmd import ask_passphrase
    from bias_ledger.ledger.reader import resolve_ledger_path
    from bias_ledger.ledger.trust import load_allowed_signers
    from bias_ledger.policy import load_policy
    from bias_ledger.workflows.gate import gate_trust, run_gate

    path = resolve_ledger_path(ledger)
    # Before the policy is even read: never inside a ledger.
    if junit is not None:
        check_output_path(junit, ledger=path, what="--junit")
    if save_checkpoint is not None:
        check_output_path(save_checkpoint, ledger=path, what="--save-checkpoint")
    step_summary(ledger=path)  # $GITHUB_STEP_SUMMARY, under GitHub Actions
    loaded = load_policy(policy)
    trust = gate_trust(
        trusted=load_allowed_signers(trusted_keys) if trusted_keys else None,
        approved_by=load_allowed_signers(approved_by) if approved_by else None,
        trust_ledger_keys=trust_ledger_keys,
        baseline=baseline,
        record=record,
        since=since,
        witnesses=witnesses,
        save_checkpoint=save_checkpoint,
        ledger=path,
        warn=warning_line,
    )

    def audit() -> AuditResult:
        # The input options above reach the core by name, through ctx.params.
        request, _ = opt.build_request(opt.InputOptions.from_params(ctx.params))
        return run_with_progress(request, quiet=True)

    given_data = inputs.get("data") is not None or bool(inputs.get("data_file"))
    result = run_gate(
        path,
        loaded,
        trust,
        audit=audit if record is None or given_data else None,
        record=record,
        baseline=baseline,
        junit=junit,
        save_checkpoint=save_checkpoint,
        record_verdict=not no_record,
        key=key,
        ask_passphrase=ask_passphrase,
        warn=warning_line,
        before_record=_github_outputs(path),
    )
    report = result.report
    if json_output:
        print_json(result.to_json())
    elif not quiet or not report.passed:
        from bias_ledger.render.policy_terminal import policy_summary

        print_fitted(policy_summary(report), wide)
        if result.recorded is not None:
            out().print(f"verdict recorded as record {result.recorded.index}")
    if not report.passed:
        raise typer.Exit(int(ExitCode.POLICY_VIOLATED))


def register(app: typer.Typer) -> None:
    app.command()(gate)
