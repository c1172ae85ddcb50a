"""Per-group binary-classification metrics derived from confusion counts, 0/0 made explicit.

The formulas are the registry's (:mod:`bias_ledger.metrics.registry`).
"""

from __future__ import annotations

from collections.abc import Mapping

from bias_ledger.metrics import registry
from bias_ledger.metrics.counts import CountTable
from bias_ledger.metrics.model import GroupMetrics, Value
from bias_ledger.metrics.registry import Rate

RATES: Mapping[str, Rate] = {
    item.key: item.rate for item in registry.BINARY if item.rate is not None
}
"""Each binary rate's formula, by key (every binary metric but ``count``)."""


def rate_value(rate: Rate, cells: tuple[int, int, int, int]) -> Value:
    """The rate for one group's (TN, FP, FN, TP) counts; undefined with a reason on 0/0."""
    denominator = sum(cells[i] for i in rate.denominator)
    if denominator == 0:
        return Value(None, reason=f"0/0: {rate.empty}")
    return Value(sum(cells[i] for i in rate.numerator) / denominator)


def group_metrics(table: CountTable) -> tuple[GroupMetrics, ...]:
    """Every binary metric of the registry for each group of the table, in its order."""
    results = []
    for index, group in enumerate(table.groups):
        # With sample weights the cells are exact weight sums on one scale, so a rate is still
        # one correctly rounded division; ``count`` stays the rows (fairlearn's count takes no
        # sample_weight).
        cells = table.exact_cells(index)
        metrics: dict[str, Value] = {}
        for item in registry.BINARY:
            metrics[item.key] = (
                Value(table.rows(index)) if item.rate is None else rate_value(item.rate, cells)
            )
        results.append(GroupMetrics(group=group, counts=table.confusion(index), metrics=metrics))
    return tuple(results)
