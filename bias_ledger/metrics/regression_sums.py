"""Per-group regression sums, the additive sufficient statistic of the regression metrics.

Per group: rows, and the exact sums (:class:`~bias_ledger.metrics.exact_sum.ExactSums`) of the
prediction, the label, the residual e = prediction - label, |e| and e^2 (each times the
row's weight when there is one, with the sum of the weights). Built batch by batch
(:meth:`RegressionSums.add`), merged by addition; SQL engines produce the same sums.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from bias_ledger.metrics.exact_sum import ExactSums

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

QUANTITIES: tuple[str, ...] = (
    "prediction",
    "label",
    "error",
    "absolute_error",
    "squared_error",
)
"""What is summed per group, in cell order (``group * len(QUANTITIES) + index``). The records
hold no R^2 (it would need the sum of label^2 as well): only what the metrics read is summed."""

NAMES: dict[str, str] = {
    "prediction": "prediction",
    "label": "label",
    "error": "residual (prediction - label)",
    "absolute_error": "absolute error",
    "squared_error": "squared error",
}
"""How a reason names each quantity."""


class Overflow(ArithmeticError):
    """A group's mean of a quantity is no 64-bit float; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def quantities(y_true: Floats, y_pred: Floats) -> tuple[Floats, ...]:
    """The per-row values of :data:`QUANTITIES` (the SQL engines compute the same expressions);
    one that overflows is inf, and its group's mean undefined (:meth:`RegressionSums.mean`)."""
    with np.errstate(over="ignore"):
        error = y_pred - y_true
        return y_pred, y_true, error, np.abs(error), error * error


class RegressionSums:
    """Rows and exact sums per group (groups are codes ``0 <= g``, grown on demand)."""

    def __init__(self) -> None:
        self.rows: Ints = np.zeros(0, dtype=np.int64)
        self.sums = ExactSums()
        self.weights: ExactSums | None = None
        """Sum of the weights per group, when rows were weighted."""

    @property
    def groups(self) -> int:
        return len(self.rows)

    def add_rows(self, codes: Ints, counts: Ints | None = None) -> None:
        """Add ``counts`` rows (one each if None) to the groups ``codes``."""
        if len(codes) == 0:
            return
        size = max(self.groups, int(codes.max()) + 1)
        if counts is None:
            rows = np.bincount(codes, minlength=size).astype(np.int64, copy=False)
        else:
            rows = np.bincount(codes, weights=counts, minlength=size).astype(np.int64)
        rows[: self.groups] += self.rows
        self.rows = rows

    def add(
        self, codes: Ints, y_true: Floats, y_pred: Floats, weights: Floats | None = None
    ) -> None:
        """Add a batch of rows: group code, label, prediction (finite), optional weight."""
        if len(codes) == 0:
            return
        codes = np.asarray(codes, dtype=np.int64)
        self.add_rows(codes)
        if weights is not None:
            if self.weights is None:
                self.weights = ExactSums()
            self.weights.add(codes, weights)
        columns = quantities(y_true, y_pred)
        if weights is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                columns = tuple(values * weights for values in columns)
        # Cell ``code * len(QUANTITIES) + index``, keyed once for every quantity.
        self.sums.add_columns(codes, columns)

    def merge(self, other: RegressionSums) -> None:
        """Add another accumulator's rows and sums."""
        self.add_rows(np.arange(other.groups, dtype=np.int64), other.rows)
        self.sums.merge(other.sums)
        if other.weights is not None:
            if self.weights is None:
                self.weights = ExactSums()
            self.weights.merge(other.weights)

    def regrouped(self, members: Sequence[int], size: int) -> RegressionSums:
        """The sums of groups ``members[g]`` (a feature result's groups from intersections)."""
        out = RegressionSums()
        codes = np.asarray(members, dtype=np.int64)
        out.rows = np.bincount(codes, weights=self.rows[: len(codes)], minlength=size).astype(
            np.int64
        )
        out.sums = self.sums.regrouped(members, len(QUANTITIES), size * len(QUANTITIES))
        if self.weights is not None:
            out.weights = self.weights.regrouped(members, 1, size)
        return out

    def mean(self, group: int, quantity: str) -> float:
        """The (weighted) mean of a quantity over a group, correctly rounded from exact sums.

        Raises :class:`Overflow` when a row's value overflowed a float64 (a squared error above
        about 1.8e308: ``|prediction - label| > 1.34e154``), so the rows' sum is not known, or
        when the mean itself is beyond the largest float64 (a weighted mean can be)."""
        cell = group * len(QUANTITIES) + QUANTITIES.index(quantity)
        name = NAMES[quantity]
        weighted = self.weights is not None
        if not self.sums.finite(cell):
            residual = group * len(QUANTITIES) + QUANTITIES.index("error")
            if not weighted and quantity.endswith("_error") and not self.sums.finite(residual):
                name = NAMES["error"]  # |e| and e^2 overflowed because e did
            which = f"{name} times its weight" if weighted else name
            raise Overflow(f"a row's {which} overflows a 64-bit float")
        try:
            if self.weights is not None:
                return self.sums.ratio_to(cell, self.weights, group)
            return self.sums.ratio(cell, int(self.rows[group]))
        except OverflowError:
            raise Overflow(f"the weighted mean {name} overflows a 64-bit float") from None
