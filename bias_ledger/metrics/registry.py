"""The metric registry: every metric and summary, declared once.

Each :class:`Metric` says its key (named as fairlearn's or scikit-learn's function), its
formula from the sufficient statistics, when it is undefined and why, its display names, which
way is worse, and its fairlearn/scikit-learn counterpart for the cross-check. The engines, the
renderers, the cross-check, the policy loader, the pandas views and the results JSON schema read
these lists; adding a metric is one entry here (``tests/metrics/test_registry.py`` proves that
it reaches every one of them, and that older records still recompute).

Standard library only: the policy loader and the renderers import it cheaply. The types of
the entries are in :mod:`bias_ledger.metrics.metric_types`.
"""

from __future__ import annotations

import math

from bias_ledger.metrics.metric_types import ALL_CELLS as _ALL
from bias_ledger.metrics.metric_types import FN as FN
from bias_ledger.metrics.metric_types import FP as FP
from bias_ledger.metrics.metric_types import TN as TN
from bias_ledger.metrics.metric_types import TP as TP
from bias_ledger.metrics.metric_types import Counterpart as Counterpart
from bias_ledger.metrics.metric_types import Family as Family
from bias_ledger.metrics.metric_types import Metric as Metric
from bias_ledger.metrics.metric_types import Rate as Rate
from bias_ledger.metrics.metric_types import Shown as Shown
from bias_ledger.metrics.metric_types import Summary as Summary
from bias_ledger.metrics.metric_types import Worse as Worse

_POSITIVES = "no actual positives (TP + FN = 0)"
_NEGATIVES = "no actual negatives (TN + FP = 0)"
_PREDICTED_POSITIVES = "no predicted positives (TP + FP = 0)"
_PREDICTED_NEGATIVES = "no predicted negatives (TN + FN = 0)"
_FL = "fairlearn.metrics."
_SK = "sklearn.metrics."
_NAN = {"zero_division": math.nan}


def _binary(
    key: str,
    name: str,
    column: str,
    rate: Rate,
    *,
    worse: Worse = Worse.NEITHER,
    shown: Shown = Shown.DETAIL,
    counterpart: Counterpart | None = None,
    no_counterpart: str = "",
) -> Metric:
    return Metric(
        key,
        Family.BINARY,
        name,
        column,
        undefined=f"0/0: {rate.empty}",
        worse=worse,
        shown=shown,
        rate=rate,
        counterpart=counterpart,
        no_counterpart=no_counterpart,
    )


_NO_FAIRLEARN = "neither fairlearn nor scikit-learn defines it"

# Each rate divides exactly as fairlearn and scikit-learn do (integer counts, one correctly
# rounded float division), which is why the results are bit-identical to theirs.
BINARY: tuple[Metric, ...] = (
    Metric(
        "count",
        Family.BINARY,
        "count",
        "n",
        undefined="never",
        shown=Shown.TABLE,
        counterpart=Counterpart(_FL + "count"),
    ),
    _binary(
        "base_rate",
        "base rate",
        "base rate",
        Rate((FN, TP), _ALL, "no rows"),
        shown=Shown.TABLE,
        counterpart=Counterpart(_FL + "selection_rate", on_labels=True),
    ),
    _binary(
        "selection_rate",
        "selection rate",
        "selection rate",
        Rate((FP, TP), _ALL, "no rows"),
        shown=Shown.HEADLINE,
        counterpart=Counterpart(_FL + "selection_rate"),
    ),
    _binary(
        "true_positive_rate",
        "true positive rate",
        "TPR",
        Rate((TP,), (TP, FN), _POSITIVES),
        worse=Worse.LOWER,
        shown=Shown.HEADLINE,
        counterpart=Counterpart(_FL + "true_positive_rate"),
    ),
    _binary(
        "false_positive_rate",
        "false positive rate",
        "FPR",
        Rate((FP,), (FP, TN), _NEGATIVES),
        worse=Worse.HIGHER,
        shown=Shown.HEADLINE,
        counterpart=Counterpart(_FL + "false_positive_rate"),
    ),
    _binary(
        "true_negative_rate",
        "true negative rate",
        "TNR",
        Rate((TN,), (TN, FP), _NEGATIVES),
        worse=Worse.LOWER,
        counterpart=Counterpart(_FL + "true_negative_rate"),
    ),
    _binary(
        "false_negative_rate",
        "false negative rate",
        "FNR",
        Rate((FN,), (TP, FN), _POSITIVES),
        worse=Worse.HIGHER,
        shown=Shown.TABLE,
        counterpart=Counterpart(_FL + "false_negative_rate"),
    ),
    _binary(
        "precision_score",
        "precision",
        "precision",
        Rate((TP,), (TP, FP), _PREDICTED_POSITIVES),
        worse=Worse.LOWER,
        shown=Shown.HEADLINE,
        counterpart=Counterpart(_SK + "precision_score", _NAN),
    ),
    _binary(
        "negative_predictive_value",
        "negative predictive value",
        "NPV",
        Rate((TN,), (TN, FN), _PREDICTED_NEGATIVES),
        worse=Worse.LOWER,
        shown=Shown.TABLE,
        counterpart=Counterpart(_SK + "precision_score", {"pos_label": 0, **_NAN}),
    ),
    _binary(
        "false_discovery_rate",
        "false discovery rate",
        "FDR",
        Rate((FP,), (TP, FP), _PREDICTED_POSITIVES),
        worse=Worse.HIGHER,
        no_counterpart=_NO_FAIRLEARN,
    ),
    _binary(
        "false_omission_rate",
        "false omission rate",
        "FOR",
        Rate((FN,), (TN, FN), _PREDICTED_NEGATIVES),
        worse=Worse.HIGHER,
        no_counterpart=_NO_FAIRLEARN,
    ),
    _binary(
        "accuracy_score",
        "accuracy",
        "accuracy",
        Rate((TP, TN), _ALL, "no rows"),
        worse=Worse.LOWER,
        shown=Shown.HEADLINE,
        counterpart=Counterpart(_SK + "accuracy_score"),
    ),
)
"""Per-group metrics of binary classification, in display order."""

