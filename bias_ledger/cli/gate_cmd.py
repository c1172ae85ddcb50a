"""``bias-ledger gate``: judge an audit against a policy, for CI (exit 0 pass, 1 violated)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from bias_ledger.cli import inputs as opt
from bias_ledger.cli.audit_cmd import append, record_payload, run_with_progress
from bias_ledger.cli.options import JsonOption, KeyOption, LedgerOption
from bias_ledger.cli.output import out, print_json, write_text
from bias_ledger.errors import ExitCode, InputError


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


def gate(
    ctx: typer.Context,
    policy: Annotated[Path, typer.Option("--policy", help="Fairness policy file (TOML).")],
    data: opt.DataArg = None,
    data_file: opt.DataOpt = None,
    predictions: opt.PredictionsOpt = None,
    id_column: opt.IdOpt = None,
    join: opt.JoinOpt = None,
    label: opt.LabelOpt = None,
    prediction: opt.PredictionOpt = None,
    pos_label: opt.PosLabelOpt = None,
    score: opt.ScoreOpt = None,
    threshold: opt.ThresholdOpt = None,
    sensitive: opt.SensitiveOpt = None,
    reference: opt.ReferenceOpt = None,
    model: opt.ModelOpt = None,
    model_name: opt.ModelNameOpt = None,
    model_version: opt.ModelVersionOpt = None,
    missing_as_group: opt.MissingAsGroupOpt = None,
    drop_missing: opt.DropMissingOpt = None,
    max_groups: opt.MaxGroupsOpt = None,
    config: opt.ConfigOpt = None,
    task: opt.TaskOpt = None,
    min_group_size: opt.MinGroupSizeOpt = None,
    ci: opt.CiOpt = None,
    bootstrap: opt.BootstrapOpt = None,
    seed: opt.SeedOpt = None,
    engine: opt.EngineOpt = None,
    spark_master: opt.SparkMasterOpt = None,
    table: opt.TableOpt = None,
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
            help="allowed_signers file: the baseline's approval (or a baseline bundle's "
            "records) must be signed by one of these keys.",
        ),
    ] = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML here.")] = None,
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Do not record the verdict in the ledger.")
    ] = False,
    key: KeyOption = None,
    ledger: LedgerOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only violations.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Evaluate a fairness policy; record the verdict; exit 0 pass, 1 violated, 2 bad input."""
    from bias_ledger.gate import audit_record_results, resolve_baseline
    from bias_ledger.ledger.reader import read_meta, resolve_ledger_path
    from bias_ledger.ledger.trust import load_allowed_signers
    from bias_ledger.policy import evaluate_policy, load_policy

    path = resolve_ledger_path(ledger)
    loaded = load_policy(policy)
    if not no_record or record is not None or (baseline and baseline != "-"):
        read_meta(path)
    approvers = load_allowed_signers(approved_by) if approved_by else None
    base = resolve_baseline(path, baseline, approvers=approvers) if baseline else None
    payload: dict[str, Any]
    if record is not None:
        if data is not None or data_file is not None:
            raise InputError("--record judges an existing record: give no DATA with it")
        import blake3

        from bias_ledger.history import read_record
        from bias_ledger.ledger.entry import parse_line

        judged, line = read_record(path, record)
        results = audit_record_results(judged, where=f"{path} record {record}")
        report = evaluate_policy(loaded, results, baseline=base.results if base else None)
        digest = blake3.blake3(parse_line(line, where=str(record)).record_bytes).hexdigest()
        payload = {
            "judges": {"index": record, "record_hash": digest},
            "subject": judged["audit"]["subject"],
            "policy": report.to_json(),
        }
        kind = "gate"
    else:
        # The input options above reach the core by name, through ctx.params.
        request, _ = opt.build_request(opt.InputOptions.from_params(ctx.params))
        result = run_with_progress(request, quiet=True)
        results = result.binary
        report = evaluate_policy(loaded, results, baseline=base.results if base else None)
        payload = record_payload(result, report)
        kind = "audit"
    payload["baseline"] = dict(base.source) if base else None
    recorded = None
    if not no_record:
        appended = append(ledger, key, kind, payload)
        recorded = {"index": appended.index, "record_hash": appended.record_hash}
    if junit is not None:
        from bias_ledger.render.junit import render_junit

        write_text(junit, render_junit(report, suite_name=f"bias-ledger gate: {loaded.name}"))
    _github_outputs(report, results)
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

        out().print(policy_summary(report))
        if recorded is not None:
            out().print(f"verdict recorded as record {recorded['index']}")
    if not report.passed:
        raise typer.Exit(int(ExitCode.POLICY_VIOLATED))


def register(app: typer.Typer) -> None:
    app.command()(gate)
