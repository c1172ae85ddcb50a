"""audit --standard nyc-ll144 as a real process: the signed record, its declared facts, errors."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from tests.regulatory.cli import Cli
from tests.regulatory.ll144_data import write_scoring_csv, write_selection_csv

pytestmark = pytest.mark.slow  # real processes, a few seconds each

DECLARED = [
    "--data-source", "historical", "--data-description", "2025 applications to the tool",
    "--audit-date", "2026-01-15", "--distribution-date", "2024-03-01",
    "--auditor", "Example Audits LLC",
]  # fmt: skip


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return Cli.create(tmp_path_factory.mktemp("ll144"))


def audit(cli: Cli, *args: str | Path, code: int = 0) -> Any:
    return cli.json("audit", "--standard", "nyc-ll144", *args, code=code)


def test_selection_audit_is_recorded_with_its_declared_facts(cli: Cli) -> None:
    data = write_selection_csv(cli.root / "selection.csv")
    done = audit(
        cli, data, "--prediction", "selected", *DECLARED, "--min-group-size", "50",
        "--exclude", "race_ethnicity=Asian", "--justification", "one applicant (1%)",
        "--purpose", "LL144 requires the bias audit by sex and race/ethnicity",
    )  # fmt: skip
    assert done["record"]["index"] == 0
    shown = cli.json("show", "0")["record"]["audit"]
    assert shown["standard"] == "nyc-ll144"
    assert "results" not in shown  # no label: LL144's tables only
    assert shown["declaration"] == {
        "data_source": "historical",
        "data_description": "2025 applications to the tool",
        "test_data_reason": None,
        "audit_date": "2026-01-15",
        "distribution_date": "2024-03-01",
        "auditor": "Example Audits LLC",
        "auditor_key": None,
    }
    assert shown["purpose"].startswith("LL144 requires")
    tables = {t["breakdown"]: t for t in shown["nyc_ll144"]["tables"]}
    assert [t["unknown"] for t in tables.values()] == [4, 5, 9]
    sex = {tuple(r["category"]): r for r in tables["sex"]["rows"]}
    # Under --min-group-size 50, the 41 females are flagged, yet stay in the ratios.
    assert sex[("female",)]["small"] is True and sex[("female",)]["impact_ratio"]["value"] == 1.0
    assert sex[("male",)]["impact_ratio"]["value"] == pytest.approx((24 / 55) / (20 / 41))
    assert shown["nyc_ll144"]["exclusions"] == [
        {
            "breakdown": "race_ethnicity",
            "category": ["Asian"],
            "justification": "one applicant (1%)",
        }
    ]
    assert shown["nyc_ll144"]["four_fifths"]["basis"].startswith("EEOC rule of thumb")


def test_scoring_audit_from_the_config_file(cli: Cli) -> None:
    data = write_scoring_csv(cli.root / "scores.csv")
    config = cli.root / "ll144.toml"
    config.write_text(
        f'standard = "nyc-ll144"\ndata = "{data.name}"\nscore = "score"\n'
        "[nyc-ll144]\n"
        'data-source = "test"\ndata-description = "ten synthetic applicants"\n'
        'test-data-reason = "no historical data: the tool is new"\n'
        'distribution-date = "2026-03-01"\nauditor = "A. Auditor"\n'
    )
    done = cli.json("audit", "--config", config, "--no-record")
    results = done["nyc_ll144"]
    assert results["tool_type"] == "scoring" and results["median_score"] == 5.5
    assert done["declaration"]["test_data_reason"] == "no historical data: the tool is new"


def test_bad_inputs_are_one_line_errors(cli: Cli) -> None:
    data = write_selection_csv(cli.root / "selection2.csv")
    done = cli.run(
        "audit", data, "--standard", "nyc-ll144", "--prediction", "selected", *DECLARED,
        "--exclude", "sex=male", "--justification", "x", "--no-record", code=2,
    )  # fmt: skip
    assert "only a category under 2% of the data may be excluded" in done.stderr
    assert "Traceback" not in done.stderr
    done = cli.run("audit", data, "--standard", "nyc-ll144", "--prediction", "selected", code=2)
    assert "--data-source historical|test" in done.stderr
    done = cli.run("audit", data, "--standard", "nyc-ll145", code=2)
    assert "expected one of 'nyc-ll144'" in done.stderr
    done = cli.run(
        "audit", data, "--label", "selected", "--prediction", "selected", "--sensitive", "sex",
        "--exclude", "sex=male", code=2,
    )  # fmt: skip
    assert "applies to --standard nyc-ll144" in done.stderr


def test_unknown_values_named_on_the_command_line(cli: Cli) -> None:
    path = cli.root / "declined.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sex", "race_ethnicity", "selected"])
        for i in range(40):
            sex = "Decline to state" if i < 3 else ("female" if i % 2 else "male")
            writer.writerow([sex, "White" if i % 3 else "Black", i % 2])
    done = audit(cli, path, "--prediction", "selected", *DECLARED, "--unknown",
                 "Decline to state", "--no-record")  # fmt: skip
    sex = done["nyc_ll144"]["tables"][0]
    assert sex["unknown"] == 3
    assert {r["category"][0] for r in sex["rows"]} == {"female", "male"}


def test_bundle_recompute_rederives_the_tables(cli: Cli) -> None:
    data = write_selection_csv(cli.root / "recompute.csv")
    made = audit(
        cli, data, "--prediction", "selected", *DECLARED,
        "--exclude", "intersectional=female/Asian", "--justification", "1%",
    )  # fmt: skip
    index = str(made["record"]["index"])
    bundle = cli.root / "ll144-bundle.zip"
    cli.run("export", "-o", bundle, index)
    signers = cli.allowed_signers()
    checked = cli.json("verify", bundle, "--trusted-keys", signers, "--recompute", "--data", data)
    assert checked["valid"] is True
    recomputed = checked["recompute"]["records"][0]
    assert recomputed["recomputed"] is True and recomputed["mismatches"] == []


def test_an_ll144_audit_is_attested_and_verified(cli: Cli) -> None:
    data = write_selection_csv(cli.root / "attested.csv")
    model = cli.root / "screener.bin"
    model.write_bytes(b"screener weights\n" * 64)
    made = audit(cli, data, "--prediction", "selected", *DECLARED, "--model", model)
    out = cli.root / "screener.intoto.jsonl"
    cli.run("attest", str(made["record"]["index"]), "-o", out)
    signers = cli.allowed_signers()
    checked = cli.json("verify", "--attestation", out, "--trusted-keys", signers)
    assert checked["valid"] is True and checked["subject"]["name"] == "screener.bin"


def test_options_of_the_usual_audit_are_refused(cli: Cli) -> None:
    data = write_selection_csv(cli.root / "refused.csv")
    done = cli.run(
        "audit", data, "--standard", "nyc-ll144", "--prediction", "selected", *DECLARED,
        "--sensitive", "sex", "--no-record", code=2,
    )  # fmt: skip
    assert "does not take --sensitive (name --sex and --race-ethnicity)" in done.stderr


def test_report_summary_writes_the_published_page(cli: Cli) -> None:
    data = write_selection_csv(cli.root / "published.csv")
    made = audit(cli, data, "--prediction", "selected", *DECLARED)
    index = str(made["record"]["index"])
    page = cli.root / "summary.md"
    cli.run("report", index, "--summary", "nyc-ll144", "-o", page)
    text = page.read_text()
    assert "Date of the most recent bias audit:** 2026-01-15" in text
    assert "| male | 55 | 0.4364 | 0.895 |" in text
    done = cli.run("report", index, "--summary", "nyc-ll145", "-o", page, code=2)
    assert "expected one of nyc-ll144" in done.stderr
