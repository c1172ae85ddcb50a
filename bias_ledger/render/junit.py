"""JUnit XML of a policy report: one test case per rule outcome, for CI test-report views.

Violations that fail the gate are ``<failure>``s carrying the measured value and the bound;
outcomes that could not be judged (insufficient data, inconclusive, not applicable) are
``<skipped>``; warn-severity violations pass, with their message in ``<system-out>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from bias_ledger.policy.report import PolicyReport, RuleOutcome, Status

# Characters XML 1.0 cannot carry at all, not even escaped; group names come from data.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SKIPPED = (Status.INSUFFICIENT_DATA, Status.INCONCLUSIVE, Status.NOT_APPLICABLE)


def _text(value: str) -> str:
    return _NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", value)


def _number(value: float | None) -> str:
    return "" if value is None else repr(value)


def _case_name(outcome: RuleOutcome) -> str:
    return f"{outcome.check.value}: {outcome.quantity} [{outcome.scope}]"


def _details(outcome: RuleOutcome) -> str:
    lines = [outcome.message, f"status: {outcome.status.value}", f"bound: {outcome.bound_text}"]
    if outcome.measured is not None:
        measured = outcome.measured
        shown = repr(measured.value) if measured.value is not None else "undefined"
        if measured.reason:
            shown += f" ({measured.reason})"
        if measured.interval is not None:
            interval = measured.interval
            shown += (
                f" [{interval.low!r}, {interval.high!r}] ({interval.level:.0%} {interval.method})"
            )
        lines.append(f"measured: {shown}")
    if outcome.baseline is not None:
        lines.append(f"baseline: {outcome.baseline.value!r}")
    return "\n".join(lines)


def _properties(parent: ET.Element, values: dict[str, str]) -> None:
    element = ET.SubElement(parent, "properties")
    for name, value in values.items():
        ET.SubElement(element, "property", name=name, value=_text(value))


def _testcase(suite: ET.Element, outcome: RuleOutcome, policy: str) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=_text(f"{policy}.{outcome.rule}"),
        name=_text(_case_name(outcome)),
        time="0",
    )
    measured = outcome.measured.value if outcome.measured is not None else None
    _properties(
        case,
        {
            "status": outcome.status.value,
            "severity": outcome.severity.value,
            "features": " x ".join(outcome.features),
            "group": ", ".join(outcome.group) if outcome.group is not None else "",
            "measured": _number(measured),
            "min": _number(outcome.bounds.min),
            "max": _number(outcome.bounds.max),
            "baseline": _number(outcome.baseline.value if outcome.baseline else None),
            "max_worsening": _number(outcome.max_worsening),
        },
    )
    if outcome.fails_gate:
        failure = ET.SubElement(
            case, "failure", message=_text(outcome.message), type=outcome.status.value
        )
        failure.text = _text(_details(outcome))
    elif outcome.status in _SKIPPED:
        ET.SubElement(case, "skipped", message=_text(outcome.message))
    if outcome.status is not Status.PASS and not outcome.fails_gate:
        ET.SubElement(case, "system-out").text = _text(_details(outcome))


def render_junit(report: PolicyReport, *, suite_name: str) -> str:
    """The report as a JUnit XML document (``<testsuites>`` with one ``<testsuite>``)."""
    failures = sum(1 for item in report.outcomes if item.fails_gate)
    skipped = sum(1 for item in report.outcomes if not item.fails_gate and item.status in _SKIPPED)
    totals = {
        "tests": str(len(report.outcomes)),
        "failures": str(failures),
        "errors": "0",
        "skipped": str(skipped),
        "time": "0",
    }
    attributes = {"name": _text(suite_name), **totals}
    root = ET.Element("testsuites", attributes)
    suite = ET.SubElement(root, "testsuite", attributes)
    _properties(
        suite,
        {
            "policy": report.policy_name,
            "policy_version": str(report.policy_version),
            "policy_digest": report.policy_digest,
            "verdict": report.verdict.value,
        },
    )
    for outcome in report.outcomes:
        _testcase(suite, outcome, report.policy_name)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
