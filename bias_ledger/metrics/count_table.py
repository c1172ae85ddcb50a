"""The table of per-group confusion counts (and, with sample weights, exact weight sums) that
every binary metric is derived from; merged by addition."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.metrics._grouping import value_sort_keys
from bias_ledger.metrics.model import ConfusionCounts
from bias_ledger.metrics.weights import WeightSums, to_float, zeros

# Cell order of CountTable.cells, the order of sklearn's ``confusion_matrix(...).ravel()``:
# cell = 2 * y_true + y_pred.
TN, FP, FN, TP = 0, 1, 2, 3
CELLS = 4

Group = tuple[str, ...]


@dataclass(frozen=True, eq=False)
class CountTable:
    """Confusion counts of every observed group of one or more sensitive features."""

    features: tuple[str, ...]
    """Sensitive feature names; empty for the whole population (see :meth:`overall`)."""
    groups: tuple[Group, ...]
    """Observed groups, one name per feature, sorted as fairlearn's ``MetricFrame.by_group``."""
    cells: npt.NDArray[np.int64]
    """Shape ``(len(groups), 4)``; columns are TN, FP, FN, TP (``2 * y_true + y_pred``)."""
    orders: tuple[tuple[str, ...], ...] = ()
    """Per feature, its group names in the order of the original values (as fairlearn sorts
    them); empty when the counts came without one, and the order is derived from the names."""
    weighted: WeightSums | None = None
    """With sample weights: the exact weight sums of each cell, shaped as ``cells`` (which
    then counts rows); None when every row counts once."""

    def __post_init__(self) -> None:
        if self.cells.shape != (len(self.groups), CELLS) or self.cells.dtype != np.int64:
            raise ValueError(
                f"cells must be int64 of shape ({len(self.groups)}, {CELLS}), "
                f"got {self.cells.dtype} {self.cells.shape}"
            )
        if any(len(group) != len(self.features) for group in self.groups):
            raise ValueError(f"every group needs one name per feature of {self.features}")
        if self.weighted is not None and self.weighted.numerators.shape != self.cells.shape:
            raise ValueError(f"weighted cells must have the shape {self.cells.shape}")

    @classmethod
    def from_counts(
        cls,
        features: Sequence[str],
        groups: Iterable[Group],
        cells: npt.ArrayLike,
        *,
        orders: Sequence[Sequence[str]] = (),
        weighted: WeightSums | None = None,
    ) -> CountTable:
        """Canonical table from counts of any source: duplicates summed, empty groups dropped.

        ``orders`` gives each feature's names in the order of their original values (the
        categories of a :class:`SensitiveColumn`); without it, names that all read as numbers
        sort numerically and others as text, which is fairlearn's order for typed values.
        """
        group_list = [tuple(group) for group in groups]
        matrix = np.asarray(cells, dtype=np.int64).reshape(len(group_list), CELLS)
        if (matrix < 0).any():
            raise InputError(f"confusion counts of {tuple(features)} must be >= 0")
        positions: dict[Group, int] = {}
        index = np.fromiter(
            (positions.setdefault(group, len(positions)) for group in group_list),
            dtype=np.int64,
            count=len(group_list),
        )
        sums = np.zeros((len(positions), CELLS), dtype=np.int64)
        np.add.at(sums, index, matrix)
        present = sums.sum(axis=1) > 0
        observed = [group for group, keep in zip(positions, present, strict=True) if keep]
        sums = sums[present]
        kept_orders = tuple(tuple(names) for names in orders)
        keys = _sort_keys(len(features), observed, kept_orders)
        order = np.array(sorted(range(len(observed)), key=keys.__getitem__), dtype=np.int64)
        if weighted is not None:
            weighted = _summed(weighted, index, len(positions), present, order)
        return cls(
            features=tuple(features),
            groups=tuple(observed[i] for i in order),
            cells=sums[order].reshape(len(order), CELLS),
            orders=kept_orders,
            weighted=weighted,
        )

    @property
    def n_rows(self) -> int:
        return int(self.cells.sum())

    def rows(self, index: int) -> int:
        """Rows of group ``index`` (with weights too: fairlearn's ``count``)."""
        return int(self.cells[index].sum())

    def exact_cells(self, index: int) -> tuple[int, int, int, int]:
        """Group ``index``'s (TN, FP, FN, TP): row counts, or weight sums on a common scale
        (exact integers, so that rates are one correctly rounded division)."""
        source = self.cells if self.weighted is None else self.weighted.numerators
        tn, fp, fn, tp = (int(value) for value in source[index])
        return tn, fp, fn, tp

    def confusion(self, index: int) -> ConfusionCounts:
        if self.weighted is not None:
            scale = self.weighted.scale
            tn, fp, fn, tp = (to_float(int(n), scale) for n in self.weighted.numerators[index])
            return ConfusionCounts(
                true_positives=tp, false_positives=fp, true_negatives=tn, false_negatives=fn
            )
        tn_, fp_, fn_, tp_ = (int(value) for value in self.cells[index])
        return ConfusionCounts(
            true_positives=tp_, false_positives=fp_, true_negatives=tn_, false_negatives=fn_
        )

    def merge(self, other: CountTable) -> CountTable:
        """Counts of the union of two batches of rows with the same sensitive features."""
        if other.features != self.features:
            raise InputError(
                f"cannot merge counts by {self.features} with counts by {other.features}"
            )
        if (self.weighted is None) != (other.weighted is None):
            raise InputError("cannot merge weighted counts with unweighted counts")
        # Batches of one source share their value order; counts from two sources may not.
        orders = self.orders if self.orders == other.orders else ()
        weighted = None
        if self.weighted is not None and other.weighted is not None:
            scale = min(self.weighted.scale, other.weighted.scale)
            stacked = [self.weighted.rescaled(scale), other.weighted.rescaled(scale)]
            weighted = WeightSums(np.concatenate([s.numerators for s in stacked]), scale)
        return CountTable.from_counts(
            self.features,
            self.groups + other.groups,
            np.concatenate([self.cells, other.cells]),
            orders=orders,
            weighted=weighted,
        )

    def marginal(self, features: Sequence[str]) -> CountTable:
        """Counts by a subset of the features, summed over the others."""
        missing = [name for name in features if name not in self.features]
        if missing:
            raise InputError(f"no sensitive feature {missing[0]!r}; counts are by {self.features}")
        positions = [self.features.index(name) for name in features]
        projected = [tuple(group[p] for p in positions) for group in self.groups]
        orders = tuple(self.orders[p] for p in positions) if self.orders else ()
        return CountTable.from_counts(
            features, projected, self.cells, orders=orders, weighted=self.weighted
        )

    def overall(self) -> CountTable:
        """The whole population as a single group ``()`` of no feature."""
        weighted = None
        if self.weighted is not None:
            total = self.weighted.numerators.sum(axis=0, keepdims=True)
            weighted = WeightSums(total.reshape(1, CELLS), self.weighted.scale)
        return CountTable(
            features=(),
            groups=((),),
            cells=self.cells.sum(axis=0, keepdims=True),
            weighted=weighted,
        )


