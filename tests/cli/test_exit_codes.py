"""Exit codes are the documented ones whatever --debug says, and bad numbers are usage errors.

--debug used to let the exception escape, which Python reports as exit 1: "policy violated"
for a missing policy file or a failed verification.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bias_ledger.cli.app import app
from bias_ledger.ledger.reader import RECORDS_FILE
from tests.ledger.helpers import SAMPLE, cli_env, new_signer, run_cli, write_small_csv

SMALL = ["--label", "label", "--prediction", "pred", "--sensitive", "group", "-q"]
LENDING = SAMPLE / "lending.csv"
V1 = [
    "--label",
    "repaid",
    "--prediction",
    "approved_v1",
    "--sensitive",
    "race_ethnicity",
    "--sensitive",
    "sex",
]
OTHER_KEY = "SHA256:" + "A" * 42 + "E"


POLICY = """version = 1
name = "four-fifths"

[[rules]]
name = "four-fifths"
four_fifths = true
features = ["group"]
severity = "error"
"""


def write_unfair_csv(path: Path) -> Path:
    """Group b is selected half as often as group a: the four-fifths rule fails."""
    rows = ["label,pred,group"]
    rows += [f"{i % 2},{int(i % 10 < 6)},a" for i in range(100)]
    rows += [f"{i % 2},{int(i % 10 < 3)},b" for i in range(100)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    signer = new_signer(tmp_path / "key")
    env = cli_env(
        tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "ledger"), BIAS_LEDGER_KEY=str(signer.path)
    )
    assert CliRunner().invoke(app, ["init", "--format", "1"], env=env).exit_code == 0
    data = write_small_csv(tmp_path / "data.csv")
    assert CliRunner().invoke(app, ["audit", str(data), *SMALL], env=env).exit_code == 0
    write_unfair_csv(tmp_path / "unfair.csv")
    (tmp_path / "policy.toml").write_text(POLICY)
    return env


def _cases(tmp_path: Path) -> dict[str, tuple[list[str], int]]:
    return {
        "missing policy file (2)": (
            ["audit", str(tmp_path / "data.csv"), *SMALL, "--policy", "none.toml"],
            2,
        ),
        "untrusted signer (3)": (["verify", "--trusted-key", OTHER_KEY], 3),
        "policy violated (1)": (
            [
                "audit",
                str(tmp_path / "unfair.csv"),
                *SMALL,
                "--policy",
                str(tmp_path / "policy.toml"),
            ],
            1,
        ),
    }


def test_debug_never_changes_the_exit_code(env: dict[str, str], tmp_path: Path) -> None:
    """In process for every spelling of --debug (fast); the next test runs real processes."""
    for what, (args, code) in _cases(tmp_path).items():
        plain = CliRunner().invoke(app, args, env=env)
        assert plain.exit_code == code, (what, plain.output)
        for debug in (
            CliRunner().invoke(app, ["--debug", *args], env=env),
            CliRunner().invoke(app, [*args, "--debug"], env=env),
            CliRunner().invoke(app, args, env={**env, "BIAS_LEDGER_DEBUG": "1"}),
        ):
            assert debug.exit_code == code, (what, debug.output)
            if code == 2:  # an error raised to the CLI: its traceback, then the same line
                assert "Traceback (most recent call last)" in debug.stderr, what
            if code != 1:
                # the one line still comes last, as without --debug
                assert debug.stderr.strip().splitlines()[-1] == plain.stderr.strip(), what


def test_debug_never_changes_the_exit_code_of_the_process(
    env: dict[str, str], tmp_path: Path
) -> None:
    for what, (args, code) in _cases(tmp_path).items():
        done = run_cli("--debug", *args, env=env)
        assert done.returncode == code, (what, done.stderr)


def test_an_internal_error_with_debug_is_still_exit_2(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bias_ledger._audit

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(bias_ledger._audit, "run_audit", broken)
    args = ["audit", str(tmp_path / "data.csv"), *SMALL]
    for flags in ([], ["--debug"]):
        result = CliRunner().invoke(app, [*args, *flags], env=env)
        assert result.exit_code == 2, result.output
        assert "internal error: RuntimeError: a bug" in result.stderr
        assert ("Traceback" in result.stderr) is bool(flags)


BAD_NUMBERS = {
    "nan threshold": (["--score", "score", "--threshold", "nan"], "--threshold must be a finite"),
    "inf threshold": (["--score", "score", "--threshold", "inf"], "--threshold must be a finite"),
    "-inf threshold": (["--score", "score", "--threshold", "-inf"], "--threshold must be a fin"),
    "huge seed": (["--bootstrap", "20", "--seed", str(2**53)], "--seed must be an integer from 0"),
    "huger seed": (["--bootstrap", "20", "--seed", "1" + "0" * 30], "--seed must be an integer"),
    "negative seed": (["--bootstrap", "20", "--seed", "-1"], "--seed must be an integer from 0"),
    "seed alone": (["--seed", "1"], "--seed sets the bootstrap's draws: it needs --bootstrap N"),
    "nan thresholds": (["--score", "score", "--thresholds", "0.2,nan"], "expected finite"),
    "no thresholds": (["--score", "score", "--thresholds", "0.2,,"], "expected numbers sep"),
}


@pytest.mark.parametrize("case", sorted(BAD_NUMBERS))
def test_bad_numbers_are_usage_errors(env: dict[str, str], tmp_path: Path, case: str) -> None:
    """One line, exit 2, nothing recorded; before: exit 3 (nan, huge seed) or a crash (-1)."""
    ledger = Path(env["BIAS_LEDGER_DIR"])
    before = (ledger / RECORDS_FILE).read_bytes()
    extra, expected = BAD_NUMBERS[case]
    base = ["--label", "repaid", "--sensitive", "sex"] if "--score" in extra else V1
    args = ["audit", str(LENDING), *base, *extra]
    for flags in ([], ["--debug"]):
        result = CliRunner().invoke(app, [*args, *flags], env=env)
        assert result.exit_code == 2, result.output
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("bias-ledger: error: ") and expected in last, last
        assert ("Traceback" in result.stderr) is bool(flags)
    assert (ledger / RECORDS_FILE).read_bytes() == before


def test_a_nan_threshold_is_exit_2_from_the_real_command(env: dict[str, str]) -> None:
    args = ["--label", "repaid", "--sensitive", "sex", "--score", "score", "--threshold", "nan"]
    done = run_cli("audit", LENDING, *args, env=env)
    assert done.returncode == 2
    assert done.stderr == "bias-ledger: error: --threshold must be a finite number; got nan\n"


def test_the_largest_recordable_seed_is_recorded_exactly(
    env: dict[str, str], tmp_path: Path
) -> None:
    import json

    seed = 2**53 - 1
    done = run_cli(
        "audit", LENDING, *V1, "--bootstrap", "20", "--seed", str(seed), "--json", env=env
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["statistics"]["intervals"]["seed"] == seed  # results schema 4 holds it here
    assert "seed" not in document["parameters"]
