"""The input options are declared once (bias_ledger.input_options): the CLI's audit and gate
options, the config file's keys, the ``audit()`` keywords and the recorded parameters are those
options, and the same values given on any of the three faces record the same parameters."""

from __future__ import annotations

import dataclasses
import inspect
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

import bias_ledger
from bias_ledger.cli.app import app
from bias_ledger.engines import Engine
from bias_ledger.input_options import (
    BY_NAME,
    DERIVED_PARAMETERS,
    OPTIONS,
    InputOption,
    Kind,
    recorded_keys,
)
from bias_ledger.io.config import KEYS, AuditConfig
from bias_ledger.io.model import JoinMode
from bias_ledger.metrics.model import Task
from tests.ledger.helpers import SAMPLE

# The options of audit and gate that are not audit inputs: what to do with the result.
COMMAND_OPTIONS = {
    "audit": {
        "--policy", "--cross-check", "--no-record", "--key", "--ledger", "--quiet", "--json",
        "--output", "--wide", "--config", "--standard", "--sex", "--race-ethnicity",
        "--unknown", "--exclude", "--justification", "--data-source", "--data-description",
        "--test-data-reason", "--audit-date", "--distribution-date", "--auditor",
        "--auditor-key", "--purpose",
    },
    "gate": {
        "--policy", "--record", "--baseline", "--approved-by", "--trusted-keys",
        "--trust-ledger-keys", "--junit", "--no-record", "--key", "--ledger", "--quiet",
        "--json", "--wide", "--config", "--since", "--witnesses", "--save-checkpoint",
    },
}  # fmt: skip
NOT_INPUTS = {"source", "policy", "standard", "standard_settings"}


def _command(name: str) -> Any:
    """The command as typer builds it (typer has its own click classes)."""
    group: Any = typer.main.get_command(app)
    return group.commands[name]


@pytest.mark.parametrize("name", ["audit", "gate"])
def test_the_commands_take_every_declared_option_and_no_other_input(name: str) -> None:
    params = {param.name: param for param in _command(name).params}
    flags: set[str] = set()
    for param in params.values():
        flags.update(opt for opt in param.opts if opt.startswith("--"))
    declared = [item for item in OPTIONS if item.flag and name in item.commands]
    for item in declared:
        assert item.cli_param in params, item.name
        param = params[item.cli_param]
        assert param.opts == [item.flag] and param.help == item.help, item.name
    assert "data" in params and params["data"].param_type_name == "argument"
    undeclared = flags - {item.flag for item in declared} - COMMAND_OPTIONS[name] - {"data"}
    assert not undeclared, f"{sorted(undeclared)}: declare them in bias_ledger.input_options"


def test_every_option_is_on_the_command_line_or_says_why_not() -> None:
    for item in OPTIONS:
        assert item.flag or item.unflagged, item.name
        assert item.config or item.unconfigured, item.name
        assert item.recorded or item.unrecorded, item.name
        assert (item.kind is Kind.CHOICE) == bool(item.choices), item.name


def test_the_choices_are_the_core_enums() -> None:
    assert BY_NAME["task"].choices == tuple(task.value for task in Task)
    assert BY_NAME["join"].choices == tuple(mode.value for mode in JoinMode)
    assert BY_NAME["engine"].choices == tuple(engine.value for engine in Engine)


def test_the_api_takes_every_option_with_its_default() -> None:
    signature = inspect.signature(bias_ledger.audit)
    keywords = {
        name: param.default
        for name, param in signature.parameters.items()
        if param.kind is param.KEYWORD_ONLY or name == "data"
    }
    assert set(keywords) == set(BY_NAME)
    for item in OPTIONS:
        if item.name == "sensitive":
            assert keywords[item.name] is inspect.Parameter.empty  # required, as fairlearn's
        elif item.name != "data":
            assert keywords[item.name] == item.default, item.name


def test_the_config_file_keys_are_the_declared_ones() -> None:
    fields = {field.name for field in dataclasses.fields(AuditConfig)} - NOT_INPUTS
    assert fields == {item.name for item in OPTIONS if item.config}
    for item in OPTIONS:
        if item.config:
            assert KEYS[item.config] == (item.name, item.kind.value)


def test_the_readme_documents_every_flag_and_config_key() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    options = readme[readme.index("### `audit` (and `gate`) input options") :]
    options = options[: options.index("## Exit codes")]
    for item in OPTIONS:
        if item.flag:
            assert f"`{item.flag}" in options or f"{item.flag} " in options, item.flag
        if item.config:
            assert f"`{item.config}`" in options, item.config