def _summed(
    weighted: WeightSums,
    index: npt.NDArray[np.int64],
    n_groups: int,
    present: npt.NDArray[np.bool_],
    order: npt.NDArray[np.int64],
) -> WeightSums:
    """Weight sums of duplicated groups added up, then kept and ordered as the row counts."""
    sums = zeros((n_groups, CELLS))
    for position, row in zip(index.tolist(), weighted.numerators, strict=True):
        sums[position] += row
    kept = sums[present][order] if len(order) else zeros((0, CELLS))
    return WeightSums(kept.reshape(len(order), CELLS), weighted.scale)


def _sort_keys(
    n_features: int, groups: Sequence[Group], orders: Sequence[Sequence[str]]
) -> list[tuple[object, ...]]:
    """Each group's sort key: fairlearn's order of the values of each feature in turn."""
    keys: list[dict[str, object]] = []
    for i in range(n_features):
        names = sorted({group[i] for group in groups})
        derived = value_sort_keys(names)
        if not orders:
            keys.append(dict(derived))
            continue
        position = {name: index for index, name in enumerate(orders[i])}
        # A name outside the given order (another source's) goes after, in derived order.
        keys.append(
            {name: (name not in position, position.get(name, 0), derived[name]) for name in names}
        )
    return [tuple(keys[i][group[i]] for i in range(n_features)) for group in groups]
