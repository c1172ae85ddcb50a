"""Impact ratios divide by the most-selected group WITH ENOUGH ROWS; small groups are shown,
marked and judged "insufficient data", never the bar for everyone.

Before: a group of 10 rows selected at 90% was the denominator, so a 1,000-row group selected
at 50% got 0.56 and failed the four-fifths rule; one extra row of a new group could flip it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from bias_ledger.metrics.model import FOUR_FIFTHS, ImpactDenominator, MetricResults
from bias_ledger.results_json import results_from_json

from .reference import audit

MIN = 30


def _rows(
    spec: dict[str, tuple[int, int]],
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.str_]]:
    """``group -> (rows, selected)``: predictions with those selection counts (labels 1/0)."""
    groups, preds = [], []
    for group, (rows, selected) in spec.items():
        groups += [group] * rows
        preds += [True] * selected + [False] * (rows - selected)
    labels = np.arange(len(preds)) % 2 == 0
    return labels, np.array(preds), np.array(groups)


SPEC = {"a": (1000, 500), "b": (1000, 450), "tiny": (10, 9)}


def _reference_ratios(
    groups: npt.NDArray[np.str_], preds: npt.NDArray[np.bool_], min_size: int
) -> tuple[str, dict[str, float]]:
    """The definition, by pandas: rate / max rate over groups of at least ``min_size`` rows."""
    frame = pd.DataFrame({"g": groups, "p": preds})
    stats = frame.groupby("g")["p"].agg(["mean", "size"])
    eligible = stats[stats["size"] >= min_size]
    denominator = str(eligible["mean"].idxmax())
    return denominator, {
        str(g): float(r) / eligible["mean"].max() for g, r in stats["mean"].items()
    }


def test_the_denominator_is_the_most_selected_sufficient_group() -> None:
    y_true, y_pred, groups = _rows(SPEC)
    feature = audit(y_true, y_pred, {"g": groups}, min_group_size=MIN).feature("g")
    denominator, expected = _reference_ratios(groups, y_pred, MIN)
    assert feature.impact_ratio_denominator == (denominator,) == ("a",)
    by_group = {item.group[0]: item for item in feature.impact_ratios}
    assert {g: item.impact_ratio.value for g, item in by_group.items()} == expected
    assert by_group["a"].impact_ratio.value == 1.0 and by_group["a"].below_four_fifths is False
    assert by_group["b"].impact_ratio.value == 0.9 and by_group["b"].below_four_fifths is False
    # Shown with its ratio (above 1), marked, and not judged.
    tiny = by_group["tiny"]
    assert tiny.impact_ratio.value == pytest.approx(1.8)
    assert tiny.sufficient is False and tiny.below_four_fifths is None


def test_one_row_of_a_new_group_changes_nobody_elses_ratio() -> None:
    before = audit(*_split(SPEC), min_group_size=MIN).feature("g")
    after = audit(*_split({**SPEC, "new": (1, 1)}), min_group_size=MIN).feature("g")
    kept = {item.group: item for item in before.impact_ratios}
    for item in after.impact_ratios:
        if item.group != ("new",):
            assert item == kept[item.group]
    assert after.impact_ratio_denominator == before.impact_ratio_denominator


def _split(
    spec: dict[str, tuple[int, int]],
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], dict[str, npt.NDArray[np.str_]]]:
    y_true, y_pred, groups = _rows(spec)
    return y_true, y_pred, {"g": groups}


def test_records_before_the_fix_recompute_with_their_rule() -> None:
    """MOST_SELECTED is how records without ``impact_ratio_denominator`` were computed."""
    y_true, y_pred, groups = _rows(SPEC)
    legacy = audit(
        y_true,
        y_pred,
        {"g": groups},
        min_group_size=MIN,
        impact_rule=ImpactDenominator.MOST_SELECTED,
    ).feature("g")
    by_group = {item.group[0]: item for item in legacy.impact_ratios}
    assert by_group["a"].impact_ratio.value == pytest.approx(0.5 / 0.9)
    assert by_group["a"].below_four_fifths is True
    assert by_group["tiny"].below_four_fifths is False
    from bias_ledger._audit import request_from_parameters

    old = {"label": "y", "prediction": "p", "sensitive": ["g"], "min_group_size": MIN}
    request = request_from_parameters(old, data=Path("d.csv"), predictions=None)
    assert request.impact_rule is ImpactDenominator.MOST_SELECTED
    new = {**old, "impact_ratio_denominator": "most_selected_sufficient"}
    request = request_from_parameters(new, data=Path("d.csv"), predictions=None)
    assert request.impact_rule is ImpactDenominator.MOST_SELECTED_SUFFICIENT


def test_no_sufficient_group_leaves_every_ratio_undefined_with_a_reason() -> None:
    y_true, y_pred, groups = _rows({"x": (10, 5), "y": (12, 3)})
    feature = audit(y_true, y_pred, {"g": groups}, min_group_size=MIN).feature("g")
    assert feature.impact_ratio_denominator is None
    for item in feature.impact_ratios:
        assert item.impact_ratio.value is None and item.below_four_fifths is None
        assert item.impact_ratio.reason == "no group with enough rows to be the denominator"


def test_intersections_use_the_same_rule() -> None:
    """The set-up audit's failure: most 'FAIL' rows of an intersection were false alarms."""
    rng = np.random.default_rng(5)
    sex = rng.choice(["f", "m", "x"], size=6000, p=[0.49, 0.49, 0.02])
    race = rng.choice(["r1", "r2", "r3"], size=6000, p=[0.6, 0.3, 0.1])
    selected = rng.random(6000) < np.where(race == "r3", 0.35, 0.6)
    small = (sex == "x") & (race == "r3")
    selected[small] = True  # a tiny intersection selected at 100%
    y_true = rng.random(6000) < 0.5
    results = audit(y_true, selected, {"sex": sex, "race": race}, min_group_size=MIN)
    feature = results.feature("sex", "race")
    keys = np.array([f"{s}|{r}" for s, r in zip(sex, race, strict=True)])
    denominator, expected = _reference_ratios(keys, selected, MIN)
    assert feature.impact_ratio_denominator == tuple(denominator.split("|"))
    for item in feature.impact_ratios:
        assert item.impact_ratio.value == pytest.approx(expected["|".join(item.group)], abs=1e-15)
        if item.sufficient:
            assert item.below_four_fifths == (expected["|".join(item.group)] < FOUR_FIFTHS)
    failing = {item.group for item in feature.impact_ratios if item.below_four_fifths}
    assert failing and all(group[1] == "r3" for group in failing)


