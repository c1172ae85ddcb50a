"""evaluate_policy: every outcome status, the verdict, scopes, regression and inconclusive."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bias_ledger.errors import PolicyError
from bias_ledger.ledger.canonical import decode, encode
from bias_ledger.metrics.model import MetricResults, Task, Value
from bias_ledger.policy import (
    Check,
    PolicyReport,
    Status,
    Verdict,
    evaluate_policy,
)
from tests.policy.builders import (
    flag_insufficient,
    lending,
    policy,
    results,
    with_interval,
    with_summary,
)

V = "version = 1\n"
FAIR = lending(55, 60)  # F/M selection rates 0.55 / 0.60: impact ratio above 0.8
UNFAIR = lending(30, 60)  # 0.30 / 0.60: impact ratio 0.5


def statuses(report: PolicyReport) -> list[Status]:
    return [item.status for item in report.outcomes]


def test_four_fifths_fails_below_threshold_and_measures_the_engine_value(tmp_path: Path) -> None:
    rules = policy(tmp_path, V + "[[rules]]\nfour_fifths = true\nfeature = 'sex'\n")
    report = evaluate_policy(rules, UNFAIR)
    by_group = {item.group: item for item in report.outcomes}
    for ratio in UNFAIR.feature("sex").impact_ratios:
        outcome = by_group[ratio.group]
        assert outcome.measured == ratio.impact_ratio
        assert outcome.status is (Status.FAIL if ratio.below_four_fifths else Status.PASS)
    assert report.verdict is Verdict.FAIL
    assert evaluate_policy(rules, FAIR).verdict is Verdict.PASS


def test_warn_severity_reports_without_failing(tmp_path: Path) -> None:
    rules = policy(
        tmp_path,
        V + "[[rules]]\nsummary = 'demographic_parity_ratio'\nmin = 0.8\nseverity = 'warn'\n",
    )
    report = evaluate_policy(rules, UNFAIR)
    assert Status.WARN in statuses(report) and Status.FAIL not in statuses(report)
    assert report.verdict is Verdict.PASS
    assert not any(item.fails_gate for item in report.outcomes)


def test_summary_rule_over_all_features_covers_the_intersection(tmp_path: Path) -> None:
    rules = policy(
        tmp_path, V + "[[rules]]\nsummary = 'demographic_parity_difference'\nmax = 0.1\n"
    )
    report = evaluate_policy(rules, UNFAIR)
    assert [item.features for item in report.outcomes] == [f.features for f in UNFAIR.features]
    for outcome in report.outcomes:
        value = UNFAIR.feature(*outcome.features).summaries["demographic_parity_difference"]
        assert outcome.measured == value
        assert value.value is not None
        assert outcome.status is (Status.FAIL if value.value > 0.1 else Status.PASS)


def test_intersection_scope_matches_in_any_order(tmp_path: Path) -> None:
    rules = policy(tmp_path, V + "[[rules]]\nfour_fifths = true\nintersection = ['race', 'sex']\n")
    report = evaluate_policy(rules, UNFAIR)
    assert {item.features for item in report.outcomes} == {("sex", "race")}
    assert len(report.outcomes) == len(UNFAIR.feature("sex", "race").groups)


def test_unknown_feature_is_a_policy_error(tmp_path: Path) -> None:
    rules = policy(tmp_path, V + "[[rules]]\nfour_fifths = true\nfeatures = ['sex', 'age']\n")
    with pytest.raises(PolicyError, match=r"names sensitive feature 'age'.*they have: sex, race"):
        evaluate_policy(rules, UNFAIR)


def test_non_binary_results_are_a_policy_error(tmp_path: Path) -> None:
    rules = policy(tmp_path, V + "[[rules]]\nfour_fifths = true\n")
    with pytest.raises(PolicyError, match="binary classification"):
        evaluate_policy(rules, dataclasses.replace(UNFAIR, task=Task.REGRESSION))


def test_group_metric_is_judged_per_group(tmp_path: Path) -> None:
    rules = policy(
        tmp_path, V + "[[rules]]\ngroup_metric = 'selection_rate'\nmin = 0.5\nfeature = 'sex'\n"
    )
    report = evaluate_policy(rules, UNFAIR)
    for group in UNFAIR.feature("sex").groups:
        (outcome,) = [item for item in report.outcomes if item.group == group.group]
        value = group.metrics["selection_rate"].value
        assert value is not None
        assert outcome.status is (Status.FAIL if value < 0.5 else Status.PASS)


def test_disparity_kinds(tmp_path: Path) -> None:
    rules = policy(
        tmp_path,
        V
        + "[[rules]]\nname = 'ratio'\ndisparity = 'selection_rate'\n"
        + "kind = 'between_groups_ratio'\nmin = 0.8\nfeature = 'sex'\n"
        + "[[rules]]\nname = 'ref'\ndisparity = 'selection_rate'\n"
        + "kind = 'to_reference_difference'\n"
        + "min = -0.1\nmax = 0.1\nfeature = 'sex'\n",
    )
    report = evaluate_policy(rules, UNFAIR)
    sex = UNFAIR.feature("sex")
    ratio = [item for item in report.outcomes if item.rule == "ratio"]
    assert [item.measured for item in ratio] == [
        sex.disparity("selection_rate").between_groups_ratio
    ]
    ref = [item for item in report.outcomes if item.rule == "ref"]
    # One outcome per non-reference group, each measuring that group's comparison.
    expected = {
        item.group: item.difference
        for item in sex.disparity("selection_rate").to_reference
        if item.group != sex.reference
    }
    assert {item.group: item.measured for item in ref} == expected
    assert all(item.status is Status.FAIL for item in ref)


def test_group_below_min_group_size_is_insufficient_data(tmp_path: Path) -> None:
    text = (
        V + "[[rules]]\nfour_fifths = true\nintersection = ['sex', 'race']\nmin_group_size = {n}\n"
    )
    small = evaluate_policy(policy(tmp_path, text.format(n=101)), UNFAIR)
    assert set(statuses(small)) == {Status.INSUFFICIENT_DATA}
    assert "has 100 rows, fewer than min_group_size 101" in small.outcomes[0].message
    assert small.verdict is Verdict.PASS  # insufficient = "warn" by default
    enough = evaluate_policy(policy(tmp_path, text.format(n=100)), UNFAIR)
    assert Status.INSUFFICIENT_DATA not in statuses(enough)


def test_insufficient_fail_fails_the_gate_only_for_error_rules(tmp_path: Path) -> None:
    text = V + (
        "[[rules]]\nfour_fifths = true\nfeature = 'sex'\nmin_group_size = 1000\n"
        "insufficient = 'fail'\nseverity = '{severity}'\n"
    )
    error = evaluate_policy(policy(tmp_path, text.format(severity="error")), FAIR)
    assert set(statuses(error)) == {Status.INSUFFICIENT_DATA}
    assert error.verdict is Verdict.FAIL
    warn = evaluate_policy(policy(tmp_path, text.format(severity="warn")), FAIR)
    assert warn.verdict is Verdict.PASS


def test_engine_flagged_group_is_insufficient_and_summary_skips_it(tmp_path: Path) -> None:
    flagged = flag_insufficient(UNFAIR, ("sex",), ("F",))
    rules = policy(
        tmp_path,
        V
        + "[[rules]]\nname = 'ir'\nfour_fifths = true\nfeature = 'sex'\n"
        + "[[rules]]\nname = 'dp'\nsummary = 'demographic_parity_ratio'\nmin = 0.8\n"
        + "feature = 'sex'\n",
    )
    report = evaluate_policy(rules, flagged)
    by_key = {(item.rule, item.group): item for item in report.outcomes}
    assert by_key[("ir", ("F",))].status is Status.INSUFFICIENT_DATA
    assert "flagged insufficient data" in by_key[("ir", ("F",))].message
    assert by_key[("ir", ("M",))].status is Status.PASS
    # With one of two groups left, a between-groups summary compares nothing.
    assert by_key[("dp", None)].status is Status.INSUFFICIENT_DATA
    assert "fewer than two groups" in by_key[("dp", None)].message


def test_undefined_value_is_insufficient_never_zero(tmp_path: Path) -> None:
    # Group B has no actual positives, so its false negative rate is 0/0.
    data = results({("A",): (40, 10, 40, 10), ("B",): (0, 10, 90, 0)}, ("grp",))
    undefined = data.feature("grp").group(("B",)).metrics["false_negative_rate"]
    assert undefined.value is None
    rules = policy(tmp_path, V + "[[rules]]\ngroup_metric = 'false_negative_rate'\nmax = 0.3\n")
    report = evaluate_policy(rules, data)
    (outcome,) = [item for item in report.outcomes if item.group == ("B",)]
    assert outcome.status is Status.INSUFFICIENT_DATA
    assert outcome.measured == undefined
    assert f"undefined: {undefined.reason}" in outcome.message


def test_undefined_summary_is_insufficient(tmp_path: Path) -> None:
    data = with_summary(FAIR, ("sex",), "equalized_odds_ratio", Value(None, reason="0/0 here"))
    rules = policy(
        tmp_path, V + "[[rules]]\nsummary = 'equalized_odds_ratio'\nmin = 0.8\nfeature = 'sex'\n"
    )
    (outcome,) = evaluate_policy(rules, data).outcomes
    assert outcome.status is Status.INSUFFICIENT_DATA and "0/0 here" in outcome.message


@pytest.mark.parametrize(
    ("fair", "low", "high", "inconclusive", "expected"),
    [
        (True, 0.75, 0.95, True, Status.INCONCLUSIVE),  # straddles min 0.8
        (False, 0.45, 0.85, True, Status.INCONCLUSIVE),
        (True, 0.75, 0.95, False, Status.PASS),  # not asked for: judged on the point value
        (False, 0.45, 0.85, False, Status.FAIL),
        (True, 0.85, 0.95, True, Status.PASS),  # surely above
        (False, 0.4, 0.6, True, Status.FAIL),  # surely below
    ],
)
def test_inconclusive_when_interval_straddles_the_bound(
    tmp_path: Path, fair: bool, low: float, high: float, inconclusive: bool, expected: Status
) -> None:
    data = FAIR if fair else UNFAIR
    point = data.feature("sex").summaries["demographic_parity_ratio"].value
    assert point is not None and low < point < high  # the intervals are realistic
    rules = policy(
        tmp_path,
        V
        + "[[rules]]\nsummary = 'demographic_parity_ratio'\nmin = 0.8\nfeature = 'sex'\n"
        + f"inconclusive = {str(inconclusive).lower()}\n",
    )
    with_ci = with_interval(data, ("sex",), "demographic_parity_ratio", low, high)
    (outcome,) = evaluate_policy(rules, with_ci).outcomes
    assert outcome.status is expected
    assert outcome.fails_gate is (expected is Status.FAIL)


def test_inconclusive_on_max_bound(tmp_path: Path) -> None:
    rules = policy(
        tmp_path,
        V
        + "[[rules]]\nsummary = 'demographic_parity_difference'\nmax = 0.1\ninconclusive = true\n"
        + "feature = 'sex'\n",
    )
    data = with_interval(FAIR, ("sex",), "demographic_parity_difference", 0.02, 0.15)
    (outcome,) = evaluate_policy(rules, data).outcomes
    assert outcome.status is Status.INCONCLUSIVE
    assert evaluate_policy(rules, data).verdict is Verdict.PASS


REGRESSION = (
    V
    + "[[rules]]\nsummary = 'demographic_parity_ratio'\nfeature = 'sex'\nmax_worsening = {delta}\n"
)


def test_regression_fails_past_delta_and_passes_within(tmp_path: Path) -> None:
    before = FAIR.feature("sex").summaries["demographic_parity_ratio"].value
    after = UNFAIR.feature("sex").summaries["demographic_parity_ratio"].value
    assert before is not None and after is not None and after < before
    drop = before - after
    tight = policy(tmp_path, REGRESSION.format(delta=round(drop / 2, 6)))
    loose = policy(tmp_path, REGRESSION.format(delta=round(drop * 2, 6)))
    (failed,) = evaluate_policy(tight, UNFAIR, baseline=FAIR).outcomes
    assert failed.status is Status.FAIL and failed.check is Check.REGRESSION
    assert failed.baseline == FAIR.feature("sex").summaries["demographic_parity_ratio"]
    assert failed.worse == "lower"
    assert evaluate_policy(loose, UNFAIR, baseline=FAIR).verdict is Verdict.PASS
    # Improving is never a regression, however tight the delta.
    assert evaluate_policy(tight, FAIR, baseline=UNFAIR).verdict is Verdict.PASS


def test_regression_direction_can_be_overridden(tmp_path: Path) -> None:
    rules = policy(tmp_path, REGRESSION.format(delta=0.01) + "worse = 'higher'\n")
    assert evaluate_policy(rules, UNFAIR, baseline=FAIR).verdict is Verdict.PASS
    assert evaluate_policy(rules, FAIR, baseline=UNFAIR).verdict is Verdict.FAIL


def test_regression_without_baseline(tmp_path: Path) -> None:
    optional = policy(tmp_path, REGRESSION.format(delta=0.01))
    (outcome,) = evaluate_policy(optional, UNFAIR).outcomes
    assert outcome.status is Status.NOT_APPLICABLE and "no baseline given" in outcome.message
    required = policy(tmp_path, REGRESSION.format(delta=0.01) + "baseline_required = true\n")
    report = evaluate_policy(required, UNFAIR)
    assert report.outcomes[0].status is Status.FAIL and report.verdict is Verdict.FAIL


def test_regression_baseline_without_the_feature_is_not_applicable(tmp_path: Path) -> None:
    other = results({("x",): (10, 10, 10, 10), ("y",): (10, 10, 10, 10)}, ("region",))
    rules = policy(tmp_path, REGRESSION.format(delta=0.01))
    (outcome,) = evaluate_policy(rules, UNFAIR, baseline=other).outcomes
    assert (
        outcome.status is Status.NOT_APPLICABLE
        and "baseline has no such feature" in outcome.message
    )


def test_bounds_and_regression_in_one_rule_give_two_outcomes(tmp_path: Path) -> None:
    rules = policy(tmp_path, REGRESSION.format(delta=0.5) + "min = 0.8\n")
    report = evaluate_policy(rules, UNFAIR, baseline=FAIR)
    assert [(o.check, o.status) for o in report.outcomes] == [
        (Check.BOUNDS, Status.FAIL),
        (Check.REGRESSION, Status.PASS),
    ]


def test_report_counts_json_round_trip_and_canonical_encoding(tmp_path: Path) -> None:
    rules = policy(
        tmp_path,
        V + "[[rules]]\nfour_fifths = true\n[[rules]]\nsummary = '*'\nmax_worsening = 0.0\n",
    )
    data: MetricResults = with_interval(UNFAIR, ("sex",), "demographic_parity_ratio", 0.4, 0.6)
    report = evaluate_policy(rules, data, baseline=FAIR)
    assert sum(report.counts.values()) == len(report.outcomes)
    assert report.counts["fail"] == sum(o.status is Status.FAIL for o in report.outcomes)
    as_json = report.to_json()
    assert decode(encode(as_json)) == as_json
    assert PolicyReport.from_json(as_json) == report
    assert as_json["policy"]["digest"] == rules.digest


def test_star_disparity_covers_every_metric_the_engine_computed(tmp_path: Path) -> None:
    rules = policy(
        tmp_path,
        V + "[[rules]]\ndisparity = '*'\nkind = 'to_overall_difference'\nmax = 1.0\n"
        "feature = 'sex'\n",
    )
    report = evaluate_policy(rules, UNFAIR)
    sex = UNFAIR.feature("sex")
    assert [o.metric for o in report.outcomes] == [d.metric for d in sex.disparities]
    assert [o.measured for o in report.outcomes] == [
        d.to_overall_difference for d in sex.disparities
    ]
