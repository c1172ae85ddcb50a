"""GitHub Actions outputs of a policy report: workflow-command annotations and a step summary.

Both return text; the CLI writes annotations to stdout and appends the summary to
``$GITHUB_STEP_SUMMARY``. Group names come from data, so everything is escaped.
"""

# No `from __future__ import annotations`: this module's public function is named `annotations`.
import html
import string

from bias_ledger.metrics import registry
from bias_ledger.metrics.model import MetricResults, Value
from bias_ledger.policy.report import PolicyReport, RuleOutcome, Status

# GitHub shows a limited number of annotations per step and caps a step summary at 1 MiB.
MAX_ANNOTATIONS = 50
MAX_ROWS = 200
# The per-group rates the summaries are built from (demographic parity, equalized odds).
_SUMMARY_GROUP_METRICS = registry.summary_parts()


def escape_data(text: str) -> str:
    """Escape a workflow command's message (the part after ``::``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value (``title=...``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(name: str, properties: dict[str, str], message: str) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return (
        f"::{name} {props}::{escape_data(message)}"
        if props
        else f"::{name}::{escape_data(message)}"
    )


def annotations(report: PolicyReport, *, file: str | None = None) -> list[str]:
    """``::error``/``::warning`` commands for every outcome that is not a plain pass.

    Outcomes that fail the gate come first as errors; warnings, inconclusive and
    insufficient-data outcomes follow as warnings. ``file`` (the policy path) anchors them.
    """
    problems = sorted(report.problems, key=lambda item: not item.fails_gate)
    lines = []
    for outcome in problems[:MAX_ANNOTATIONS]:
        kind = "error" if outcome.fails_gate else "warning"
        properties = {"title": f"bias-ledger {report.policy_name}: {_title(outcome)}"}
        if file is not None:
            properties["file"] = file
        lines.append(_command(kind, properties, outcome.message))
    if len(problems) > MAX_ANNOTATIONS:
        rest = len(problems) - MAX_ANNOTATIONS
        lines.append(
            _command(
                "warning",
                {"title": f"bias-ledger {report.policy_name}"},
                f"{rest} more policy outcomes not annotated; see the job summary or JUnit report",
            )
        )
    return lines


def _title(outcome: RuleOutcome) -> str:
    words = {
        Status.FAIL: "violated",
        Status.WARN: "warning",
        Status.INSUFFICIENT_DATA: "insufficient data",
        Status.INCONCLUSIVE: "inconclusive",
    }
    return f"rule {outcome.rule} {words.get(outcome.status, outcome.status.value)}"


_PUNCTUATION = frozenset(string.punctuation)


def md(text: str) -> str:
    """Escape text from data for a Markdown table cell: inert as Markdown, HTML and formula."""
    out = []
    for char in text:
        if char in "&<>\"'":
            out.append(html.escape(char, quote=True))
        elif char in _PUNCTUATION:
            # CommonMark lets any ASCII punctuation be backslash-escaped; this also keeps `|`
            # from splitting a table cell and a leading `=` from reading as a formula.
            out.append("\\" + char)
        elif char in "\r\n\t" or not char.isprintable():
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def _fmt(value: Value | None) -> str:
    if value is None:
        return ""
    if value.value is None:
        return "undefined"
    text = f"{value.value:.4g}"
    if value.interval is not None:
        text += f" [{value.interval.low:.4g}, {value.interval.high:.4g}]"
    return text


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows[:MAX_ROWS])
    if len(rows) > MAX_ROWS:
        lines.append(f"\n_{len(rows) - MAX_ROWS} more rows not shown._")
    return lines


def _outcome_rows(outcomes: tuple[RuleOutcome, ...]) -> list[list[str]]:
    return [
        [
            item.status.value,
            md(item.rule),
            item.check.value,
            md(" x ".join(item.features)),
            md(", ".join(item.group)) if item.group is not None else "",
            item.quantity,
            _fmt(item.measured),
            _fmt(item.baseline),
            html.escape(item.bound_text),
        ]
        for item in outcomes
    ]


def step_summary_markdown(report: PolicyReport, results: MetricResults | None = None) -> str:
    """A Markdown job summary: verdict, counts, non-passing outcomes, and per-group metrics."""
    verdict = "PASSED" if report.passed else "FAILED"
    lines = [
        f"## Fairness gate {verdict}: policy {md(report.policy_name)}",
        "",
        f"Policy format version {report.policy_version}, BLAKE3 `{report.policy_digest}`.",
        "",
        ", ".join(f"{md(name)}: {count}" for name, count in report.counts.items() if count),
        "",
    ]
    header = ["Status", "Rule", "Check", "Feature", "Group", "Quantity", "Measured", "Baseline"]
    if report.problems:
        lines += ["### Outcomes to review", ""]
        lines += _table([*header, "Bound"], _outcome_rows(report.problems))
        lines.append("")
    else:
        lines += ["Every rule passed.", ""]
    if results is not None:
        lines += _metrics_section(results)
    return "\n".join(lines) + "\n"


def _metrics_section(results: MetricResults) -> list[str]:
    lines = []
    for feature in results.features:
        lines += [f"### {md(feature.name)}", ""]
        summary = [[md(name), _fmt(value)] for name, value in feature.summaries.items()]
        lines += _table(["Summary", "Value"], summary)
        lines.append("")
        rows = []
        for group in feature.groups:
            values = [_fmt(group.metrics.get(name)) for name in _SUMMARY_GROUP_METRICS]
            flag = "" if group.sufficient else "insufficient data"
            rows.append([md(group.label), str(group.rows), *values, flag])
        header = ["Group", "Rows", *_SUMMARY_GROUP_METRICS, "Note"]
        lines += _table(header, rows)
        lines.append("")
    return lines
