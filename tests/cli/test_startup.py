"""What a plain CLI run loads: only the invoked command, and no pandas, scipy, matplotlib or
pydantic; a small audit no pyarrow.compute, and one writing JSON no rich (checked in a fresh
process through ``sys.modules`` after the run; nothing is timed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main

from bias_ledger import cli
from bias_ledger.cli import app as cli_app

HEAVY = ("pandas", "scipy", "matplotlib", "pydantic", "sklearn", "fairlearn")

UNUSED_BY_SMALL_AUDITS = ("pyarrow.compute", "duckdb", "pyspark", "polars")
"""Modules (not only packages) a 1,000-row binary audit does without: its few Arrow kernels are
called through pyarrow._compute (bias_ledger/io/kernels.py), and the other engines are opt-in."""

NETWORK = ("http", "ssl", "email", "httpx")
"""What only a witness push or an HTTP log source needs: a recorded audit of a ledger without
witnesses loads none of it."""

PROGRAM = """
import contextlib, io, json, sys
sys.argv = ["bias-ledger", *json.loads(sys.argv[1])]
from bias_ledger.cli import main
code = 0
output = io.StringIO()
with contextlib.redirect_stdout(output):
    try:
        main()
    except SystemExit as exit:
        code = exit.code or 0
names = sorted({name.split(".")[0] for name in sys.modules})
commands = sorted(name for name in sys.modules if name.startswith("bias_ledger.cli."))
found = {"code": code, "modules": names, "cli": commands, "all": sorted(sys.modules)}
print(json.dumps({**found, "stdout": output.getvalue()}))
"""


def _loaded(args: list[str], cwd: Path) -> dict[str, Any]:
    """What the run in a fresh process left: its exit code (``code``), the top-level modules
    (``modules``), the bias_ledger.cli ones (``cli``), every module (``all``), its stdout."""
    env = {**os.environ, "COLUMNS": "100"}
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, json.dumps(args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def _run(args: list[str], cwd: Path) -> tuple[int, set[str], list[str]]:
    """(exit code, top-level modules loaded, bias_ledger.cli modules loaded)."""
    found = _loaded(args, cwd)
    return int(found["code"]), set(found["modules"]), list(found["cli"])


def _small_csv(path: Path, *, small_group: bool) -> Path:
    rows = ["y,p,sex,race"]
    for i in range(1000):
        sex = "x" if small_group and i % 50 == 0 else ("f" if i % 2 else "m")
        rows.append(f"{i % 3 == 0:d},{i % 5 < 2:d},{sex},{'abc'[i % 3]}")
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("small_group", [False, True], ids=["z-tests", "fisher"])
def test_plain_audit_imports_no_heavy_library(tmp_path: Path, small_group: bool) -> None:
    data = _small_csv(tmp_path / "data.csv", small_group=small_group)
    args = ["audit", str(data), "--label", "y", "--prediction", "p", "--sensitive", "sex"]
    code, loaded, commands = _run([*args, "--sensitive", "race", "--no-record"], tmp_path)
    assert code == 0
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    assert not loaded & set(NETWORK), sorted(loaded & set(NETWORK))
    # Only the audit command's module (and the modules it uses) among the commands.
    assert "bias_ledger.cli.audit_cmd" in commands
    assert "bias_ledger.cli.witness_cmd" not in commands
    assert "bias_ledger.cli.key_cmd" not in commands


def test_recorded_audit_imports_no_heavy_library(tmp_path: Path) -> None:
    data = _small_csv(tmp_path / "data.csv", small_group=True)
    key = tmp_path / "key"
    ledger = tmp_path / "ledger"
    assert _run(["key", "generate", "-o", str(key)], tmp_path)[0] == 0
    assert _run(["init", "--ledger", str(ledger)], tmp_path)[0] == 0
    args = ["audit", str(data), "--label", "y", "--prediction", "p", "--sensitive", "sex"]
    args += ["--sensitive", "race", "--key", str(key), "--ledger", str(ledger)]
    code, loaded, _ = _run(args, tmp_path)
    assert code == 0
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    assert not loaded & set(NETWORK), sorted(loaded & set(NETWORK))
    # The append itself ran: the signing and store modules are among those loaded.
    assert {"cryptography", "blake3", "rfc8785"} <= loaded
    # The ledger lock is an flock taken with fcntl: filelock is only the fallback without it.
    assert "fcntl" in loaded and "filelock" not in loaded
    assert (ledger / "lock").is_file()


def _unused(found: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    """Those of ``names`` that were imported (a package counts with any of its modules)."""
    loaded = set(found["all"])
    return sorted(
        name for name in names if name in loaded or any(m.startswith(f"{name}.") for m in loaded)
    )


@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_small_recorded_audit_runs_without_pyarrow_compute(
    tmp_path: Path, json_output: bool
) -> None:
    data = _small_csv(tmp_path / "data.csv", small_group=True)
    key, ledger = tmp_path / "key", tmp_path / "ledger"
    assert _run(["key", "generate", "-o", str(key)], tmp_path)[0] == 0
    assert _run(["init", "--ledger", str(ledger)], tmp_path)[0] == 0
    args = ["audit", str(data), "--label", "y", "--prediction", "p", "--sensitive", "sex"]
    args += ["--sensitive", "race", "--key", str(key), "--ledger", str(ledger)]
    found = _loaded([*args, "--json"] if json_output else args, tmp_path)
    assert found["code"] == 0
    assert _unused(found, HEAVY + UNUSED_BY_SMALL_AUDITS) == []
    # The audit counted the file with pyarrow and appended a signed record.
    assert {"pyarrow.csv", "pyarrow._compute", "cryptography", "blake3"} <= set(found["all"])
    if json_output:
        document = json.loads(found["stdout"])
        assert document["record"]["index"] == 0
        assert sum(document["results"]["overall"]["counts"].values()) == 1000  # every row
        # The JSON is written without rich; only a terminal table or a message needs it.
        assert _unused(found, ("rich",)) == []
    else:
        assert "recorded as record 0" in found["stdout"]


def test_cli_raises_the_young_gc_threshold() -> None:
    program = "import gc, sys; sys.argv = ['bias-ledger', '--version']\n"
    program += "from bias_ledger.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
    program += "print(gc.get_threshold()[0])"
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert int(done.stdout.split()[-1]) == cli.GC_YOUNG_THRESHOLD
    assert cli.GC_YOUNG_THRESHOLD > 700  # Python's default


def test_every_command_is_mapped_to_its_module() -> None:
    full = typer.main.get_command(cli_app.app)
    assert sorted(full.commands) == sorted(cli_app.COMMANDS)  # type: ignore[attr-defined]
    for name, modules in cli_app.COMMANDS.items():
        alone = typer.main.get_command(cli_app.build(modules))
        assert name in alone.commands  # type: ignore[attr-defined]
        # The same parameters as in the full application.
        expected = [p.name for p in full.commands[name].params]  # type: ignore[attr-defined]
        assert [p.name for p in alone.commands[name].params] == expected  # type: ignore[attr-defined]


def test_help_lists_every_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bias_ledger", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    for name in cli_app.COMMANDS:
        assert f"  {name} " in done.stdout


def _float_csv(path: Path) -> Path:
    rows = ["y,p,score,label,sex,race"]
    for i in range(1000):
        y, p = (i * 7919 % 1000) / 10, (i * 104729 % 1000) / 10
        rows.append(f"{y},{p},{(i * 31 % 997) / 997},{i % 3 == 0:d},{'fm'[i % 2]},{'abc'[i % 3]}")
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    "task",
    [
        ["--label", "y", "--prediction", "p", "--task", "regression"],
        ["--label", "label", "--score", "score", "--threshold", "0.5"],
    ],
    ids=["regression", "score"],
)
def test_small_float_audit_imports_no_pandas(tmp_path: Path, task: list[str]) -> None:
    # Float columns: NaN becomes a missing value, and a score is thresholded, in Arrow arrays
    # built without pa.scalar or pa.array of Python or numpy values (either imports pandas).
    data = _float_csv(tmp_path / "data.csv")
    args = ["audit", str(data), *task, "--sensitive", "sex", "--sensitive", "race"]
    found = _loaded([*args, "--no-record", "--json"], tmp_path)
    assert found["code"] == 0
    assert _unused(found, HEAVY + UNUSED_BY_SMALL_AUDITS + ("rich",)) == []
    document = json.loads(found["stdout"])
    assert document["record"] is None and document["data"]["rows"] == 1000


@pytest.mark.parametrize(
    "task",
    [
        ["--label", "y", "--prediction", "p", "--task", "regression"],
        ["--label", "label", "--score", "score", "--threshold", "0.5"],
        ["--label", "label", "--prediction", "label"],
    ],
    ids=["regression", "score", "binary"],
)
def test_duckdb_engine_audit_imports_no_pandas(tmp_path: Path, task: list[str]) -> None:
    # The SQL engines' aggregates come back as Arrow tables: read without to_numpy, and taken
    # with Arrow indices (either way pyarrow imports pandas, 0.4 s and 50 MB).
    pytest.importorskip("duckdb")
    data = _float_csv(tmp_path / "data.csv")
    args = ["audit", str(data), *task, "--sensitive", "sex", "--sensitive", "race"]
    found = _loaded([*args, "--engine", "duckdb", "--no-record", "--json"], tmp_path)
    assert found["code"] == 0
    assert _unused(found, HEAVY) == []
    assert json.loads(found["stdout"])["data"]["rows"] == 1000
