"""GitHub workflow-command annotations and the Markdown step summary, with hostile group names."""

from html.parser import HTMLParser
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bias_ledger.policy import PolicyReport, evaluate_policy
from bias_ledger.render.github import (
    annotations,
    escape_data,
    escape_property,
    step_summary_markdown,
)
from tests.policy.builders import lending, policy
from tests.policy.hostile import HOSTILE_NAMES, hostile_results

FOUR_FIFTHS = "version = 1\nname = 'ff, v1: test'\n[[rules]]\nfour_fifths = true\n"


def unescape(text: str, *, prop: bool) -> str:
    """The runner's decoding (actions/runner ActionCommand): %25 last, so %2525 stays %25."""
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if prop else [])
    for code, char in [*pairs, ("%25", "%")]:
        text = text.replace(code, char)
    return text


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """Split a workflow command as the runner does: ``::name k=v,k=v::message``."""
    assert line.startswith("::") and "\n" not in line and "\r" not in line
    head, message = line[2:].split("::", 1)
    name, _, props = head.partition(" ")
    properties = {}
    for item in filter(None, props.split(",")):
        key, _, value = item.partition("=")
        properties[key] = unescape(value, prop=True)
    return name, properties, unescape(message, prop=False)


@given(st.text())
def test_escaping_round_trips_through_the_runners_decoding(text: str) -> None:
    assert unescape(escape_data(text), prop=False) == text
    escaped = escape_property(text)
    assert not {",", ":", "\n", "\r"} & set(escaped)
    assert unescape(escaped, prop=True) == text


def test_escaping_of_each_special_character() -> None:
    assert escape_data("100%\r\nnext: a, b") == "100%25%0D%0Anext: a, b"
    assert escape_property("100%\r\nnext: a, b") == "100%25%0D%0Anext%3A a%2C b"


def report_for(tmp_path: Path, text: str = FOUR_FIFTHS) -> PolicyReport:
    return evaluate_policy(policy(tmp_path, text), hostile_results())


def test_annotations_cannot_be_forged_by_group_names(tmp_path: Path) -> None:
    report = report_for(tmp_path)
    lines = annotations(report, file="policies/ff.toml")
    assert lines
    failing = [o for o in report.outcomes if o.fails_gate]
    errors = [parse_command(line) for line in lines if line.startswith("::error")]
    assert len(errors) == len(failing)
    for (name, props, message), outcome in zip(errors, failing, strict=True):
        assert name == "error"
        assert props["file"] == "policies/ff.toml"
        assert props["title"].startswith("bias-ledger ff, v1: test:")
        assert message == outcome.message
    # The forged "::error::" inside a group name never starts a line of its own.
    assert all(line.startswith(("::error ", "::warning ")) for line in lines)


def test_warnings_for_non_blocking_outcomes(tmp_path: Path) -> None:
    text = (
        "version = 1\n[[rules]]\nsummary = 'demographic_parity_ratio'\nmin = 0.99\n"
        "severity = 'warn'\n[[rules]]\nfour_fifths = true\nmin_group_size = 10000\n"
    )
    report = evaluate_policy(policy(tmp_path, text), lending(30, 60))
    lines = annotations(report)
    assert lines and all(line.startswith("::warning ") for line in lines)
    assert len(lines) == len(report.problems)
    assert annotations(evaluate_policy(policy(tmp_path, FOUR_FIFTHS), lending(55, 60))) == []


class _Cells(HTMLParser):
    """Collects table rows (cell texts) and every tag name of rendered HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.tags: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def render(markdown: str) -> _Cells:
    html = MarkdownIt("commonmark").enable("table").render(markdown)
    parser = _Cells()
    parser.feed(html)
    return parser


def test_step_summary_escapes_group_names(tmp_path: Path) -> None:
    results = hostile_results()
    report = evaluate_policy(policy(tmp_path, FOUR_FIFTHS), results)
    parsed = render(step_summary_markdown(report, results))
    # Group names stay text: no tag or link from data, every row keeps its column count.
    assert set(parsed.tags) <= {
        "h2",
        "h3",
        "p",
        "code",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "em",
    }
    widths = {len(row) for row in parsed.rows}
    assert widths <= {2, 6, 9}
    shown = {row[0] for row in parsed.rows if len(row) == 6} | {
        row[4] for row in parsed.rows if len(row) == 9
    }
    for name in HOSTILE_NAMES:
        # Line breaks and control characters cannot live in a table cell: they become spaces.
        flat = "".join(" " if ch in "\r\n\x01" else ch for ch in name)
        assert flat in shown
    assert "group<&>" in {row[3] for row in parsed.rows if len(row) == 9}


def test_step_summary_states_the_verdict(tmp_path: Path) -> None:
    rules = policy(tmp_path, FOUR_FIFTHS)
    failing = step_summary_markdown(evaluate_policy(rules, lending(30, 60)))
    passing = step_summary_markdown(evaluate_policy(rules, lending(55, 60)))
    assert failing.startswith("## Fairness gate FAILED") and "### Outcomes to review" in failing
    assert passing.startswith("## Fairness gate PASSED") and "Every rule passed." in passing
