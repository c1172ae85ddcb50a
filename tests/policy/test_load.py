"""Loading policy files: the valid forms, and one test per validation error."""

from __future__ import annotations

from pathlib import Path

import blake3
import pytest

from bias_ledger.errors import ExitCode, PolicyError
from bias_ledger.metrics.model import FOUR_FIFTHS
from bias_ledger.policy import (
    DisparityKind,
    InsufficientMode,
    ScopeKind,
    Severity,
    TargetKind,
    load_policy,
)
from tests.policy.builders import policy

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data" / "policies"
V = "version = 1\n"
RULE = '[[rules]]\nname = "r"\n'


def test_full_rule_is_read_with_every_field(tmp_path: Path) -> None:
    loaded = policy(
        tmp_path,
        """
version = 1
name = "lending"
description = "demo"
[defaults]
severity = "warn"
min_group_size = 40
insufficient = "fail"
inconclusive = true

[[rules]]
name = "tpr-gap"
disparity = "true_positive_rate"
kind = "to_reference_ratio"
intersection = ["race", "sex"]
min = 0.7
max = 1.3
max_worsening = 0.05
worse = "lower"
baseline_required = true
severity = "error"
min_group_size = 10
insufficient = "warn"
inconclusive = false

[[rules]]
four_fifths = true
threshold = 0.75
""",
    )
    assert loaded.name == "lending" and loaded.version == 1 and loaded.description == "demo"
    first, second = loaded.rules
    assert first.id == "tpr-gap" and first.target is TargetKind.DISPARITY
    assert first.disparity_kind is DisparityKind.TO_REFERENCE_RATIO
    assert first.scope.kind is ScopeKind.INTERSECTION and first.scope.features == ("race", "sex")
    assert (first.bounds.min, first.bounds.max) == (0.7, 1.3)
    assert first.regression is not None and first.regression.required
    assert first.severity is Severity.ERROR and first.min_group_size == 10
    assert first.insufficient is InsufficientMode.WARN and first.inconclusive is False
    # The second rule takes every setting from [defaults].
    assert second.id == "rule-2" and second.target is TargetKind.IMPACT_RATIO
    assert second.bounds.min == 0.75 and second.scope.kind is ScopeKind.ALL
    assert second.severity is Severity.WARN and second.min_group_size == 40
    assert second.insufficient is InsufficientMode.FAIL and second.inconclusive is True


def test_four_fifths_defaults_to_the_eeoc_threshold_and_name_to_file_stem(tmp_path: Path) -> None:
    loaded = policy(tmp_path, "version = 1\n[[rules]]\nfour_fifths = true\n", name="ff.toml")
    assert loaded.name == "ff"
    assert loaded.rules[0].bounds.min == FOUR_FIFTHS
    assert loaded.rules[0].severity is Severity.ERROR


def test_digest_is_blake3_of_the_file_bytes(tmp_path: Path) -> None:
    loaded = policy(tmp_path, "version = 1\n[[rules]]\nsummary = '*'\nmax_worsening = 0.0\n")
    assert loaded.digest == blake3.blake3((tmp_path / "policy.toml").read_bytes()).hexdigest()


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.toml")), ids=lambda path: path.name)
def test_sample_policies_load(path: Path) -> None:
    assert load_policy(path).rules


def test_samples_exist() -> None:
    assert {p.name for p in SAMPLES.glob("*.toml")} >= {
        "four-fifths.toml",
        "standard.toml",
        "regression.toml",
    }


