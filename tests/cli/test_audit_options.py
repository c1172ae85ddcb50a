"""``audit`` options that used to be ignored or kept silently: each refused or honoured, on the
real sample data through the real CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bias_ledger.cli.app import app
from bias_ledger.ledger.reader import RECORDS_FILE
from bias_ledger.results_layout import expanded
from tests.ledger.helpers import (
    SAMPLE,
    cli_env,
    initialised_env,
    new_signer,
    read_lines,
    record_of,
    run_cli,
)

LENDING = SAMPLE / "lending.csv"
APPLICANTS = SAMPLE / "applicants.csv"
PREDICTIONS = SAMPLE / "predictions.csv"
V1 = ["--label", "repaid", "--prediction", "approved_v1", "--sensitive", "race_ethnicity"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return initialised_env(tmp_path)


def _invoke(env: dict[str, str], *args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(arg) for arg in args], env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--data", LENDING, "--data", APPLICANTS],
        ["--data", LENDING, "--data", LENDING],
        ["--data", APPLICANTS, "--predictions", PREDICTIONS, "--predictions", LENDING],
    ],
    ids=["two datasets", "the same twice", "two prediction files"],
)
def test_a_repeated_file_option_is_an_error(
    env: dict[str, str], tmp_path: Path, args: list[str | Path]
) -> None:
    """Before: the last --data silently won (the audit ran on a file the user may not mean)."""
    option = str(args[-2])
    code, out, err = _invoke(env, "audit", *args, "--id", "id", *V1)
    assert code == 2, err
    assert err.startswith(f"bias-ledger: error: {option} is given 2 times ({option} ")
    assert err.count("\n") == 1 and out == ""
    assert not (tmp_path / "ledger" / RECORDS_FILE).exists()


def test_one_data_option_still_works(env: dict[str, str]) -> None:
    code, out, err = _invoke(env, "audit", "--data", LENDING, *V1, "--json", "--no-record")
    assert code == 0, err
    assert json.loads(out)["inputs"][0]["name"] == "lending.csv"


def test_quiet_audit_with_a_failing_policy_prints_the_verdict(env: dict[str, str]) -> None:
    """Before: exit 1 and no output at all. Quiet stays quiet on success."""
    policy = SAMPLE / "policies" / "four-fifths.toml"
    fail = run_cli("audit", LENDING, *V1, "--sensitive", "sex", "--policy", policy, "-q", env=env)
    assert fail.returncode == 1
    assert fail.stdout.strip().splitlines() == ["policy four-fifths: FAIL  (7 pass, 1 fail)"], (
        fail.stdout
    )
    assert fail.stderr == ""
    v2: list[str | Path] = ["--prediction", "approved_v2", "--policy", policy, "-q"]
    passed = run_cli("audit", LENDING, *V1, "--sensitive", "sex", *v2, env=env)
    assert passed.returncode == 0 and passed.stdout == "" and passed.stderr == ""


def test_thresholds_set_the_sweep_and_are_recorded(env: dict[str, str], tmp_path: Path) -> None:
    args = ["--label", "repaid", "--score", "score", "--threshold", "0.5", "--sensitive", "sex"]
    code, out, err = _invoke(
        env, "audit", LENDING, *args, "--thresholds", "0.25,0.5,0.75", "--json"
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["parameters"]["thresholds"] == [0.25, 0.5, 0.75]
    # Held once, in the parameters (results schema 3); the accessor puts them in each sweep.
    assert "thresholds" not in document["statistics"]["scores"]["overall"]["sweep"]
    sweep = expanded(document)["statistics"]["scores"]["overall"]["sweep"]
    assert sweep["thresholds"] == [0.25, 0.5, 0.75]
    with LENDING.open() as handle:
        scores = [float(row["score"]) for row in csv.DictReader(handle)]
    expected = [sum(s >= t for s in scores) / len(scores) for t in (0.25, 0.5, 0.75)]
    assert [item["value"] for item in sweep["selection_rate"]] == pytest.approx(expected, abs=0)
    recorded = record_of(read_lines(tmp_path / "ledger")[0])
    assert recorded["audit"]["parameters"]["thresholds"] == [0.25, 0.5, 0.75]


REGRESSION = ["--task", "regression", "--label", "income", "--prediction", "loan_amount"]


@pytest.mark.parametrize(
    ("task", "extra", "option"),
    [
        (REGRESSION, ["--bootstrap", "200"], "--bootstrap"),
        (REGRESSION, ["--ci", "0.9"], "--ci"),
        (REGRESSION, ["--bootstrap", "200", "--seed", "1"], "--bootstrap"),
        (REGRESSION, ["--seed", "1"], "--seed"),
        (
            [
                "--task",
                "multiclass_classification",
                "--label",
                "age_band",
                "--prediction",
                "age_band",
            ],
            ["--bootstrap", "50"],
            "--bootstrap",
        ),
    ],
    ids=["regression bootstrap", "regression ci", "regression seed", "seed alone", "multiclass"],
)
def test_intervals_for_other_tasks_are_refused(
    env: dict[str, str], task: list[str], extra: list[str], option: str
) -> None:
    """Before: silently ignored, and the record said bootstrap: 200, seed: null."""
    code, out, err = _invoke(env, "audit", LENDING, *task, "--sensitive", "sex", *extra)
    assert code == 2, err
    assert err.startswith(f"bias-ledger: error: {option} applies to binary classification")


def test_a_regression_record_states_no_intervals(env: dict[str, str]) -> None:
    code, out, err = _invoke(env, "audit", LENDING, *REGRESSION, "--sensitive", "sex", "--json")
    assert code == 0, err
    parameters = json.loads(out)["parameters"]
    assert (parameters["ci_level"], parameters["bootstrap"], parameters["seed"]) == (None, 0, None)


def test_the_audit_docstring_names_an_api_that_records(tmp_path: Path) -> None:
    """The `audit` docstring used to name bias_ledger.record.record_audit, which did not exist;
    what it names now appends the record the CLI would, and it verifies."""
    import bias_ledger
    from bias_ledger._audit import audit
    from bias_ledger.ledger.store import init_ledger

    assert "bias_ledger.Ledger.open(path).append(result)" in (audit.__doc__ or "")
    signer = new_signer(tmp_path / "key")
    init_ledger(tmp_path / "ledger", name="api")
    result = bias_ledger.audit(LENDING, label="repaid", prediction="approved_v1", sensitive=["sex"])
    bias_ledger.Ledger.open(tmp_path / "ledger").append(result, key=signer.key)
    recorded = record_of(read_lines(tmp_path / "ledger")[0])
    assert recorded["kind"] == "audit"
    assert recorded["audit"]["results"] == json.loads(json.dumps(result.to_json()["results"]))
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "ledger"))
    verified = run_cli("verify", "--trusted-key", signer.fingerprint, env=env)
    assert verified.returncode == 0, verified.stderr
