"""A ledger or record of an unknown format version is refused with a clear error, never misread."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bias_ledger.cli.app import app
from bias_ledger.errors import ExitCode, LedgerError
from bias_ledger.ledger.reader import LEDGER_FILE, RECORDS_FILE, read_meta
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record, init_ledger
from tests.ledger.helpers import new_signer, read_lines, record_of, with_record, write_lines

COMMANDS = [
    ["log"],
    ["show", "0"],
    ["verify", "--trust-ledger-keys"],
    ["proof", "inclusion", "0"],
    ["proof", "consistency", "1", "2"],
    ["checkpoint"],
    ["fsck"],
    ["approve", "0"],
    ["init"],
]


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger"
    init_ledger(path, name="versions", format_version=1)
    signer = new_signer(tmp_path / "key")
    for note in ("one", "two"):
        append_record(path, RecordKind.GATE, {"note": note}, signer.key)
    return path


def _set_meta(ledger: Path, **changes: Any) -> None:
    meta = json.loads((ledger / LEDGER_FILE).read_bytes())
    meta.update(changes)
    (ledger / LEDGER_FILE).write_text(json.dumps(meta))


def _cli(ledger: Path, args: list[str]) -> tuple[int, str]:
    env = {"BIAS_LEDGER_KEY": str(ledger.parent / "key"), "BIAS_LEDGER_DIR": str(ledger)}
    result = CliRunner().invoke(app, args, env=env)
    return result.exit_code, result.stdout + result.stderr


@pytest.mark.parametrize("version", [3, 0, "1", True, 1.0, None, 2.0])
def test_unknown_ledger_version_is_refused_by_the_library(ledger: Path, version: Any) -> None:
    _set_meta(ledger, format_version=version)
    with pytest.raises(LedgerError, match=rf"unknown ledger format_version {version!r}"):
        read_meta(ledger)
    before = (ledger / RECORDS_FILE).read_bytes()
    signer = new_signer(ledger.parent / "other")
    with pytest.raises(LedgerError, match="refusing to read it"):
        append_record(ledger, RecordKind.GATE, {"note": "three"}, signer.key)
    assert (ledger / RECORDS_FILE).read_bytes() == before


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: "-".join(a))
def test_unknown_ledger_version_is_refused_by_every_command(ledger: Path, args: list[str]) -> None:
    _set_meta(ledger, format_version=3)
    code, output = _cli(ledger, args)
    assert code == ExitCode.USAGE, output
    assert output.startswith("bias-ledger: error: ")
    assert "unknown ledger format_version 3 (this bias-ledger reads [1, 2])" in output
    assert output.count("\n") == 1


def test_not_a_bias_ledger_file_is_refused(ledger: Path) -> None:
    _set_meta(ledger, format="something-else")
    code, output = _cli(ledger, ["log"])
    assert code == ExitCode.USAGE
    assert "expected a bias-ledger metadata object" in output


def test_unknown_record_version_is_refused_not_rendered(ledger: Path) -> None:
    lines = read_lines(ledger)
    record = record_of(lines[1])
    record["format_version"] = 3
    lines[1] = with_record(lines[1], record)
    write_lines(ledger, lines)
    code, output = _cli(ledger, ["verify", "--trust-ledger-keys"])
    assert code == ExitCode.VERIFICATION_FAILED
    assert "record 1: unknown record format_version 3" in output
    for args in (["log"], ["show", "1"], ["log", "--json"]):
        code, output = _cli(ledger, args)
        assert code == ExitCode.USAGE, output
        assert "record 1: unknown record format_version 3" in output
    code, output = _cli(ledger, ["show", "0"])
    assert code == ExitCode.OK, output
