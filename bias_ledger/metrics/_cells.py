"""Accumulators are keyed by intersection group; every feature result is a sum of those.

:func:`intersection` codes the rows by the intersection of all sensitive features (one feature:
the feature itself); :func:`regroupings` maps the intersection groups onto each feature result
(each feature on its own, then the intersection when there are several), in fairlearn's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bias_ledger.metrics._rowgroups import RowGrouping, feature_groupings, row_grouping
from bias_ledger.metrics.model import SensitiveColumn
from bias_ledger.metrics.regression_sums import RegressionSums
from bias_ledger.metrics.score_histogram import ScoreHistogram

Group = tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Regrouping:
    """One feature result's groups, and which of them each intersection group falls in."""

    features: tuple[str, ...]
    """Sensitive feature names; more than one for an intersection."""
    groups: tuple[Group, ...]
    """Its observed groups, in fairlearn's order."""
    members: npt.NDArray[np.int64]
    """Per intersection group, the index of its group in :attr:`groups`."""


def intersection(sensitive: Sequence[SensitiveColumn]) -> RowGrouping:
    """Each row's intersection group (the accumulators' key)."""
    return row_grouping(sensitive)


def regroupings(sensitive: Sequence[SensitiveColumn], groups: Sequence[Group]) -> list[Regrouping]:
    """Every feature result, as a regrouping of the intersection ``groups`` of ``sensitive``."""
    columns = []
    for position, column in enumerate(sensitive):
        lookup = {name: code for code, name in enumerate(column.categories)}
        codes = np.array([lookup[group[position]] for group in groups], dtype=np.int64)
        columns.append(SensitiveColumn(column.name, codes, column.categories))
    return [
        Regrouping(item.features, item.groups, item.codes)
        for item in (feature_groupings(columns) if groups else [])
    ]


def overall(groups: Sequence[Group]) -> Regrouping:
    """Every intersection group in one: the whole population."""
    return Regrouping((), ((),), np.zeros(len(groups), dtype=np.int64))


@dataclass(frozen=True, eq=False)
class Precomputed:
    """Sufficient statistics an engine computed itself, keyed by intersection group."""

    groups: tuple[Group, ...]
    """The intersection groups the statistics are keyed by (their codes index this)."""
    scores: ScoreHistogram | None = None
    """The score histograms, for a score audit."""
    regression: RegressionSums | None = None
    """The regression sums, for a regression audit."""
