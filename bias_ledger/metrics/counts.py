"""Per-group confusion counts: the sufficient statistics every binary metric is derived from.

Counts can come from any source (one table, batches of a stream, another engine): build a
:class:`CountTable` with :meth:`CountTable.from_counts` and :meth:`CountTable.merge` them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.metrics._grouping import DENSE_LIMIT, CombinedCodes, combine_codes
from bias_ledger.metrics.count_table import CELLS, FN, FP, TN, TP, CountTable, Group
from bias_ledger.metrics.model import SensitiveColumn
from bias_ledger.metrics.weights import WeightParts, WeightSums, exact_bincount, sum_exact

__all__ = ["CELLS", "FN", "FP", "TN", "TP", "CountTable", "Group", "count_binary", "encode_column"]

# Rows counted per block when the group space is small: a block's combined codes are a few
# MB, not one int64 per row of the whole input.
BLOCK_ROWS = 1 << 20


def _check_inputs(
    y_true: npt.NDArray[np.bool_],
    y_pred: npt.NDArray[np.bool_],
    sensitive: Sequence[SensitiveColumn],
) -> None:
    if not sensitive:
        raise InputError("at least one sensitive column is needed, found none")
    n_rows = len(y_true)
    for name, array in (("label", y_true), ("prediction", y_pred)):
        if array.dtype != np.bool_ or array.ndim != 1:
            raise InputError(f"{name} must be a 1-d boolean array, got {array.dtype} {array.shape}")
    lengths = [("prediction", len(y_pred))] + [(col.name, len(col.codes)) for col in sensitive]
    for name, length in lengths:
        if length != n_rows:
            raise InputError(f"column {name!r} has {length} rows, expected {n_rows} (the label's)")
    for column in sensitive:
        if n_rows and (column.codes.min() < 0 or column.codes.max() >= len(column.categories)):
            raise InputError(
                f"codes of sensitive column {column.name!r} must lie in "
                f"[0, {len(column.categories)}), found {column.codes.min()}..{column.codes.max()}"
            )


def _cell_codes(
    combined: CombinedCodes, y_true: npt.NDArray[np.bool_], y_pred: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int64]:
    """``combined group code * 4 + cell``, computed in place in ``combined.codes``."""
    codes = combined.codes
    codes *= CELLS
    # The cell index fits in a byte; adding a uint8 array avoids an int64 temporary per input.
    cell = y_true.view(np.uint8) << 1
    cell |= y_pred.view(np.uint8)
    codes += cell
    return codes


def _bincount(
    codes: npt.NDArray[np.int64], weights: npt.NDArray[np.int64] | None, minlength: int
) -> npt.NDArray[np.int64]:
    """Counts of each code, or sums of ``weights`` (row counts of pre-aggregated rows)."""
    if weights is None:
        return np.bincount(codes, minlength=minlength)
    # bincount sums weights as float64: exact for integer totals below 2**53.
    summed = np.bincount(codes, weights=weights, minlength=minlength)
    return np.rint(summed).astype(np.int64)


def _blockwise(
    y_true: npt.NDArray[np.bool_],
    y_pred: npt.NDArray[np.bool_],
    sensitive: Sequence[SensitiveColumn],
    weights: npt.NDArray[np.int64] | None = None,
    sample_weight: WeightParts | None = None,
) -> tuple[CombinedCodes, npt.NDArray[np.int64], WeightSums | None] | None:
    """Cell counts over the dense code space, block by block; None unless that space is small.

    Equal to one bincount over all rows, without a combined code per row of the whole input.
    """
    space = math.prod(len(column.categories) for column in sensitive)
    if len(y_true) == 0 or space * CELLS > BLOCK_ROWS:
        return None
    counts = np.zeros(space * CELLS, dtype=np.int64)
    sums: list[WeightSums] = []
    for start in range(0, len(y_true), BLOCK_ROWS):
        rows = slice(start, start + BLOCK_ROWS)
        block = [replace(column, codes=column.codes[rows]) for column in sensitive]
        combined = combine_codes(block)
        codes = _cell_codes(combined, y_true[rows], y_pred[rows])
        counts += _bincount(codes, weights[rows] if weights is not None else None, space * CELLS)
        if sample_weight is not None:
            sums.append(exact_bincount(codes, sample_weight.take(rows), space * CELLS))
    return combined, counts, sum_exact(sums) if sums else None


def count_binary(
    y_true: npt.NDArray[np.bool_],
    y_pred: npt.NDArray[np.bool_],
    sensitive: Sequence[SensitiveColumn],
    *,
    weights: npt.NDArray[np.int64] | None = None,
    sample_weight: WeightParts | None = None,
) -> CountTable:
    """Confusion counts of every observed combination of the sensitive columns.

    One ``np.bincount`` over ``combined group code * 4 + cell``; no Python loop over rows.
    ``weights`` counts each row that many times: the row counts of rows an engine has
    aggregated already (:mod:`bias_ledger.engines`). ``sample_weight`` (one per row) gives
    the table exact weight sums per cell (:attr:`CountTable.weighted`).
    """
    _check_inputs(y_true, y_pred, sensitive)
    if weights is not None and (len(weights) != len(y_true) or (weights < 0).any()):
        raise InputError(f"row weights must be {len(y_true)} counts >= 0")
    if sample_weight is not None and len(sample_weight) != len(y_true):
        raise InputError(f"sample weights must be {len(y_true)} numbers, one per row")
    weighted: WeightSums | None = None
    blocks = _blockwise(y_true, y_pred, sensitive, weights, sample_weight)
    if blocks is not None:
        combined, flat, weighted = blocks
        observed = np.arange(combined.space, dtype=np.int64)
    else:
        combined = combine_codes(sensitive)
        codes = combined.codes
        sparse = combined.space * CELLS > max(DENSE_LIMIT, 2 * len(codes))
        if sparse:
            # Few observed combinations in a huge space: one sort beats a huge bincount.
            observed, combined = _compacted(combined)
        else:
            observed = np.arange(combined.space, dtype=np.int64)
        codes = _cell_codes(combined, y_true, y_pred)
        flat = _bincount(codes, weights, len(observed) * CELLS)
        if sample_weight is not None:
            weighted = exact_bincount(codes, sample_weight, len(observed) * CELLS)
    n_codes = len(observed)
    counts = flat.reshape(n_codes, CELLS)
    present = np.flatnonzero(counts.sum(axis=1))
    if weighted is not None:
        cells = weighted.numerators.reshape(n_codes, CELLS)[present]
        weighted = WeightSums(cells.reshape(len(present), CELLS), weighted.scale)
    keys = combined.decode(observed[present])
    groups = [
        tuple(column.categories[code] for column, code in zip(sensitive, row, strict=True))
        for row in keys.tolist()
    ]
    features = tuple(column.name for column in sensitive)
    orders = tuple(column.categories for column in sensitive)
    return CountTable.from_counts(
        features, groups, counts[present].astype(np.int64), orders=orders, weighted=weighted
    )


def _compacted(combined: CombinedCodes) -> tuple[npt.NDArray[np.int64], CombinedCodes]:
    """The observed codes, and the rows re-coded to positions among them."""
    observed, codes = np.unique(combined.codes, return_inverse=True)
    return observed, replace(combined, codes=codes)


def encode_column(name: str, values: npt.ArrayLike) -> SensitiveColumn:
    """Dictionary-encode raw values (``np.unique`` order, as fairlearn), names as ``str(value)``."""
    categories, codes = np.unique(np.asarray(values), return_inverse=True)
    return SensitiveColumn(
        name=name,
        codes=codes.astype(np.int64).reshape(-1),
        categories=tuple(str(value) for value in categories.tolist()),
    )