REGRESSION_SUMS: tuple[str, ...] = (
    "n",
    "prediction",
    "label",
    "error",
    "absolute_error",
    "squared_error",
)
"""What a regression formula reads for a group: its rows ``n``, then the (weighted) mean of each
quantity the engine sums per group (:data:`bias_ledger.metrics.regression_sums.QUANTITIES`),
each correctly rounded from the exact sums, with the residual e = prediction - label."""

# The residual is prediction - label, so a positive mean residual means over-prediction. Groups
# are never empty: a regression metric is undefined only when a value it sums overflows a float64
# (:meth:`bias_ledger.metrics.regression_sums.RegressionSums.mean`).
REGRESSION: tuple[Metric, ...] = (
    Metric(
        "count",
        Family.REGRESSION,
        "count",
        "n",
        undefined="never",
        sums=lambda s: s["n"],
        counterpart=Counterpart(_FL + "count"),
    ),
    Metric(
        "mean_absolute_error",
        Family.REGRESSION,
        "mean absolute error",
        "MAE",
        undefined=(
            "a row's residual (prediction - label) or, weighted, its absolute error times "
            "its weight overflows a 64-bit float"
        ),
        worse=Worse.HIGHER,
        sums=lambda s: s["absolute_error"],
        counterpart=Counterpart(_SK + "mean_absolute_error"),
    ),
    Metric(
        "root_mean_squared_error",
        Family.REGRESSION,
        "root mean squared error",
        "RMSE",
        undefined="a row's squared error overflows a 64-bit float (|residual| > 1.34e154)",
        worse=Worse.HIGHER,
        sums=lambda s: math.sqrt(s["squared_error"]),
        counterpart=Counterpart(_SK + "root_mean_squared_error"),
    ),
    Metric(
        "mean_prediction",
        Family.REGRESSION,
        "mean prediction",
        "mean prediction",
        undefined="weighted: a row's prediction times its weight overflows a 64-bit float",
        sums=lambda s: s["prediction"],
        counterpart=Counterpart(_FL + "mean_prediction"),
    ),
    Metric(
        "mean_residual",
        Family.REGRESSION,
        "mean residual",
        "mean residual",
        undefined=(
            "a row's residual (prediction - label), or, weighted, it times its weight "
            "overflows a 64-bit float"
        ),
        sums=lambda s: s["error"],
        no_counterpart="the mean of prediction - label; no library names it",
    ),
)
"""Per-group metrics of regression, in display order."""

SCORE: tuple[Metric, ...] = (
    Metric(
        "roc_auc",
        Family.SCORE,
        "ROC AUC",
        "ROC AUC",
        undefined="the group has one label class only",
        worse=Worse.LOWER,
        counterpart=Counterpart(_SK + "roc_auc_score"),
    ),
    Metric(
        "expected_calibration_error",
        Family.SCORE,
        "expected calibration error",
        "ECE",
        undefined="never",
        worse=Worse.HIGHER,
        no_counterpart="scikit-learn has the calibration curve, not this sum over its bins",
    ),
)
"""Per-group metrics of a score column (computed in :mod:`bias_ledger.metrics.scores` from the
group's scores and labels)."""

SUMMARIES: tuple[Summary, ...] = (
    Summary(
        "demographic_parity_difference",
        "demographic parity difference",
        ("selection_rate",),
        "between_groups_difference",
    ),
    Summary(
        "demographic_parity_ratio",
        "demographic parity ratio",
        ("selection_rate",),
        "between_groups_ratio",
    ),
    Summary(
        "equalized_odds_difference",
        "equalized odds difference",
        ("true_positive_rate", "false_positive_rate"),
        "between_groups_difference",
    ),
    Summary(
        "equalized_odds_ratio",
        "equalized odds ratio",
        ("true_positive_rate", "false_positive_rate"),
        "between_groups_ratio",
    ),
    Summary(
        "equal_opportunity_difference",
        "equal opportunity difference",
        ("true_positive_rate",),
        "between_groups_difference",
    ),
    Summary(
        "equal_opportunity_ratio",
        "equal opportunity ratio",
        ("true_positive_rate",),
        "between_groups_ratio",
    ),
)
"""Summaries of one sensitive feature (or intersection) of a binary audit."""


def binary_metrics() -> tuple[Metric, ...]:
    """The binary metrics, read at call time (so a test may register one more)."""
    return BINARY


def binary_keys() -> tuple[str, ...]:
    return tuple(item.key for item in BINARY)


def summary_keys() -> tuple[str, ...]:
    return tuple(item.key for item in SUMMARIES)


def regression_keys() -> tuple[str, ...]:
    return tuple(item.key for item in REGRESSION)


def binary_metric(key: str) -> Metric:
    """The binary metric ``key``; KeyError otherwise."""
    for item in BINARY:
        if item.key == key:
            return item
    raise KeyError(key)


def shown(metrics: tuple[Metric, ...], *levels: Shown) -> tuple[Metric, ...]:
    """The metrics shown at any of ``levels``, in display order."""
    return tuple(item for item in metrics if item.shown in levels)


def summary_parts() -> tuple[str, ...]:
    """The binary metrics some summary is built from, in display order."""
    used = {part for item in SUMMARIES for part in item.parts}
    return tuple(key for key in binary_keys() if key in used)
