"""LL144 evidence names each input by SHA-256 as well as BLAKE3 (as every audit record does in
format 2): the record holds both, ``show`` and the report list both, and a record made before
SHA-256 was recorded says "SHA-256 not recorded" rather than leaving a gap."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import blake3
import pytest

from tests.ledger.helpers import cli_env, run_cli
from tests.regulatory.cli import Cli
from tests.regulatory.ll144_data import write_selection_csv

pytestmark = pytest.mark.slow  # real processes

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "format1" / "ledger"
DECLARED = [
    "--data-source", "historical", "--data-description", "2025 applications",
    "--audit-date", "2026-01-15", "--distribution-date", "2024-03-01",
    "--auditor", "Example Audits LLC",
]  # fmt: skip


def test_ll144_record_show_and_report_list_sha256_and_blake3(tmp_path: Path) -> None:
    cli = Cli.create(tmp_path)
    data = write_selection_csv(cli.root / "selection.csv")
    cli.json("audit", "--standard", "nyc-ll144", data, "--prediction", "selected", *DECLARED)
    raw = data.read_bytes()
    sha256, b3 = hashlib.sha256(raw).hexdigest(), blake3.blake3(raw).hexdigest()

    [recorded] = cli.json("show", "0")["record"]["audit"]["inputs"]
    assert (recorded["sha256"], recorded["blake3"]) == (sha256, b3)

    shown = cli.run("show", "0").stdout
    assert f"sha256:{sha256}" in shown and f"blake3:{b3}" in shown

    report = cli.root / "report.md"
    cli.run("report", "0", "-o", report)
    text = report.read_text()
    assert f"SHA-256 {sha256}" in text and f"BLAKE3 {b3}" in text  # the evidence table
    assert "SHA-256" in text and text.count(sha256) >= 2  # and the inputs table


def test_record_without_sha256_says_not_recorded(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    shutil.copytree(FIXTURE, ledger)  # a released format-1 ledger, read only from its copy
    env = cli_env(tmp_path, COLUMNS="250")
    shown = run_cli("show", "0", "--ledger", ledger, env=env)
    assert shown.returncode == 0, shown.stderr
    line = next(x for x in shown.stdout.splitlines() if "blake3:820dd756" in x)
    assert "SHA-256 not recorded" in line
    report = tmp_path / "report.md"
    done = run_cli("report", "0", "-o", report, "--ledger", ledger, env=env)
    assert done.returncode == 0, done.stderr
    text = report.read_text()
    assert "SHA-256 not recorded" in text and "| not recorded |" in text
