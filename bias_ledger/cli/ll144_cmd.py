"""``bias-ledger audit --standard nyc-ll144``: the options, the request, the record, the output."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from bias_ledger.errors import ConfigError, ExitCode, InputError

# Config-file keys of the [nyc-ll144] table -> option names (ctx.params keys).
SETTINGS = {
    "sex": "sex",
    "race-ethnicity": "race_ethnicity",
    "unknown": "unknown",
    "data-source": "data_source",
    "data-description": "data_description",
    "test-data-reason": "test_data_reason",
    "audit-date": "audit_date",
    "distribution-date": "distribution_date",
    "auditor": "auditor",
    "auditor-key": "auditor_key",
    "purpose": "purpose",
}


def chosen_standard(params: Mapping[str, Any]) -> str | None:
    """The standard from --standard, else the config file, else the policy file."""
    if params.get("standard"):
        return str(params["standard"])
    config = _config(params)
    if config.standard:
        return str(config.standard)
    policy = params.get("policy") or config.policy
    if policy is not None:
        from bias_ledger.policy import load_policy

        standard = getattr(load_policy(policy), "standard", None)
        return str(standard) if standard else None
    return None


def _config(params: Mapping[str, Any]) -> Any:
    from bias_ledger.io.config import load_config

    return load_config(params.get("config"), cwd=Path.cwd())


def _settings(config: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in dict(config.standard_settings).items():
        if key not in SETTINGS:
            raise ConfigError(
                f"{config.source}: unknown key 'nyc-ll144.{key}'; known keys: {', '.join(SETTINGS)}"
            )
        if key == "unknown":
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{config.source}: 'nyc-ll144.unknown' must be strings")
        elif not isinstance(value, str):
            raise ConfigError(f"{config.source}: 'nyc-ll144.{key}' must be a string")
        values[SETTINGS[key]] = value
    return values


def build_request(params: Mapping[str, Any]) -> Any:
    """The LL144 request from the options, filled in from the config file."""
    from bias_ledger.cli.inputs import once, pick_data
    from bias_ledger.input_options import DEFAULT_MAX_GROUPS
    from bias_ledger.io.model import JoinMode
    from bias_ledger.standards.ll144_audit import (
        LL144Request,
        build_declaration,
        parse_exclusions,
    )
    from bias_ledger.standards.ll144_load import LL144Columns

    config = _config(params)
    settings = _settings(config)

    def value(name: str, from_config: Any = None) -> Any:
        given = params.get(name)
        return given if given not in (None, []) else settings.get(name, from_config)

    data = pick_data(params.get("data"), once("--data", params.get("data_file"))) or config.data
    if data is None:
        raise InputError("no dataset given: expected a DATA argument or `data` in bias-ledger.toml")
    join = value("join", config.join)
    if join is not None and str(join) not in ("id", "row-order"):
        raise InputError(f"--join {join!r}: expected 'id' or 'row-order'")
    sex = value("sex") or "sex"
    race = value("race_ethnicity") or "race_ethnicity"
    columns = LL144Columns(
        sex=sex,
        race_ethnicity=race,
        prediction=value("prediction", config.prediction),
        score=value("score", config.score),
        pos_label=value("pos_label", config.pos_label),
        id_column=value("id_column", config.id_column),
        join=JoinMode(str(join)) if join is not None else None,
        unknown_values=tuple(value("unknown") or ()),
        max_groups=value("max_groups", config.max_groups) or DEFAULT_MAX_GROUPS,
    )
    declaration = build_declaration(
        data_source=value("data_source"),
        data_description=value("data_description"),
        test_data_reason=value("test_data_reason"),
        audit_date=value("audit_date"),
        distribution_date=value("distribution_date"),
        auditor=value("auditor"),
        auditor_key=value("auditor_key"),
        today=datetime.now(UTC).date(),
    )
    ci = params.get("ci")
    min_group_size = value("min_group_size", config.min_group_size)
    return LL144Request(
        data=data,
        columns=columns,
        declaration=declaration,
        predictions=once("--predictions", params.get("predictions")) or config.predictions,
        exclusions=parse_exclusions(
            params.get("exclude") or [], params.get("justification") or [], sex=sex, race=race
        ),
        min_group_size=30 if min_group_size is None else int(min_group_size),
        ci_level=None if ci == 0 else (0.95 if ci is None else ci),
        model=once("--model", params.get("model")) or config.model,
        model_name=value("model_name", config.model_name),
        model_version=value("model_version", config.model_version),
        label=value("label", config.label),
        threshold=value("threshold", config.threshold),
    )


def run_audit_command(params: Mapping[str, Any]) -> None:
    """The whole of ``audit --standard nyc-ll144``: compute, record, print."""
    from bias_ledger.cli.key_cmd import ask_passphrase
    from bias_ledger.cli.output import json_text, out, print_json, warning_line, write_text
    from bias_ledger.ledger.reader import read_meta, resolve_ledger_path
    from bias_ledger.provenance import environment
    from bias_ledger.standards import parse_standard
    from bias_ledger.standards.ll144_audit import run_ll144
    from bias_ledger.workflows.append import sign_and_append

    standard = chosen_standard(params)
    assert standard is not None
    parse_standard(standard)
    _refuse_unused(params)
    request = build_request(params)
    policy_path = params.get("policy") or _config(params).policy
    loaded = None
    if policy_path is not None:
        from bias_ledger.policy import load_policy

        loaded = load_policy(policy_path)
    ledger = params.get("ledger")
    output = params.get("output")
    if output is not None:
        from bias_ledger.outputs import check_output_path

        check_output_path(output, ledger=resolve_ledger_path(ledger), what="-o")
    if not params.get("no_record"):
        read_meta(resolve_ledger_path(ledger))  # fail before the work, not after it
    result = run_ll144(request)
    report = None
    if loaded is not None:
        from bias_ledger.policy import evaluate_policy
        from bias_ledger.standards.audit_age import declared_audit_age

        metrics = result.metrics.binary if result.metrics is not None else None
        age = declared_audit_age(request.declaration.audit_date)
        report = evaluate_policy(loaded, metrics, audit_age=age)
    payload = result.to_json()
    purpose = params.get("purpose") or _settings(_config(params)).get("purpose")
    if purpose:
        payload["purpose"] = purpose
    payload["policy"] = report.to_json() if report is not None else None
    payload["environment"] = environment()
    document: dict[str, Any] = {**payload, "record": None}
    if not params.get("no_record"):
        appended = sign_and_append(
            resolve_ledger_path(ledger),
            "audit",
            payload,
            params.get("key"),
            ask_passphrase=ask_passphrase,
        )
        document["record"] = {
            "index": appended.index,
            "record_hash": appended.record_hash,
            "checkpoint_size": appended.checkpoint.size,
        }
    if output is not None:
        from bias_ledger.ledger.reader import resolve_ledger_path

        write_text(
            output,
            json_text(document),
            ledger=resolve_ledger_path(params.get("ledger")),
            what="audit -o",
            recorded=document["record"],
        )
    if params.get("json_output"):
        print_json(document)
    elif not params.get("quiet"):
        from bias_ledger.standards.ll144_terminal import ll144_report

        for warning in result.warnings:
            warning_line(warning)
        out().print(ll144_report(payload))
        if document["record"] is not None:
            record = document["record"]
            out().print(
                f"recorded as record {record['index']} (blake3 {record['record_hash']}), "
                f"checkpoint size {record['checkpoint_size']}",
                markup=False,
            )
    if report is not None:
        if not params.get("json_output") and not params.get("quiet"):
            from bias_ledger.render.policy_terminal import policy_summary

            out().print(policy_summary(report))
        if not report.passed:
            raise typer.Exit(int(ExitCode.POLICY_VIOLATED))


def refuse_standard_options(params: Mapping[str, Any]) -> None:
    """The LL144-only options are an error without --standard (they would be silently unused)."""
    only = [name for name in SETTINGS if name != "purpose" and params.get(SETTINGS[name])]
    only += [name for name in ("exclude", "justification") if params.get(name)]
    if only:
        raise InputError(
            f"--{only[0]} applies to --standard nyc-ll144 audits; add --standard nyc-ll144"
        )


# Options of the usual audit that an LL144 audit has no use for: an error, not silently unused.
UNUSED = {
    "sensitive": "--sensitive (name --sex and --race-ethnicity)",
    "reference": "--reference (the denominator is the most selected category)",
    "task": "--task",
    "bootstrap": "--bootstrap",
    "seed": "--seed",
    "missing_as_group": "--missing-as-group (missing values are an unknown category)",
    "drop_missing": "--drop-missing",
    "cross_check": "--cross-check",
    "engine": "--engine (LL144 audits read files with the arrow reader)",
    "spark_master": "--spark-master",
    "table": "--table",
    "weight": "--weight (impact ratios count applicants, one each)",
}


def _refuse_unused(params: Mapping[str, Any]) -> None:
    given = [text for name, text in UNUSED.items() if params.get(name)]
    if given:
        raise InputError(f"--standard nyc-ll144 does not take {given[0]}")
