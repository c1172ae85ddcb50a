"""JUnit XML of policy reports, read back with junitparser as a CI server would."""

from __future__ import annotations

from pathlib import Path

from junitparser import Failure, JUnitXml, Properties, Skipped, TestCase

from bias_ledger.policy import PolicyReport, Status, evaluate_policy
from bias_ledger.render.junit import render_junit
from tests.policy.builders import lending, policy, with_interval
from tests.policy.hostile import HOSTILE_NAMES, hostile_results

MIXED = """version = 1
name = "mixed"
[[rules]]
name = "ff"
four_fifths = true
feature = "sex"
[[rules]]
name = "dp-warn"
summary = "demographic_parity_ratio"
min = 0.9
severity = "warn"
feature = "sex"
[[rules]]
name = "small"
four_fifths = true
intersection = ["sex", "race"]
min_group_size = 1000
[[rules]]
name = "regress"
summary = "demographic_parity_difference"
max_worsening = 0.01
feature = "race"
"""


def parse(tmp_path: Path, report: PolicyReport) -> JUnitXml:
    path = tmp_path / "report.xml"
    path.write_text(render_junit(report, suite_name="fairness"), encoding="utf-8")
    return JUnitXml.fromfile(str(path))


def cases(xml: JUnitXml) -> list[TestCase]:
    return [case for suite in xml for case in suite]


def properties(case: TestCase) -> dict[str, str]:
    found = case.child(Properties)  # type: ignore[no-untyped-call]
    assert found is not None
    return {prop.name: prop.value for prop in found}


def test_one_case_per_outcome_with_failures_and_skips(tmp_path: Path) -> None:
    report = evaluate_policy(policy(tmp_path, MIXED), lending(30, 60))
    xml = parse(tmp_path, report)
    (suite,) = list(xml)
    found = cases(xml)
    assert len(found) == len(report.outcomes) == suite.tests
    for case, outcome in zip(found, report.outcomes, strict=True):
        assert case.classname == f"mixed.{outcome.rule}"
        assert properties(case)["status"] == outcome.status.value
        results = case.result
        if outcome.fails_gate:
            assert isinstance(results[0], Failure)
        elif outcome.status in (Status.INSUFFICIENT_DATA, Status.NOT_APPLICABLE):
            assert isinstance(results[0], Skipped)
        else:
            assert case.is_passed
    assert suite.failures == sum(o.fails_gate for o in report.outcomes) > 0
    assert suite.skipped == report.counts["insufficient_data"] + report.counts["not_applicable"]
    assert {"warn", "insufficient_data", "not_applicable", "fail"} <= {
        properties(case)["status"] for case in found
    }


def test_failure_carries_measured_value_and_bound(tmp_path: Path) -> None:
    report = evaluate_policy(policy(tmp_path, MIXED), lending(30, 60))
    xml = parse(tmp_path, report)
    failing = [o for o in report.outcomes if o.fails_gate]
    for case in cases(xml):
        if not case.is_failure:
            continue
        outcome = next(o for o in failing if properties(case)["group"] == ", ".join(o.group or ()))
        assert outcome.measured is not None and outcome.measured.value is not None
        (failure,) = case.result
        assert failure.message is not None and ">= 0.8" in failure.message
        assert failure.text is not None and repr(outcome.measured.value) in failure.text
        assert float(properties(case)["measured"]) == outcome.measured.value
        assert float(properties(case)["min"]) == 0.8


def test_hostile_group_names_survive_xml(tmp_path: Path) -> None:
    rules = policy(tmp_path, "version = 1\n[[rules]]\nfour_fifths = true\n")
    report = evaluate_policy(rules, hostile_results())
    xml = parse(tmp_path, report)
    groups = {properties(case)["group"] for case in cases(xml)}
    # XML 1.0 cannot carry \x01 at all: it is spelled out; everything else round-trips.
    expected = {name.replace("\x01", "\\x01") for name in HOSTILE_NAMES}
    # XML attribute normalisation turns \r\n and \n into spaces unless escaped; ElementTree
    # escapes them, so the names come back exactly.
    assert groups == expected
    assert any(case.is_failure for case in cases(xml))


def test_inconclusive_is_skipped_with_its_reason(tmp_path: Path) -> None:
    data = with_interval(lending(30, 60), ("sex",), "demographic_parity_ratio", 0.3, 0.85)
    rules = policy(
        tmp_path,
        "version = 1\n[[rules]]\nsummary = 'demographic_parity_ratio'\nmin = 0.8\n"
        "feature = 'sex'\ninconclusive = true\n",
    )
    report = evaluate_policy(rules, data)
    (case,) = cases(parse(tmp_path, report))
    (skipped,) = case.result
    assert isinstance(skipped, Skipped)
    assert skipped.message is not None and "interval straddles the bound" in skipped.message
    assert properties(case)["status"] == "inconclusive"
