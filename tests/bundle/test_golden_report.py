"""The report bytes are part of the bundle format: any change must bump REPORT_VERSION."""

from __future__ import annotations

import pytest

from bias_ledger.bundle.model import REPORT_VERSION

from .golden_report import GOLDEN, render

GOLDEN_REPORT_VERSION = 2
"""The REPORT_VERSION the golden files were rendered with."""


@pytest.mark.parametrize("name", ["report.md", "report.html"])
def test_report_matches_golden(name: str) -> None:
    expected = (GOLDEN / name).read_text(encoding="utf-8")
    assert render()[name] == expected, (
        f"{name} rendering changed: bump REPORT_VERSION in bias_ledger/bundle/model.py, then "
        "regenerate with 'python -m tests.bundle.golden_report' and update GOLDEN_REPORT_VERSION"
    )


def test_golden_files_are_for_this_report_version() -> None:
    assert REPORT_VERSION == GOLDEN_REPORT_VERSION
