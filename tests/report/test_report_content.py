"""The report's text, without a browser: escaping of hostile names, verdict words, determinism."""

from __future__ import annotations

import re
from pathlib import Path

from tests.report.data import HOSTILE_NAMES
from tests.report.helpers import Workspace, cli


def test_hostile_names_never_reach_markup(reports: dict[str, Path]) -> None:
    html = reports["hostile.html"].read_text(encoding="utf-8")
    md = reports["hostile.md"].read_text(encoding="utf-8")
    for name in HOSTILE_NAMES[:3]:
        assert name not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;/svg&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert html.count("<svg") == html.count("</svg>")
    assert "<script" not in html.lower() and "<img" not in html.lower()
    for text in (html, md):
        assert "\x1b" not in text and "\u202e" not in text and "\u202c" not in text
    assert "\\<script\\>alert\\(1\\)\\</script\\>" in md


def test_failing_rules_come_first(reports: dict[str, Path]) -> None:
    md = reports["failing.md"].read_text(encoding="utf-8")
    assert "> **Policy every-group: FAIL**" in md
    lines = md.splitlines()
    start = lines.index("| rule | verdict | checks | outcomes | at issue |")
    rows = [line.split(" | ") for line in lines[start + 2 : start + 5]]
    # Failing rules first; then the warning (never shown as a pass).
    assert [row[0] for row in rows] == ["| four-fifths", "| demographic-parity",
                                         "| false-negative-rate"]  # fmt: skip
    assert [row[1] for row in rows[:2]] == ["FAIL", "FAIL"]
    assert rows[2][1].startswith("WARN") and "pass" not in rows[2][1]
    # The 18 insufficient intersectional groups are said as such, and the list is bounded.
    assert "insufficient data" in rows[0][3] and re.search(r" and \d+ more", rows[0][4])


def test_report_is_reproducible(workspace: Workspace, reports: dict[str, Path]) -> None:
    again = workspace.root / "again.html"
    cli(workspace, "report", str(workspace.hostile), "-o", again, "--trusted-keys",
        workspace.trusted)  # fmt: skip
    assert again.read_bytes() == reports["hostile.html"].read_bytes()
