"""A report of many records: charts for a bounded set of audits, the others summarised in one
line, memory independent of the number of records, well-formed HTML with every name escaped."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bias_ledger.render.report_outline import DETAILED_RECORDS
from tests.ledger.helpers import REPO
from tests.report.many import HOSTILE_MODEL, MODELS

SMALL = DETAILED_RECORDS
"""The largest report in which every record has a section; the large one (1,200) has a section
for its charted audits only."""

VOID = frozenset({"meta", "hr", "br", "img", "input", "link"})


class _Balance(HTMLParser):
    """Every element closed, in order (the report writes no optional end tags)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass  # SVG's self-closed elements

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _write(count: int, directory: Path) -> int:
    """The reports of ``count`` records, made in a fresh process; its peak RSS in KiB."""
    directory.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "tests.report.many", str(count), str(directory)],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "MPLBACKEND": "agg"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int]:
    root = tmp_path_factory.mktemp("many")
    small = _write(SMALL, root / "small")
    large = _write(1200, root / "large")
    return root, small, large


def test_memory_does_not_grow_with_the_records(many: tuple[Path, int, int]) -> None:
    # 1,000 more records of about 25 kB of JSON each: holding them would add well over 100 MiB.
    _, small, large = many
    assert large - small < 16 * 1024, (small, large)


@pytest.mark.parametrize("name", ["small", "large"])
def test_charts_for_the_newest_audit_of_each_model(many: tuple[Path, int, int], name: str) -> None:
    root = many[0] / name
    count = SMALL if name == "small" else 1200
    html = (root / "report.html").read_text(encoding="utf-8")
    md = (root / "report.md").read_text(encoding="utf-8")
    newest = list(range(count - MODELS, count))
    # Three charts (selection rate, impact ratios, TPR and FPR) for each charted audit only.
    assert html.count("<svg") == 3 * MODELS
    assert sorted(set(re.findall(r'id="r(\d+)-f0-sel-', html))) == sorted(map(str, newest))
    charted = re.findall(r"^\| (\d+) \|.*\| yes \|$", md, flags=re.M)
    assert charted == [str(i) for i in newest]
    assert f"record\\(s\\) 0-{count - 1}," in md
    # Every record has its summary row (verdict, groups below four-fifths).
    assert len(re.findall(r"^\| \d+ \| [^|]+ \| audit \| .* \| fail \| ", md, flags=re.M)) == count
    if name == "small":  # every record has its section: verdict and tables
        assert f"Charts are drawn for {MODELS} of the {count} audit records" in md
        assert md.count("No charts for this record") == count - MODELS
        uncharted = md.split(f"## Record {count - MODELS - 1}:")[1].split("## Record")[0]
        assert "*Chart:" not in uncharted
        assert md.count("> **Policy p: FAIL**") == count
        assert md.count("| rule | verdict | checks | outcomes | at issue |") == count
    else:  # only the charted audits have a section
        assert f"This report covers {count} records, more than {DETAILED_RECORDS}" in md
        assert md.count("> **Policy p: FAIL**") == MODELS
        assert "No charts for this record" not in md
        assert len(re.findall(r"^## Record \d+:", md, flags=re.M)) == MODELS


def test_html_is_well_formed_and_escaped(many: tuple[Path, int, int]) -> None:
    html = (many[0] / "small" / "report.html").read_text(encoding="utf-8")
    parser = _Balance()
    parser.feed(html)
    parser.close()
    assert parser.errors == [] and parser.open == []
    assert HOSTILE_MODEL not in html and "<script" not in html and "<b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;q&quot; &lt;script&gt;x&lt;/script&gt;" in html
    assert sum(HOSTILE_MODEL in t for t in parser.text) >= SMALL // MODELS


def test_streamed_reports_are_the_rendered_ones() -> None:
    """write_reports (export) writes the bytes render_markdown and render_html (report) return."""
    from bias_ledger.bundle.derived import report_data, write_reports
    from bias_ledger.render.report_html import render_html
    from bias_ledger.render.report_md import render_markdown
    from tests.report.many import source, template

    raw = template()
    records = [(r.index, r.record_hash, raw) for r in source(3, raw)]
    data = report_data(
        origin="o",
        checkpoint_size=3,
        checkpoint_root="00" * 32,
        checkpoint_signer="SHA256:test",
        records=records,
        signers=[],
    )
    md, html = io.BytesIO(), io.BytesIO()
    write_reports(data, md, html)
    assert md.getvalue().decode("utf-8") == render_markdown(data)
    assert html.getvalue().decode("utf-8") == render_html(data)
    assert html.getvalue().count(b"<svg") == 3 * 3  # at most 20 audits: all three charted
