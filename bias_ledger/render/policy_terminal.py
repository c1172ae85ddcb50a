"""Rich rendering of a policy report: the verdict and each finding with its value and bound.

The table shows each part of a finding once: the ``note`` column says only what the other
columns do not (an interval, a baseline, why a group could not be judged).
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from bias_ledger.policy.report import Check, PolicyReport, RuleOutcome, Status
from bias_ledger.render.fit import Column, FittedTable
from bias_ledger.render.safe_text import safe as escape

_STYLES = {
    Status.FAIL: "bold red",
    Status.WARN: "yellow",
    Status.INSUFFICIENT_DATA: "yellow",
    Status.INCONCLUSIVE: "yellow",
}
_ORDER = (Status.FAIL, Status.WARN, Status.INCONCLUSIVE, Status.INSUFFICIENT_DATA)
MAX_FINDINGS = 20
"""Findings listed below --wide before "and N more rows"."""


def note(item: RuleOutcome) -> str:
    """What the finding's other columns do not already say."""
    measured = item.measured
    interval = measured.interval if measured is not None else None
    ci = f"{interval.level:.0%} CI [{interval.low:.4f}, {interval.high:.4f}]" if interval else ""
    if item.status is Status.INSUFFICIENT_DATA:
        return item.message.partition("has insufficient data: ")[2] or "not judged"
    if item.status is Status.INCONCLUSIVE:
        return f"{ci} straddles the bound" if ci else "the interval straddles the bound"
    if item.check is Check.REGRESSION and item.baseline is not None:
        base = item.baseline.value
        return "baseline undefined" if base is None else f"baseline {base:.4f}"
    if item.status is Status.NOT_APPLICABLE:
        return item.message.rpartition(f"{item.quantity} ")[2]
    return ci


def findings_table(report: PolicyReport) -> FittedTable:
    table = FittedTable(
        "Policy findings",
        [
            Column("rule", "left"),
            Column("scope", "left", wraps=True),
            Column("status", "left"),
            Column("quantity", "left"),
            Column("measured"),
            Column("bound", "left"),
            Column("note", "left", wraps=True),
        ],
        keys=2,
        limit=MAX_FINDINGS,
    )
    problems = sorted(
        report.problems,
        key=lambda item: _ORDER.index(item.status) if item.status in _ORDER else len(_ORDER),
    )
    for item in problems:
        measured = (
            "n/a"
            if item.measured is None or item.measured.value is None
            else f"{item.measured.value:.4f}"
        )
        table.add_row(
            escape(item.rule),
            escape(item.scope),
            Text(item.status.value, style=_STYLES.get(item.status, "")),
            escape(item.quantity),
            measured,
            escape(item.bound_text),
            escape(note(item)),
        )
    return table


def policy_summary(report: PolicyReport) -> RenderableType:
    verdict = Text("PASS", style="bold green") if report.passed else Text("FAIL", style="bold red")
    counts = ", ".join(f"{count} {status}" for status, count in report.counts.items() if count)
    head = Text.assemble(
        "policy ", (escape(report.policy_name), "bold"), ": ", verdict, f"  ({counts})"
    )
    if not report.problems:
        return head
    return Group(head, findings_table(report))


def policy_verdict_line(report: PolicyReport) -> Text:
    """The verdict in one line, for ``--quiet``: the policy, PASS or FAIL, counts per status."""
    verdict = Text("PASS", style="bold green") if report.passed else Text("FAIL", style="bold red")
    counts = ", ".join(f"{count} {status}" for status, count in report.counts.items() if count)
    return Text.assemble(
        "policy ", (escape(report.policy_name), "bold"), ": ", verdict, f"  ({counts})"
    )
