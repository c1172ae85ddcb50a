"""The shipped sample policies on the shipped sample data: version 1 fails, version 2 passes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bias_ledger.metrics.counts import count_binary, encode_column
from bias_ledger.metrics.engine import compute_binary_metrics
from bias_ledger.metrics.model import MetricResults
from bias_ledger.policy import Check, Status, Verdict, evaluate_policy, load_policy

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
POLICIES = SAMPLE_DATA / "policies"


@pytest.fixture(scope="module")
def versions() -> dict[str, MetricResults]:
    frame = pd.read_csv(SAMPLE_DATA / "lending.csv")
    sensitive = [encode_column(name, frame[name].to_numpy()) for name in ("sex", "race_ethnicity")]
    label = frame["repaid"].to_numpy().astype(bool)
    return {
        version: compute_binary_metrics(
            count_binary(label, frame[f"approved_{version}"].to_numpy().astype(bool), sensitive)
        )
        for version in ("v1", "v2")
    }


@pytest.mark.parametrize("name", ["four-fifths.toml", "standard.toml"])
def test_version_1_fails_and_version_2_passes(
    versions: dict[str, MetricResults], name: str
) -> None:
    policy = load_policy(POLICIES / name)
    v1 = evaluate_policy(policy, versions["v1"])
    v2 = evaluate_policy(policy, versions["v2"])
    assert v1.verdict is Verdict.FAIL
    assert v2.verdict is Verdict.PASS
    assert v2.counts[Status.FAIL] == 0


def test_four_fifths_flags_exactly_the_groups_below_point_eight(
    versions: dict[str, MetricResults],
) -> None:
    report = evaluate_policy(load_policy(POLICIES / "four-fifths.toml"), versions["v1"])
    expected = {
        (feature, item.group)
        for feature in ("race_ethnicity", "sex")
        for item in versions["v1"].feature(feature).impact_ratios
        if item.below_four_fifths
    }
    failed = {(o.features[0], o.group) for o in report.outcomes if o.status is Status.FAIL}
    assert failed == expected
    assert expected  # the sample data is built so that version 1 fails


def test_regression_against_the_better_model_fails(versions: dict[str, MetricResults]) -> None:
    policy = load_policy(POLICIES / "regression.toml")
    worse = evaluate_policy(policy, versions["v1"], baseline=versions["v2"])
    same = evaluate_policy(policy, versions["v2"], baseline=versions["v2"])
    better = evaluate_policy(policy, versions["v2"], baseline=versions["v1"])
    assert worse.verdict is Verdict.FAIL
    assert same.verdict is Verdict.PASS and better.verdict is Verdict.PASS
    # Every failing outcome really did move past 0.02 in its worse direction.
    for outcome in worse.outcomes:
        if outcome.status is Status.FAIL:
            assert outcome.check is Check.REGRESSION
            assert outcome.measured is not None and outcome.baseline is not None
            now, before = outcome.measured.value, outcome.baseline.value
            assert now is not None and before is not None
            change = now - before if outcome.worse == "higher" else before - now
            assert change > 0.02


def test_regression_without_baseline_is_not_applicable(versions: dict[str, MetricResults]) -> None:
    report = evaluate_policy(load_policy(POLICIES / "regression.toml"), versions["v1"])
    assert report.verdict is Verdict.PASS
    assert {o.status for o in report.outcomes} == {Status.NOT_APPLICABLE}
    assert all("no baseline given" in o.message for o in report.outcomes)
