"""The composite action's gate script, run by bash as the runner would.

The script assembles arguments and maps exit codes: most tests replace `bias-ledger` on PATH by a
recorder of its argv and a chosen exit code, to pin the exact arguments; the last runs the script
with the real, installed bias-ledger on the sample data.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.ledger.helpers import read_lines

ROOT = Path(__file__).resolve().parents[2]
ACTION = (ROOT / "action.yml").read_text(encoding="utf-8")


def gate_script() -> str:
    lines = ACTION.splitlines()
    start = lines.index("      id: gate")
    run = next(i for i in range(start, len(lines)) if lines[i] == "      run: |")
    body = []
    for line in lines[run + 1 :]:
        if line.strip() and not line.startswith("        "):
            break
        body.append(line)
    return textwrap.dedent("\n".join(body))


def declared_inputs() -> set[str]:
    block = ACTION.split("\ninputs:\n", 1)[1].split("\noutputs:\n", 1)[0]
    return set(re.findall(r"^  ([a-z-]+):$", block, flags=re.MULTILINE))


def test_every_referenced_input_is_declared() -> None:
    used = set(re.findall(r"\$\{\{ inputs\.([a-z-]+) \}\}", ACTION))
    assert used == declared_inputs()
    # Inputs go through env, never straight into the script text.
    assert "${{" not in gate_script()


def run_gate(tmp_path: Path, env: dict[str, str], code: int) -> tuple[int, list[str], str]:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    recorder = bindir / "bias-ledger"
    recorder.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(tmp_path / 'argv.json')!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
        f"sys.exit({code})\n"
    )
    recorder.chmod(recorder.stat().st_mode | stat.S_IEXEC)
    output = tmp_path / "github_output"
    output.touch()
    # Unset inputs arrive as empty strings.
    defaults = dict.fromkeys(re.findall(r"^        (BL_[A-Z_]+):", ACTION, flags=re.MULTILINE), "")
    full = {
        **os.environ,
        **defaults,
        "BL_FAIL_ON_VIOLATION": "true",
        **env,
        # The recorder first; then this interpreter, the `python` the script checks with.
        "PATH": os.pathsep.join(
            [str(bindir), str(Path(sys.executable).parent), os.environ["PATH"]]
        ),
        "GITHUB_OUTPUT": str(output),
    }
    # The runner's shell for `shell: bash` steps.
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", gate_script()],
        env=full,
        capture_output=True,
        text=True,
        check=False,
    )
    argv = json.loads((tmp_path / "argv.json").read_text())
    return done.returncode, argv, output.read_text()


def test_arguments_are_assembled_from_inputs(tmp_path: Path) -> None:
    code, argv, outputs = run_gate(
        tmp_path,
        {
            "BL_POLICY": "policies/standard.toml",
            "BL_DATA": "data with space.csv",
            "BL_LABEL": "repaid",
            "BL_PREDICTION": "approved_v2",
            "BL_SENSITIVE": "sex, race_ethnicity,age_band",
            "BL_BASELINE": "latest-approved",
            "BL_APPROVED_BY": ".github/approvers",
            "BL_NO_RECORD": "true",
            "BL_TRUST_LEDGER_KEYS": "false",
            "BL_SINCE": "kept/checkpoint",
            "BL_WITNESSES": ".github/witnesses.json",
            "BL_SAVE_CHECKPOINT": "kept/checkpoint",
            "BL_JUNIT": "out/junit.xml",
            "BL_ARGS": "--json --model-version 2",
        },
        0,
    )
    assert code == 0
    assert argv == [
        "gate",
        "--policy",
        "policies/standard.toml",
        "--data",
        "data with space.csv",
        "--label",
        "repaid",
        "--prediction",
        "approved_v2",
        "--baseline",
        "latest-approved",
        "--approved-by",
        ".github/approvers",
        "--since",
        "kept/checkpoint",
        "--witnesses",
        ".github/witnesses.json",
        "--save-checkpoint",
        "kept/checkpoint",
        "--no-record",
        "--junit",
        "out/junit.xml",
        "--sensitive",
        "sex",
        "--sensitive",
        "race_ethnicity",
        "--sensitive",
        "age_band",
        "--json",
        "--model-version",
        "2",
    ]
    assert outputs.splitlines() == ["exit-code=0", "verdict=pass"]


@pytest.mark.parametrize(
    ("code", "fail_on_violation", "step_code", "verdict"),
    [(1, "true", 1, "fail"), (1, "false", 0, "fail"), (2, "false", 2, "error")],
)
def test_exit_code_is_exposed_and_mapped(
    tmp_path: Path, code: int, fail_on_violation: str, step_code: int, verdict: str
) -> None:
    env = {"BL_POLICY": "p.toml", "BL_FAIL_ON_VIOLATION": fail_on_violation, "BL_RECORD": "3"}
    step, argv, outputs = run_gate(tmp_path, env, code)
    assert step == step_code
    assert argv == ["gate", "--policy", "p.toml", "--record", "3"]
    assert outputs.splitlines() == [f"exit-code={code}", f"verdict={verdict}"]


def test_pre_commit_hook_runs_the_gate() -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "- id: bias-ledger-gate" in text
    assert "entry: bias-ledger gate" in text
    assert "language: python" in text
    assert "pass_filenames: false" in text


@pytest.mark.parametrize(
    ("prediction", "code", "verdict"), [("approved_v1", 1, "fail"), ("approved_v2", 0, "pass")]
)
def test_gate_script_with_the_real_cli(
    tmp_path: Path, prediction: str, code: int, verdict: str
) -> None:
    """The action's script drives the installed bias-ledger on the sample data end to end."""
    bindir = Path(sys.executable).parent
    assert (bindir / "bias-ledger").exists(), "the project must be installed (pip install -e .)"
    ledger = tmp_path / "ledger"
    base = {
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "BIAS_LEDGER_DIR": str(ledger),
    }
    for args in (["init"], ["key", "generate"]):
        subprocess.run(
            [str(bindir / "bias-ledger"), *args], env=base, check=True, capture_output=True
        )
    output, summary = tmp_path / "github_output", tmp_path / "summary.md"
    output.touch()
    defaults = dict.fromkeys(re.findall(r"^        (BL_[A-Z_]+):", ACTION, flags=re.MULTILINE), "")
    env = {
        **base,
        **defaults,
        "BL_POLICY": str(ROOT / "sample_data" / "policies" / "four-fifths.toml"),
        "BL_DATA": str(ROOT / "sample_data" / "lending.csv"),
        "BL_LABEL": "repaid",
        "BL_PREDICTION": prediction,
        "BL_SENSITIVE": "sex, race_ethnicity",
        "BL_JUNIT": str(tmp_path / "junit.xml"),
        "BL_FAIL_ON_VIOLATION": "true",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", gate_script()],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == code, done.stderr
    assert output.read_text().splitlines() == [f"exit-code={code}", f"verdict={verdict}"]
    assert (tmp_path / "junit.xml").read_text().startswith("<?xml")
    assert ("::error" in done.stdout) == (verdict == "fail")
    assert summary.read_text().strip()
    assert len(read_lines(ledger)) == 1  # the verdict was recorded
