"""Bad input through the CLI: exit 2, one error line (a traceback only with --debug), no record."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bias_ledger.cli.app import app
from bias_ledger.ledger.store import init_ledger
from tests.ledger.helpers import cli_env, new_signer, run_cli, write_small_csv

GOOD = ["--label", "label", "--prediction", "pred", "--sensitive", "group"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    ledger = tmp_path / "ledger"
    init_ledger(ledger, name="errors")
    signer = new_signer(tmp_path / "key")
    write_small_csv(tmp_path / "data.csv")
    (tmp_path / "data.xyz").write_text("label,pred,group\n1,0,a\n")
    (tmp_path / "nonbinary.csv").write_text("label,pred,group\n0,1,a\n2,0,b\n1,1,a\n")
    return cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger), BIAS_LEDGER_KEY=str(signer.path))


def _files(ledger: Path) -> dict[str, bytes]:
    """Every file of the ledger (any format) but its lock, by relative path."""
    return {
        str(path.relative_to(ledger)): path.read_bytes()
        for path in sorted(ledger.rglob("*"))
        if path.is_file() and path.name != "lock"
    }


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    assert stderr.count("\n") == 1 and stderr.startswith("bias-ledger: error: "), stderr
    return stderr


BAD_INPUT = {
    "missing file": (["missing.csv", *GOOD], "missing.csv: no such file"),
    "unknown format": (["data.xyz", *GOOD], "unknown file format '.xyz'"),
    "missing column": (
        ["data.csv", "--label", "labell", "--prediction", "pred", "--sensitive", "group"],
        "no label column 'labell'; did you mean 'label'?",
    ),
    "non-binary label": (["nonbinary.csv", *GOOD], "label column 'label' must be binary"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_one_line_exit_2_and_leaves_the_ledger_alone(
    env: dict[str, str], tmp_path: Path, case: str
) -> None:
    ledger = Path(env["BIAS_LEDGER_DIR"])
    ok = CliRunner().invoke(app, ["audit", str(tmp_path / "data.csv"), *GOOD, "-q"], env=env)
    assert ok.exit_code == 0, ok.stderr
    before = _files(ledger)
    args, expected = BAD_INPUT[case]
    result = CliRunner().invoke(app, ["audit", str(tmp_path / args[0]), *args[1:]], env=env)
    assert result.exit_code == 2, result.output
    assert expected in _one_line(result.stderr)
    assert result.stdout == ""
    assert _files(ledger) == before


def test_error_as_a_process_and_with_debug(env: dict[str, str], tmp_path: Path) -> None:
    args = ["audit", "nonbinary.csv", *GOOD]
    done = run_cli(*args, env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert "label column 'label' must be binary" in _one_line(done.stderr)
    for debug in (["--debug", *args], [*args, "--debug"]):
        done = run_cli(*debug, env=env, cwd=tmp_path)
        assert done.returncode == 2  # --debug adds the traceback, never changes the code
        assert "Traceback (most recent call last)" in done.stderr
        assert "bias_ledger.errors.InputError" in done.stderr
    done = run_cli(*args, env={**env, "BIAS_LEDGER_DEBUG": "1"}, cwd=tmp_path)
    assert "Traceback" in done.stderr and done.returncode == 2


def test_unknown_option_is_a_usage_error(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["log", "--no-such-option"], env=env)
    assert result.exit_code == 2 and "No such option" in result.stderr


def test_audit_without_a_ledger_fails_before_the_work(tmp_path: Path) -> None:
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "none"))
    data = write_small_csv(tmp_path / "data.csv")
    result = CliRunner().invoke(app, ["audit", str(data), *GOOD], env=env)
    assert result.exit_code == 2
    assert "not a bias-ledger ledger" in _one_line(result.stderr)
    assert not (tmp_path / "none").exists()


def test_proof_and_show_out_of_range(env: dict[str, str], tmp_path: Path) -> None:
    for args in (["show", "0"], ["proof", "inclusion", "0"], ["approve", "0"]):
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 2, (args, result.output)
        _one_line(result.stderr)


@pytest.mark.parametrize("version", [1, 2])
def test_a_record_the_ledger_does_not_hold_is_named_with_the_ledger_size(
    env: dict[str, str], tmp_path: Path, version: int
) -> None:
    ledger = tmp_path / f"v{version}"
    init_ledger(ledger, name="missing", format_version=version)
    env = {**env, "BIAS_LEDGER_DIR": str(ledger)}
    ok = CliRunner().invoke(app, ["audit", str(tmp_path / "data.csv"), *GOOD, "-q"], env=env)
    assert ok.exit_code == 0, ok.stderr
    policy = Path(__file__).parents[2] / "sample_data" / "policies" / "four-fifths.toml"
    for args, option in (
        (["report", "5", "-o", str(tmp_path / "r.md")], "record"),
        (["attest", "5", "-o", str(tmp_path / "a.jsonl")], "record"),
        (["gate", "--policy", str(policy), "--record", "5", "--trust-ledger-keys"], "--record"),
    ):
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 2, (args, result.output)
        errors = result.stderr.split(
            "bias-ledger: error: ", 1
        )  # after --trust-ledger-keys' warning
        line = _one_line("bias-ledger: error: " + errors[-1])
        assert f"{option} 5: no such record; {ledger} holds 1 record (0..0)" in line, line
    assert not (tmp_path / "r.md").exists() and not (tmp_path / "a.jsonl").exists()


@pytest.mark.parametrize(
    ("engine", "where"),
    [
        ("arrow", "'2' in row 2 (a 1-based data row)"),
        ("duckdb", "'2' in row 2 (a 1-based data row)"),  # a single file: rows named alike
    ],
)
def test_a_non_binary_label_names_the_file_column_and_first_row(
    env: dict[str, str], tmp_path: Path, engine: str, where: str
) -> None:
    args = ["audit", str(tmp_path / "nonbinary.csv"), *GOOD, "--engine", engine, "--no-record"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 2, result.output
    line = _one_line(result.stderr)
    assert f"{tmp_path / 'nonbinary.csv'}: label column 'label' must be binary" in line, line
    assert f"found 3 values: '0', '1', '2'; {where}" in line, line
