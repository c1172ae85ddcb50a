"""Per-group binary-classification metrics derived from confusion counts, 0/0 made explicit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bias_ledger.metrics.counts import FN, FP, TN, TP, CountTable
from bias_ledger.metrics.model import BINARY_GROUP_METRICS, GroupMetrics, Value


@dataclass(frozen=True)
class Rate:
    """A metric defined as a ratio of sums of confusion cells."""

    numerator: tuple[int, ...]
    """Cells (TN, FP, FN, TP indices) summed for the numerator."""
    denominator: tuple[int, ...]
    """Cells summed for the denominator."""
    empty: str
    """What an empty denominator means, for the 0/0 reason."""


_ALL = (TN, FP, FN, TP)
_POSITIVES = "no actual positives (TP + FN = 0)"
_NEGATIVES = "no actual negatives (TN + FP = 0)"
_PREDICTED_POSITIVES = "no predicted positives (TP + FP = 0)"
_PREDICTED_NEGATIVES = "no predicted negatives (TN + FN = 0)"

# Each rate divides exactly as fairlearn and scikit-learn do (integer counts, one correctly
# rounded float division), which is why the results are bit-identical to theirs.
RATES: Mapping[str, Rate] = {
    "base_rate": Rate((FN, TP), _ALL, "no rows"),
    "selection_rate": Rate((FP, TP), _ALL, "no rows"),
    "true_positive_rate": Rate((TP,), (TP, FN), _POSITIVES),
    "false_positive_rate": Rate((FP,), (FP, TN), _NEGATIVES),
    "true_negative_rate": Rate((TN,), (TN, FP), _NEGATIVES),
    "false_negative_rate": Rate((FN,), (TP, FN), _POSITIVES),
    "precision_score": Rate((TP,), (TP, FP), _PREDICTED_POSITIVES),
    "negative_predictive_value": Rate((TN,), (TN, FN), _PREDICTED_NEGATIVES),
    "false_discovery_rate": Rate((FP,), (TP, FP), _PREDICTED_POSITIVES),
    "false_omission_rate": Rate((FN,), (TN, FN), _PREDICTED_NEGATIVES),
    "accuracy_score": Rate((TP, TN), _ALL, "no rows"),
}
assert set(RATES) | {"count"} == set(BINARY_GROUP_METRICS)


def rate_value(rate: Rate, cells: tuple[int, int, int, int]) -> Value:
    """The rate for one group's (TN, FP, FN, TP) counts; undefined with a reason on 0/0."""
    denominator = sum(cells[i] for i in rate.denominator)
    if denominator == 0:
        return Value(None, reason=f"0/0: {rate.empty}")
    return Value(sum(cells[i] for i in rate.numerator) / denominator)


def group_metrics(table: CountTable) -> tuple[GroupMetrics, ...]:
    """Every metric of :data:`BINARY_GROUP_METRICS` for each group of the table, in order."""
    results = []
    for index, group in enumerate(table.groups):
        # With sample weights the cells are exact weight sums on one scale, so a rate is still
        # one correctly rounded division; ``count`` stays the rows (fairlearn's count takes no
        # sample_weight).
        cells = table.exact_cells(index)
        metrics: dict[str, Value] = {}
        for name in BINARY_GROUP_METRICS:
            metrics[name] = (
                Value(table.rows(index)) if name == "count" else rate_value(RATES[name], cells)
            )
        results.append(GroupMetrics(group=group, counts=table.confusion(index), metrics=metrics))
    return tuple(results)