BAD = {
    "not_toml": ("version = = 1", ["not valid TOML"]),
    "missing_version": ("[[rules]]\nfour_fifths = true\n", ["missing 'version'"]),
    "unknown_version": ("version = 2\n" + RULE + "four_fifths = true\n", ["version 2"]),
    "string_version": ('version = "1"\n' + RULE + "four_fifths = true\n", ["version '1'"]),
    "unknown_top_key": ("version = 1\nrule = []\n", ["unknown key 'rule'", "did you mean 'rules'"]),
    "no_rules": ("version = 1\n", ["at least one [[rules]]"]),
    "rules_not_tables": ("version = 1\nrules = [1]\n", ["rule #1", "must be a table"]),
    "unknown_default": (
        "version = 1\n[defaults]\nseverty = 'warn'\n" + RULE + "four_fifths = true\n",
        ["unknown key 'severty'", "did you mean 'severity'"],
    ),
    "bad_default_value": (
        "version = 1\n[defaults]\nseverity = 'fatal'\n" + RULE + "four_fifths = true\n",
        ["[defaults]", "severity must be one of"],
    ),
    "unknown_rule_key": (
        V + RULE + "summary = 'demographic_parity_ratio'\nmaximum = 0.2\n",
        ["rule #1 ('r')", "unknown key 'maximum'"],
    ),
    "unknown_summary": (
        V + RULE + "summary = 'demographic_parity_ration'\nmin = 0.8\n",
        ["unknown summary 'demographic_parity_ration'", "did you mean 'demographic_parity_ratio'"],
    ),
    "group_metric_as_summary": (
        V + RULE + "summary = 'selection_rate'\nmin = 0.8\n",
        ["'selection_rate' is a per-group metric"],
    ),
    "summary_as_group_metric": (
        V + RULE + "group_metric = 'demographic_parity_ratio'\nmin = 0.8\n",
        ["is a summary metric"],
    ),
    "unknown_group_metric": (
        V + RULE + "group_metric = 'false_negativ_rate'\nmax = 0.3\n",
        ["unknown group metric", "did you mean 'false_negative_rate'"],
    ),
    "unknown_disparity_metric": (
        V + RULE + "disparity = 'count'\nmax = 3\n",
        ["unknown disparity metric 'count'"],
    ),
    "unknown_disparity_kind": (
        V + RULE + "disparity = 'selection_rate'\nkind = 'between_group_ratio'\nmin = 0.8\n",
        ["kind must be one of", "did you mean 'between_groups_ratio'"],
    ),
    "kind_without_disparity": (
        V + RULE + "summary = 'demographic_parity_ratio'\nkind = 'to_overall_ratio'\nmin = 0.8\n",
        ["'kind' only applies to disparity rules"],
    ),
    "star_group_metric": (V + RULE + "group_metric = '*'\nmax = 0.3\n", ["'*' is not allowed"]),
    "contradictory_bounds": (
        V + RULE + "summary = 'demographic_parity_ratio'\nmin = 0.9\nmax = 0.8\n",
        ["contradictory bounds: min 0.9 is greater than max 0.8"],
    ),
    "string_bound": (
        V + RULE + "summary = 'demographic_parity_ratio'\nmin = '0.8'\n",
        ["min must be a number, found a string '0.8'"],
    ),
    "boolean_bound": (
        V + RULE + "summary = 'demographic_parity_ratio'\nmax = true\n",
        ["max must be a number, found a boolean"],
    ),
    "nan_bound": (
        V + RULE + "summary = 'demographic_parity_ratio'\nmin = nan\n",
        ["min must be a finite number"],
    ),
    "bad_severity": (
        V + RULE + "four_fifths = true\nseverity = 'fatal'\n",
        ["severity must be one of 'error', 'warn', found 'fatal'"],
    ),
    "bad_insufficient": (
        V + RULE + "four_fifths = true\ninsufficient = 'ignore'\n",
        ["insufficient must be one of 'warn', 'fail'"],
    ),
    "bad_inconclusive": (V + RULE + "four_fifths = true\ninconclusive = 1\n", ["true or false"]),
    "negative_group_size": (
        V + RULE + "four_fifths = true\nmin_group_size = -1\n",
        ["min_group_size must be a whole number >= 0, found -1"],
    ),
    "fractional_group_size": (
        V + RULE + "four_fifths = true\nmin_group_size = 2.5\n",
        ["min_group_size must be a whole number"],
    ),
    "no_target": (V + RULE + "min = 0.8\n", ["exactly one of", "found none"]),
    "two_targets": (
        V + RULE + "summary = 'demographic_parity_ratio'\nfour_fifths = true\n",
        ["exactly one of", "found summary, four_fifths"],
    ),
    "nothing_to_check": (
        V + RULE + "summary = 'demographic_parity_ratio'\n",
        ["nothing to check"],
    ),
    "four_fifths_false": (V + RULE + "four_fifths = false\n", ["four_fifths must be true"]),
    "four_fifths_with_min": (
        V + RULE + "four_fifths = true\nmin = 0.7\n",
        ["use threshold, not min"],
    ),
    "threshold_out_of_range": (
        V + RULE + "four_fifths = true\nthreshold = 1.5\n",
        ["threshold must be in (0, 1]"],
    ),
    "threshold_without_four_fifths": (
        V + RULE + "impact_ratio = true\nmin = 0.8\nthreshold = 0.8\n",
        ["'threshold' only applies"],
    ),
    "negative_worsening": (
        V + RULE + "summary = '*'\nmax_worsening = -0.1\n",
        ["max_worsening must be >= 0"],
    ),
    "worse_without_worsening": (
        V + RULE + "summary = 'demographic_parity_ratio'\nmin = 0.8\nworse = 'lower'\n",
        ["worse only applies with max_worsening"],
    ),
    "no_default_direction": (
        V + RULE + "group_metric = 'selection_rate'\nmax_worsening = 0.02\n",
        ["no default direction for 'selection_rate'", 'worse = "higher" or "lower"'],
    ),
    "two_scopes": (
        V + RULE + "four_fifths = true\nfeature = 'sex'\nfeatures = ['race']\n",
        ["at most one of feature, features, intersection"],
    ),
    "one_feature_intersection": (
        V + RULE + "four_fifths = true\nintersection = ['sex']\n",
        ["intersection needs at least two"],
    ),
    "feature_list": (
        V + RULE + "four_fifths = true\nfeature = ['sex', 'race']\n",
        ["feature takes one name"],
    ),
    "empty_features": (V + RULE + "four_fifths = true\nfeatures = []\n", ["non-empty array"]),
    "duplicate_names": (
        V + RULE + "four_fifths = true\n" + RULE + "impact_ratio = true\nmin = 0.5\n",
        ["rule #2 ('r')", "used twice"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD), ids=str)
def test_invalid_policy_names_file_rule_and_expectation(tmp_path: Path, case: str) -> None:
    text, expected = BAD[case]
    with pytest.raises(PolicyError) as caught:
        policy(tmp_path, text, name="bad.toml")
    message = caught.value.diagnostics()
    assert "\n" not in message
    assert message.startswith(str(tmp_path / "bad.toml") + ":")
    for part in expected:
        assert part in message
    assert caught.value.exit_code is ExitCode.USAGE


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file .*nope.toml"):
        load_policy(tmp_path / "nope.toml")


def test_non_utf8_file_is_a_policy_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b"version = 1\nname = '\xe9'\n")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy(path)