def test_json_names_the_denominator_and_round_trips() -> None:
    y_true, y_pred, groups = _rows(SPEC)
    results = audit(y_true, y_pred, {"g": groups}, min_group_size=MIN)
    document = json.loads(json.dumps(results.to_json()))
    feature = document["features"][0]
    assert feature["impact_ratio_denominator"] == ["a"]
    assert [item["sufficient"] for item in feature["impact_ratios"]] == [True, True, False]
    again: MetricResults = results_from_json(document)
    assert again.feature("g").impact_ratio_denominator == ("a",)
    assert again.feature("g").impact_ratios == results.feature("g").impact_ratios


def test_bootstrap_intervals_divide_by_a_sufficient_group() -> None:
    from bias_ledger.metrics.bootstrap import bootstrap_intervals, with_intervals
    from bias_ledger.metrics.counts import count_binary, encode_column

    y_true, y_pred, groups = _rows(SPEC)
    table = count_binary(y_true, y_pred, [encode_column("g", groups)])
    results = audit(y_true, y_pred, {"g": groups}, min_group_size=MIN)
    boot = bootstrap_intervals(table, resamples=300, seed=3, min_group_size=MIN, results=results)
    attached = with_intervals(results, boot).feature("g")
    by_group = {item.group[0]: item for item in attached.impact_ratios}
    b = by_group["b"].impact_ratio.interval
    assert b is not None and b.low < 0.9 < b.high <= 1.0  # b over a, never over "tiny"


def test_a_policy_judges_a_small_group_insufficient_data(tmp_path: Path) -> None:
    from bias_ledger.policy import evaluate_policy, load_policy

    policy = tmp_path / "four-fifths.toml"
    policy.write_text(
        'version = 1\nname = "ff"\n[[rules]]\nname = "ff"\nfour_fifths = true\n'
        'features = ["g"]\nseverity = "error"\n'
    )
    y_true, y_pred, groups = _rows({**SPEC, "b": (1000, 350)})  # b: 0.35 / 0.5 = 0.7 fails
    report = evaluate_policy(
        load_policy(policy), audit(y_true, y_pred, {"g": groups}, min_group_size=MIN)
    )
    statuses = {item.group: item.status.value for item in report.outcomes}
    assert statuses == {("a",): "pass", ("b",): "fail", ("tiny",): "insufficient_data"}


def test_the_sample_audit_names_its_denominators(tmp_path: Path) -> None:
    """The README's set-up audit: only the Black groups fail, against 'female, White'."""
    from tests.ledger.helpers import SAMPLE, cli_env, run_cli

    config = SAMPLE / "bias-ledger.toml"
    env = cli_env(tmp_path)
    done = run_cli("audit", "--config", config, "--no-record", "--json", env=env)
    assert done.returncode == 0, done.stderr
    from bias_ledger.results_layout import expanded

    document = expanded(json.loads(done.stdout))  # schema 3 holds the group once, in groups
    features = {tuple(f["features"]): f for f in document["results"]["features"]}
    assert features[("race_ethnicity",)]["impact_ratio_denominator"] == ["White"]
    assert features[("sex",)]["impact_ratio_denominator"] == ["nonbinary"]
    both = features[("sex", "race_ethnicity")]
    assert both["impact_ratio_denominator"] == ["female", "White"]
    failing = sorted(tuple(i["group"]) for i in both["impact_ratios"] if i["below_four_fifths"])
    assert failing == [("female", "Black"), ("male", "Black"), ("nonbinary", "Black")]
    small = sorted(tuple(i["group"]) for i in both["impact_ratios"] if not i["sufficient"])
    assert small == [("nonbinary", "Asian"), ("nonbinary", "Native American")]
    shown = run_cli("audit", "--config", config, "--no-record", env=env)
    assert "│ female, White (denominator) " in shown.stdout
    table = shown.stdout.split("Impact ratios (four-fifths rule): sex x race_ethnicity")[1]
    table = table.split("Summaries")[0]
    assert table.count("insufficient data") == 2 and table.count("FAIL") == 3
