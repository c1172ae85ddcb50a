"""What declaring a metric takes: the types of the metric registry's entries.

Standard library only (see :mod:`bias_ledger.metrics.registry`, which holds the entries).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

TN, FP, FN, TP = 0, 1, 2, 3
"""Column order of a confusion-count row (as :mod:`bias_ledger.metrics.counts` stores them)."""
ALL_CELLS = (TN, FP, FN, TP)


class Family(StrEnum):
    """Which results a metric belongs to, and so which sufficient statistics it reads."""

    BINARY = "binary"
    """Per-group binary classification metrics, from the confusion counts (TN, FP, FN, TP)."""
    REGRESSION = "regression"
    """Per-group regression metrics, from the sums of :data:`REGRESSION_SUMS`."""
    SCORE = "score"
    """Per-group metrics of a score column (:mod:`bias_ledger.metrics.scores`)."""


class Worse(StrEnum):
    """Which way a metric gets worse, for policy rules that do not say."""

    LOWER = "lower"
    HIGHER = "higher"
    NEITHER = "neither"
    """No better direction (a rate of selection, a count, a mean)."""


class Shown(StrEnum):
    """Where the renderers show a per-group metric."""

    HEADLINE = "headline"
    """Everywhere: the terminal's group and disparity tables, every report's group table."""
    TABLE = "table"
    """The terminal's per-group table and the report's full table."""
    DETAIL = "detail"
    """The report's full table only."""


@dataclass(frozen=True)
class Rate:
    """A ratio of sums of confusion cells: the formula of a binary rate."""

    numerator: tuple[int, ...]
    """Cells (TN, FP, FN, TP indices) summed for the numerator."""
    denominator: tuple[int, ...]
    """Cells summed for the denominator."""
    empty: str
    """What an empty denominator means, for the 0/0 reason."""


@dataclass(frozen=True)
class Counterpart:
    """The function of fairlearn or scikit-learn that defines the same number."""

    function: str
    """Dotted path, e.g. ``fairlearn.metrics.selection_rate``."""
    keywords: Mapping[str, object] = field(default_factory=dict)
    """Keyword arguments it is called with (``zero_division``: NaN marks 0/0, as we do)."""
    on_labels: bool = False
    """It is called on ``(y_true, y_true)``: a property of the labels only (the base rate)."""


@dataclass(frozen=True)
class Metric:
    """One per-group metric."""

    key: str
    """The JSON key and policy name, as fairlearn's or scikit-learn's function is named."""
    family: Family
    name: str
    """Display name in prose (``"true positive rate"``)."""
    column: str
    """Short header in tables (``"TPR"``)."""
    undefined: str
    """When the value is undefined (None with a reason), in words; "never" if it always is."""
    worse: Worse = Worse.NEITHER
    shown: Shown = Shown.DETAIL
    rate: Rate | None = None
    """Binary metrics: the formula from the confusion counts (None for ``count``)."""
    sums: Callable[[Mapping[str, float]], float] | None = None
    """Regression metrics: the formula from the group's :data:`REGRESSION_SUMS`."""
    counterpart: Counterpart | None = None
    """The fairlearn or scikit-learn function the cross-check compares with; None when there is
    none (the reason is in :attr:`no_counterpart`)."""
    no_counterpart: str = ""

    @property
    def is_count(self) -> bool:
        """A count of rows (an integer column in tables), not a rate or a mean."""
        return self.key == "count"


@dataclass(frozen=True)
class Summary:
    """One summary of a sensitive feature: fairlearn's ``*_difference`` / ``*_ratio``."""

    key: str
    """fairlearn's function name (``demographic_parity_difference``)."""
    name: str
    """Display name in prose."""
    parts: tuple[str, ...]
    """The binary metrics whose disparities it aggregates (worst case, fairlearn's default)."""
    disparity: str
    """The disparity field it takes of each part (``between_groups_difference``)."""

    @property
    def difference(self) -> bool:
        return self.disparity.endswith("difference")

    @property
    def counterpart(self) -> str:
        return f"fairlearn.metrics.{self.key}"
