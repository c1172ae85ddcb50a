"""Per-row group codes of each sensitive feature and of their intersection, in fairlearn's order.

For metrics that are not sums of confusion cells (ROC AUC, regression errors): they need
the rows of each group, not just counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.metrics._grouping import DENSE_LIMIT, combine_codes
from bias_ledger.metrics.model import SensitiveColumn

Group = tuple[str, ...]


@dataclass(frozen=True, eq=False)
class RowGrouping:
    """The observed groups of one feature result, and which group each row is in."""

    features: tuple[str, ...]
    """Sensitive feature names; more than one for an intersection."""
    groups: tuple[Group, ...]
    """Observed groups, sorted as fairlearn's ``MetricFrame.by_group``."""
    codes: npt.NDArray[np.int64]
    """Per row, the index of its group in :attr:`groups`."""


def check_sensitive(sensitive: Sequence[SensitiveColumn], n_rows: int) -> None:
    """Raise :class:`InputError` unless the columns are non-empty, aligned and in range."""
    if not sensitive:
        raise InputError("at least one sensitive column is needed, found none")
    for column in sensitive:
        if len(column.codes) != n_rows:
            raise InputError(
                f"column {column.name!r} has {len(column.codes)} rows, expected {n_rows}"
            )
        if n_rows and (column.codes.min() < 0 or column.codes.max() >= len(column.categories)):
            raise InputError(
                f"codes of sensitive column {column.name!r} must lie in "
                f"[0, {len(column.categories)}), found {column.codes.min()}..{column.codes.max()}"
            )


def row_grouping(columns: Sequence[SensitiveColumn]) -> RowGrouping:
    """Group codes of the intersection of ``columns`` (one column: the feature itself)."""
    combined = combine_codes(columns)
    if combined.space > max(DENSE_LIMIT, 2 * len(combined.codes)):
        present, codes = np.unique(combined.codes, return_inverse=True)
        remap = None
    else:
        present = np.flatnonzero(np.bincount(combined.codes, minlength=combined.space))
        codes, remap = combined.codes, np.zeros(combined.space, dtype=np.int64)
    keys = combined.decode(present.astype(np.int64))
    groups = [
        tuple(column.categories[code] for column, code in zip(columns, row, strict=True))
        for row in keys.tolist()
    ]
    # Categories are in the order of the original values, so the per-feature codes sort the
    # groups as fairlearn does (the order of count_binary's tables too).
    code_rows = keys.tolist()
    order = sorted(range(len(groups)), key=lambda j: tuple(code_rows[j]))
    rank = np.empty(len(groups), dtype=np.int64)
    rank[order] = np.arange(len(groups), dtype=np.int64)
    if remap is None:
        codes = rank[codes.reshape(-1)]
    else:
        remap[present] = rank
        codes = remap[codes]
    return RowGrouping(
        features=tuple(column.name for column in columns),
        groups=tuple(groups[j] for j in order),
        codes=codes.astype(np.int64, copy=False),
    )


def feature_groupings(sensitive: Sequence[SensitiveColumn]) -> list[RowGrouping]:
    """Each feature on its own, then the intersection of all of them when there are several."""
    groupings = [row_grouping([column]) for column in sensitive]
    if len(sensitive) >= 2:
        groupings.append(row_grouping(sensitive))
    return groupings
