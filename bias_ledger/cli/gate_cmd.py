"""``bias-ledger gate``: judge an audit against a policy, for CI (exit 0 pass, 1 violated)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bias_ledger.cli import inputs as opt
from bias_ledger.cli.audit_cmd import append, record_payload, run_with_progress
from bias_ledger.cli.options import JsonOption, KeyOption, LedgerOption, WideOption, print_fitted
from bias_ledger.cli.output import out, print_json, warning_line, write_text
from bias_ledger.errors import ExitCode, InputError

if TYPE_CHECKING:
    from bias_ledger.gate_trust import GateTrust


def _github_outputs(report: Any, results: Any) -> None:
    """Workflow-command annotations on stdout and a Markdown job summary, under GitHub Actions."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return
    from bias_ledger.render.github import annotations, step_summary_markdown

    for line in annotations(report):
        typer.echo(line)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(step_summary_markdown(report, results))


@opt.takes_input_options("gate")
def gate(
    ctx: typer.Context,
    policy: Annotated[Path, typer.Option("--policy", help="Fairness policy file (TOML).")],
    record: Annotated[
        int | None, typer.Option("--record", help="Judge existing audit record N instead.")
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option("--baseline", help="For regression rules: latest-approved, N, or a bundle."),
    ] = None,
    approved_by: Annotated[
        Path | None,
        typer.Option(
            "--approved-by",
            help="allowed_signers file of approvers: the baseline (latest-approved or N) must be "
            "approved by one of these keys; a baseline bundle must be signed by them.",
        ),
    ] = None,
    trusted_keys: Annotated[
        Path | None,
        typer.Option(
            "--trusted-keys",
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
    junit: Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML here.")] = None,
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
    3 a baseline or record that does not verify."""
    from bias_ledger.gate import resolve_baseline
    from bias_ledger.ledger.reader import read_meta, resolve_ledger_path
    from bias_ledger.outputs import check_output_path
    from bias_ledger.policy import evaluate_policy, load_policy

    path = resolve_ledger_path(ledger)
    if junit is not None:  # before the verdict is recorded: never inside a ledger
        check_output_path(junit, ledger=path, what="--junit")
    loaded = load_policy(policy)
    from bias_ledger.standards.audit_age import fresh_audit_age, latest_audit_age, needs_audit_age

    trust = _gate_trust(approved_by, trusted_keys, trust_ledger_keys, baseline, record)
    if record is not None and (inputs.get("data") is not None or inputs.get("data_file")):
        raise InputError("--record judges an existing record: give no DATA with it")
    if not no_record or record is not None or (baseline and _uses_ledger(baseline)):
        read_meta(path)
    verified = None
    if record is not None or (baseline and _uses_ledger(baseline)):
        from bias_ledger.gate_trust import verify_for_gate

        if not trust.anchored:
            what = f"--record {record}" if record is not None else f"--baseline {baseline}"
            raise trust.refusal(what)
        verified = verify_for_gate(path, trust)
    base = resolve_baseline(verified, baseline, trust) if baseline else None
    payload: dict[str, Any]
    if record is not None:
        from bias_ledger.gate import audit_record_results, judged_record
        from bias_ledger.records.payloads import gate_payload

        assert verified is not None
        judged, digest = judged_record(verified, record)
        results = (  # an LL144 audit without a label has its tables only
            audit_record_results(judged, where=f"{path} record {record}")
            if judged.get("kind") != "audit" or "results" in judged["audit"]
            else None
        )
        age = None
        if needs_audit_age(loaded):  # among the verified records signed by a trusted key
            trusted = [r for i, r in enumerate(verified.records) if verified.signer_principal(i)]
            age = latest_audit_age(trusted, judged["audit"]["subject"], where=str(path))
        report = evaluate_policy(
            loaded, results, baseline=base.results if base else None, audit_age=age
        )
        payload = gate_payload(record, digest, judged["audit"]["subject"], report)
        kind = "gate"
    else:
        # The input options above reach the core by name, through ctx.params.
        request, _ = opt.build_request(opt.InputOptions.from_params(ctx.params))
        result = run_with_progress(request, quiet=True)
        results = result.binary
        report = evaluate_policy(
            loaded, results, baseline=base.results if base else None, audit_age=fresh_audit_age()
        )
        payload = record_payload(result, report)
        kind = "audit"
    payload["baseline"] = dict(base.source) if base else None
    # Outputs first: a verdict is recorded only once every output it promised is written.
    if junit is not None:
        from bias_ledger.render.junit import render_junit

        junit_xml = render_junit(report, suite_name=f"bias-ledger gate: {loaded.name}")
        write_text(junit, junit_xml, ledger=path, what="--junit")  # creates parent directories
    if results is not None:
        _github_outputs(report, results)
    recorded = None
    if not no_record:
        appended = append(ledger, key, kind, payload)
        recorded = {"index": appended.index, "record_hash": appended.record_hash}
    if json_output:
        print_json(
            {
                "verdict": report.verdict.value,
                "report": report.to_json(),
                "baseline": payload["baseline"],
                "record": recorded,
            }
        )
    elif not quiet or not report.passed:
        from bias_ledger.render.policy_terminal import policy_summary

        print_fitted(policy_summary(report), wide)
        if recorded is not None:
            out().print(f"verdict recorded as record {recorded['index']}")
    if not report.passed:
        raise typer.Exit(int(ExitCode.POLICY_VIOLATED))


def _uses_ledger(baseline: str) -> bool:
    from bias_ledger.gate import LATEST_APPROVED

    return baseline == LATEST_APPROVED or baseline.isdigit()


def _gate_trust(
    approved_by: Path | None,
    trusted_keys: Path | None,
    trust_ledger_keys: bool,
    baseline: str | None,
    record: int | None,
) -> GateTrust:
    """The gate's trust anchors; an anchor with nothing to anchor is a usage error."""
    from bias_ledger.gate_trust import TRUST_LEDGER_KEYS_WARNING, GateTrust
    from bias_ledger.ledger.trust import load_allowed_signers

    if approved_by is not None and not baseline:
        raise InputError("--approved-by names who may approve a baseline: give --baseline too")
    if (trusted_keys is not None or trust_ledger_keys) and not baseline and record is None:
        option = "--trusted-keys" if trusted_keys is not None else "--trust-ledger-keys"
        raise InputError(f"{option}: nothing to verify without --baseline or --record")
    if trust_ledger_keys:
        warning_line(TRUST_LEDGER_KEYS_WARNING)
    return GateTrust(
        trusted=load_allowed_signers(trusted_keys) if trusted_keys else None,
        approvers=load_allowed_signers(approved_by) if approved_by else None,
        trust_ledger_keys=trust_ledger_keys,
    )


def register(app: typer.Typer) -> None:
    app.command()(gate)
