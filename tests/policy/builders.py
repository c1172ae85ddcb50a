"""Hand-built inputs for the policy tests: confusion cells per group, run through the engine."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from bias_ledger.metrics.counts import count_binary, encode_column
from bias_ledger.metrics.engine import compute_binary_metrics
from bias_ledger.metrics.model import FeatureResult, GroupMetrics, Interval, MetricResults, Value
from bias_ledger.policy import Policy, load_policy

# (true positives, false positives, true negatives, false negatives) per group.
Cells = tuple[int, int, int, int]


def results(cells: Mapping[tuple[str, ...], Cells], features: tuple[str, ...]) -> MetricResults:
    """Expand per-group confusion cells into rows and audit them with the engine."""
    y_true: list[bool] = []
    y_pred: list[bool] = []
    columns: list[list[str]] = [[] for _ in features]
    for group, (tp, fp, tn, fn) in cells.items():
        for truth, pred, n in ((1, 1, tp), (0, 1, fp), (0, 0, tn), (1, 0, fn)):
            y_true += [bool(truth)] * n
            y_pred += [bool(pred)] * n
            for column, value in zip(columns, group, strict=True):
                column += [value] * n
    sensitive = [
        encode_column(name, np.array(values))
        for name, values in zip(features, columns, strict=True)
    ]
    table = count_binary(np.array(y_true), np.array(y_pred), sensitive)
    return compute_binary_metrics(table)


def lending(f_selected: int, m_selected: int, *, per_group: int = 100) -> MetricResults:
    """Two sexes x two races, ``per_group`` rows each, half of them actual positives.

    Women are approved ``f_selected`` times per group and men ``m_selected`` times, spread
    evenly over actual positives and negatives.
    """
    cells: dict[tuple[str, ...], Cells] = {}
    half = per_group // 2
    for sex, selected in (("F", f_selected), ("M", m_selected)):
        tp = selected // 2
        fp = selected - tp
        for race in ("A", "B"):
            cells[(sex, race)] = (tp, fp, half - fp, half - tp)
    return results(cells, ("sex", "race"))


def replace_feature(results: MetricResults, feature: FeatureResult) -> MetricResults:
    items = tuple(
        feature if item.features == feature.features else item for item in results.features
    )
    return dataclasses.replace(results, features=items)


def with_summary(
    results: MetricResults, names: tuple[str, ...], summary: str, value: Value
) -> MetricResults:
    """A copy whose feature ``names`` has ``summary`` set to ``value`` (an interval, say)."""
    feature = results.feature(*names)
    summaries = {**feature.summaries, summary: value}
    return replace_feature(results, dataclasses.replace(feature, summaries=summaries))


def with_interval(
    results: MetricResults, names: tuple[str, ...], summary: str, low: float, high: float
) -> MetricResults:
    value = results.feature(*names).summaries[summary]
    interval = Interval(low=low, high=high, level=0.95, method="wilson")
    return with_summary(results, names, summary, dataclasses.replace(value, interval=interval))


def flag_insufficient(
    results: MetricResults, names: tuple[str, ...], group: tuple[str, ...]
) -> MetricResults:
    """A copy where the engine would have flagged ``group`` as below its minimum group size."""
    feature = results.feature(*names)
    groups: tuple[GroupMetrics, ...] = tuple(
        dataclasses.replace(item, sufficient=False) if item.group == group else item
        for item in feature.groups
    )
    return replace_feature(results, dataclasses.replace(feature, groups=groups))


def policy(tmp_path: Path, text: str, name: str = "policy.toml") -> Policy:
    """Write ``text`` to a real file and load it the way the CLI does."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_policy(path)
