"""Group names that try to break out of XML, Markdown, HTML, spreadsheets and workflow commands."""

from __future__ import annotations

from bias_ledger.metrics.model import MetricResults
from tests.policy.builders import Cells, results

HOSTILE_NAMES = (
    "<script>alert(1)</script>",
    "a|b",
    '=HYPERLINK("http://evil.example","x")',
    "two\nlines\r\n::error::forged",
    "50%, ok: yes",
    "ctrl\x01char & [link](http://evil.example)",
)


def hostile_results() -> MetricResults:
    """One feature whose groups carry the hostile names; the first is selected far less."""
    cells: dict[tuple[str, ...], Cells] = {}
    for index, name in enumerate(HOSTILE_NAMES):
        selected = 10 if index == 0 else 60
        cells[(name,)] = (
            selected // 2,
            selected - selected // 2,
            50 - selected // 2,
            50 - selected // 2,
        )
    return results(cells, ("group<&>",))
