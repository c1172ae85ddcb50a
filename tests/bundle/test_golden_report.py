"""The report bytes are part of the bundle format: any change must bump REPORT_VERSION."""

from __future__ import annotations

from typing import Any

import pytest

from bias_ledger.bundle.model import REPORT_VERSION

from .golden_report import GOLDEN, render


@pytest.mark.parametrize("name", ["report.md", "report.html"])
def test_report_matches_golden(name: str) -> None:
    expected = (GOLDEN / name).read_text(encoding="utf-8")
    assert render()[name] == expected, (
        f"{name} rendering changed: bump REPORT_VERSION in bias_ledger/bundle/model.py, then "
        "regenerate with 'python -m tests.bundle.golden_report'"
    )


def test_the_golden_comparison_sees_a_changed_number(monkeypatch: pytest.MonkeyPatch) -> None:
    """The golden files hold the record's numbers, and one changed number changes the report:
    the comparison above can fail (it used to sit beside a test of two constants)."""
    from tests.bundle import golden_report

    golden = (GOLDEN / "report.md").read_text(encoding="utf-8")
    assert "| 0.3750 | 0.9375 |" in golden  # the first group's selection rate and impact ratio
    original = golden_report.record

    def changed() -> dict[str, Any]:
        record = original()
        impact = record["audit"]["results"]["features"][0]["impact_ratios"][0]
        impact["impact_ratio"] = {"value": 0.8125}
        return record

    monkeypatch.setattr(golden_report, "record", changed)
    rendered = render()
    assert rendered["report.md"] != golden
    assert "| 0.3750 | 0.8125 |" in rendered["report.md"]
    assert "0.8125" in rendered["report.html"]
    assert rendered["report.html"] != (GOLDEN / "report.html").read_text(encoding="utf-8")
    assert REPORT_VERSION >= 1