# Values different from every default, for a dataset the three faces read alike.
VALUES: dict[str, Any] = {
    "label": "repaid",
    "score": "score",
    "threshold": 0.5,
    "pos_label": "1",
    "sensitive": ("sex", "race_ethnicity"),
    "references": {"sex": "female"},
    "model_name": "credit",
    "model_version": "7",
    "missing_as_group": True,
    "drop_missing": True,
    "default_na": False,
    "max_groups": 50,
    "min_group_size": 12,
    "ci": 0.9,
    "bootstrap": 20,
    "seed": 7,
    "thresholds": (0.25, 0.75),
    "engine": "arrow",
}
JOINED: dict[str, Any] = {
    "label": "repaid",
    "prediction": "approved_v1",
    "sensitive": ("sex",),
    "id_column": "id",
    "join": "id",
    "ci": 0.0,
}


def _cli_args(values: Mapping[str, Any]) -> list[str]:
    """The values spelled as the declared flags."""
    args: list[str] = []
    for name, value in values.items():
        item = BY_NAME[name]
        assert item.flag is not None
        if item.kind is Kind.FLAG:
            args += [item.flag] if value is not item.negated else []
        elif item.kind is Kind.NAMES:
            args += [part for entry in value for part in (item.flag, entry)]
        elif item.kind is Kind.GROUPS:
            args += [part for k, v in value.items() for part in (item.flag, f"{k}={v}")]
        elif item.kind is Kind.NUMBERS:
            args += [item.flag, ",".join(str(number) for number in value)]
        else:
            args += [item.flag, str(value)]
    return args


def _toml(values: Mapping[str, Any]) -> str:
    """The values spelled as the declared config keys (tables last, as TOML needs)."""
    lines, tables = [], []
    for name, value in values.items():
        item: InputOption = BY_NAME[name]
        if isinstance(value, Mapping):
            body = "".join(f"{k} = {json.dumps(v)}\n" for k, v in value.items())
            tables.append(f"[{item.config}]\n{body}")
        else:
            text = json.dumps(list(value) if isinstance(value, tuple) else value)
            lines.append(f"{item.config} = {text}\n")
    return "".join(lines) + "".join(tables)


def _cli_document(args: list[str]) -> dict[str, Any]:
    done = CliRunner().invoke(app, ["audit", *args, "--json", "--no-record"])
    assert done.exit_code == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


@pytest.mark.slow
@pytest.mark.parametrize(
    ("values", "files"),
    [(VALUES, ("lending.csv",)), (JOINED, ("applicants.csv", "predictions.csv"))],
    ids=["one file", "joined files"],
)
def test_the_same_values_on_every_face_record_the_same_parameters(
    tmp_path: Path, values: dict[str, Any], files: tuple[str, ...]
) -> None:
    data = SAMPLE / files[0]
    predictions = SAMPLE / files[1] if len(files) > 1 else None
    paths = {"data": data, **({"predictions": predictions} if predictions else {})}
    flags = [str(data), *(["--predictions", str(predictions)] if predictions else [])]
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    on_command_line = _cli_document([*flags, *_cli_args(values), "--config", str(empty)])
    config = tmp_path / "bias-ledger.toml"
    config.write_text(_toml({**{k: str(v) for k, v in paths.items()}, **values}))
    in_config = _cli_document(["--config", str(config)])
    result = bias_ledger.audit(**paths, **values)  # type: ignore[arg-type]
    from_python = json.loads(json.dumps(result.to_json()))
    for document in (in_config, from_python):
        assert document["parameters"] == on_command_line["parameters"]
        assert document["subject"] == on_command_line["subject"]
        assert document["results"] == on_command_line["results"]
    from bias_ledger.results_layout import expanded

    parameters = expanded(on_command_line)["parameters"]  # schema 4 holds some in statistics
    keys = recorded_keys() | set(DERIVED_PARAMETERS)
    if values.get("weight") is None:
        # An unweighted record stays byte-identical to those of earlier versions: `weight` is
        # recorded only when it is set.
        keys -= {"weight"}
    assert set(parameters) == keys
    for name, value in values.items():
        recorded = BY_NAME[name].recorded
        if recorded is None:
            continue
        expected = list(value) if isinstance(value, tuple) else value
        if name == "ci" and not value:
            expected = None  # --ci 0: no intervals
        elif name == "references":
            expected = {**parameters["references"], **value}
        assert parameters[recorded] == expected, name


def test_gate_takes_the_options_audit_does(tmp_path: Path) -> None:
    """Before, gate had no --thresholds nor --no-default-na: the declaration gives it both."""
    policy = tmp_path / "policy.toml"
    policy.write_text(
        'version = 1\nname = "p"\n[[rules]]\nname = "dp"\n'
        'summary = "demographic_parity_difference"\nmax = 1.0\n'
    )
    args = ["gate", "--policy", str(policy), str(SAMPLE / "lending.csv"), "--label", "repaid"]
    args += ["--score", "score", "--threshold", "0.5", "--sensitive", "sex", "--no-record"]
    done = CliRunner().invoke(app, [*args, "--thresholds", "0.3,0.6", "--no-default-na", "--json"])
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["verdict"] == "pass"
    bad = CliRunner().invoke(app, [*args, "--thresholds", "0.3,high"])
    assert bad.exit_code == 2
    assert "--thresholds '0.3,high': expected numbers separated by commas" in bad.stderr
