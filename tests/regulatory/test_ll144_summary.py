"""The published LL144 summary: the fields and tables 6 RCNY § 5-303 asks for, escaped."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from bias_ledger.errors import InputError
from bias_ledger.ledger.keys import fingerprint, generate_key
from bias_ledger.ledger.store import init_ledger
from bias_ledger.records.payloads import approval_payload
from bias_ledger.standards.ll144_audit import (
    LL144Request,
    build_declaration,
    parse_exclusions,
    run_ll144,
)
from bias_ledger.standards.ll144_load import LL144Columns
from bias_ledger.standards.ll144_publish import summary_text
from bias_ledger.workflows.append import sign_and_append
from tests.regulatory.ll144_data import SELECTION_CELLS


def _data(path: Path) -> Path:
    # The hand-computed example with a hostile race/ethnicity name for the 1% category.
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sex", "race_ethnicity", "selected"])
        for sex, race, count, selected in SELECTION_CELLS:
            name = "<script>alert(1)</script>|*" if race == "Asian" else race
            for i in range(count):
                writer.writerow([sex, name, 1 if i < selected else 0])
    return path


@pytest.fixture()
def ledger(tmp_path: Path) -> tuple[Path, str]:
    author, auditor = generate_key(), generate_key()
    path = tmp_path / "ledger"
    init_ledger(path, name="summary")
    declaration = build_declaration(
        data_source="test",
        data_description="synthetic applicants",
        test_data_reason="the tool is new: no historical data yet",
        audit_date="2026-01-15",
        distribution_date="2026-02-01",
        auditor="Example Audits LLC",
        auditor_key=fingerprint(auditor.public_key()),
        today=date(2026, 1, 15),
    )
    request = LL144Request(
        data=_data(tmp_path / "applicants.csv"),
        columns=LL144Columns(sex="sex", race_ethnicity="race_ethnicity", prediction="selected"),
        declaration=declaration,
        exclusions=parse_exclusions(
            ["race_ethnicity=<script>alert(1)</script>|*"], ["1 applicant"], sex="sex", race="r"
        ),
        model_name="screener",
    )
    appended = sign_and_append(path, "audit", run_ll144(request).to_json(), author)
    sign_and_append(path, "approval", approval_payload(0, appended.record_hash, "ok"), auditor)
    return path, fingerprint(auditor.public_key())


def test_markdown_summary_holds_every_required_field(ledger: tuple[Path, str]) -> None:
    path, auditor = ledger
    text = summary_text(path, 0, summary="nyc-ll144", output=Path("s.md"))
    for required in (
        "Date of the most recent bias audit:** 2026-01-15",
        "Distribution date of the AEDT:** 2026-02-01",
        "Source of the data:** test data",
        "Explanation of the data:** synthetic applicants",
        "Why historical data was not used:** the tool is new: no historical data yet",
        "Number of applicants or candidates assessed:** 100",
        "sex: 4; race/ethnicity: 5; intersectional: 9",
        "| female | 41 | 0.4878 | 1.000 |",
        "| male | 55 | 0.4364 | 0.895 |",
        "| Black | 35 | 0.4857 | 1.000 |",
        "| male / Black | 20 | 0.4000 | 0.400 |",
        f"Countersigned by the independent auditor's key {auditor}",
    ):
        assert required in text, required
    # The excluded category: counts and rate shown, its ratio not calculated, the reason given.
    hostile = "\\<script\\>alert\\(1\\)\\</script\\>\\|\\*"
    assert f"| {hostile} | 1 | 1.0000 | excluded \\(2% rule\\) |" in text
    assert "Justification: 1 applicant" in text
    # Not on the page: what the rule does not ask to post (flags, p-values).
    assert "p-value" not in text and "four" not in text.lower()


def test_html_summary_escapes_data_and_loads_nothing(ledger: tuple[Path, str]) -> None:
    path, _ = ledger
    page = summary_text(path, 0, summary="nyc-ll144", output=Path("s.html"))
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;|*" in page
    assert "default-src 'none'" in page
    assert "<td>male / White</td><td>30</td><td>0.5000</td><td>0.500</td>" in page


def test_summary_refuses_other_records_and_formats(ledger: tuple[Path, str]) -> None:
    path, _ = ledger
    with pytest.raises(InputError, match="expected an audit record made with --standard"):
        summary_text(path, 1, summary="nyc-ll144", output=Path("s.md"))
    with pytest.raises(InputError, match=r"expected a \.html or \.md file"):
        summary_text(path, 0, summary="nyc-ll144", output=Path("s.pdf"))
