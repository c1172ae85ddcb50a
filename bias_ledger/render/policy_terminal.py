"""Rich rendering of a policy report: the verdict and each violation with value and bound."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from bias_ledger.policy.report import PolicyReport, Status

_STYLES = {
    Status.FAIL: "bold red",
    Status.WARN: "yellow",
    Status.INSUFFICIENT_DATA: "yellow",
    Status.INCONCLUSIVE: "yellow",
}


def policy_summary(report: PolicyReport) -> RenderableType:
    verdict = Text("PASS", style="bold green") if report.passed else Text("FAIL", style="bold red")
    counts = ", ".join(f"{count} {status}" for status, count in report.counts.items() if count)
    head = Text.assemble("policy ", (report.policy_name, "bold"), ": ", verdict, f"  ({counts})")
    problems = report.problems
    if not problems:
        return head
    table = Table(title="Policy findings", title_justify="left")
    for column in ("status", "rule", "scope", "quantity", "measured", "bound", "message"):
        table.add_column(column)
    for item in problems:
        measured = (
            "n/a"
            if item.measured is None or item.measured.value is None
            else (f"{item.measured.value:.4f}")
        )
        table.add_row(
            Text(item.status.value, style=_STYLES.get(item.status, "")),
            escape(item.rule),
            escape(item.scope),
            escape(item.quantity),
            measured,
            escape(item.bound_text),
            escape(item.message),
        )
    return Group(head, table)


def policy_verdict_line(report: PolicyReport) -> Text:
    """The verdict in one line, for ``--quiet``: the policy, PASS or FAIL, counts per status."""
    verdict = Text("PASS", style="bold green") if report.passed else Text("FAIL", style="bold red")
    counts = ", ".join(f"{count} {status}" for status, count in report.counts.items() if count)
    return Text.assemble("policy ", (report.policy_name, "bold"), ": ", verdict, f"  ({counts})")
