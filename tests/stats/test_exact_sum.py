"""Exact sums against math.fsum (the correctly rounded sum): any order, any batching."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bias_ledger.metrics.exact_sum import ExactSums
from bias_ledger.metrics.regression_sums import RegressionSums

# Bounded so that no sum of 60 of them overflows (fsum raises then).
finite = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False, width=64)


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=1, max_size=60), st.integers(1, 7))
def test_sum_is_fsum_whatever_the_batching(values: list[float], batch: int) -> None:
    array = np.array(values)
    sums = ExactSums()
    for start in range(0, len(array), batch):
        part = array[start : start + batch]
        sums.add(np.zeros(len(part), dtype=np.int64), part)
    assert sums.total(0) == math.fsum(values)
    mean = Fraction(sum(Fraction(v) for v in values)) / len(values)
    assert sums.ratio(0, len(values)) == float(mean)


def test_cancellation_and_subnormals() -> None:
    values = np.array([1e308, 1.0, -1e308, 5e-324, 2.5e-320, -1e-300, 1e-300])
    sums = ExactSums()
    sums.add(np.array([0, 0, 0, 1, 1, 2, 2]), values)
    assert [sums.total(c) for c in range(3)] == [1.0, 5e-324 + 2.5e-320, 0.0]


def test_merge_and_scaled_parts_add_up() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(0, 1e6, 1000)
    cells = rng.integers(0, 4, 1000)
    left, right = ExactSums(), ExactSums()
    left.add(cells[:400], values[:400])
    right.add(cells[400:], values[400:])
    left.merge(right)
    scaled = ExactSums()
    for cell, value in zip(cells.tolist(), values.tolist(), strict=True):
        mantissa, exponent = math.frexp(value)
        scaled.add_scaled(cell, int(mantissa * 2**53), exponent - 53)
    for cell in range(4):
        expected = math.fsum(values[cells == cell])
        assert left.total(cell) == scaled.total(cell) == expected


def test_weighted_regression_sums_give_weighted_means() -> None:
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.normal(5, 2, 500), rng.normal(5, 2, 500)
    weights = rng.random(500) * 3
    codes = rng.integers(0, 2, 500)
    sums = RegressionSums()
    sums.add(codes, y_true, y_pred, weights)
    for g in range(2):
        mask = codes == g
        error = y_pred[mask] - y_true[mask]
        w = weights[mask]
        assert sums.mean(g, "absolute_error") == pytest.approx(
            np.average(np.abs(error), weights=w), rel=1e-14
        )
        assert math.sqrt(sums.mean(g, "squared_error")) == pytest.approx(
            math.sqrt(np.average(error**2, weights=w)), rel=1e-14
        )
        assert int(sums.rows[g]) == int(mask.sum())


def test_regression_results_do_not_depend_on_batching_or_order() -> None:
    import json

    from bias_ledger.metrics.counts import encode_column
    from bias_ledger.metrics.regression import regression_metrics

    rng = np.random.default_rng(8)
    n = 5000
    y_true = rng.gamma(2.0, 30.0, n)
    y_pred = y_true * rng.lognormal(0, 0.3, n)
    sex, race = rng.choice(["f", "m"], n), rng.choice(["a", "b", "c"], n)
    documents = set()
    for rows, batch in ((np.arange(n), n), (rng.permutation(n), 333), (np.arange(n)[::-1], 7)):
        columns = [encode_column("sex", sex[rows]), encode_column("race", race[rows])]
        results = regression_metrics(y_true[rows], y_pred[rows], columns, batch_rows=batch)
        documents.add(json.dumps(results.to_json()))
    assert len(documents) == 1
    (document,) = documents
    overall = json.loads(document)["overall"]["metrics"]
    error = y_pred - y_true
    assert overall["mean_absolute_error"]["value"] == pytest.approx(np.abs(error).mean(), rel=1e-14)
    assert overall["mean_residual"]["value"] == float(sum(Fraction(v) for v in error.tolist()) / n)


@pytest.mark.parametrize("cells", [3, 5000])
def test_pending_and_sparse_keys_give_fsum(cells: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import bias_ledger.metrics.exact_sum as exact_sum

    # Pending float sums moved every 700 values; 5000 cells x the exponents are too many keys
    # to keep dense, so each batch is keyed on its own.
    monkeypatch.setattr(exact_sum, "_PENDING", 700)
    rng = np.random.default_rng(cells)
    values = rng.normal(0, 1, 6000) * np.ldexp(1.0, rng.integers(-1070, 1000, 6000))
    values[rng.random(6000) < 0.2] = 0.0
    values[:5] = [5e-324, -2.5e-320, 1e-310, 0.0, -0.0]
    codes = rng.integers(0, cells, 6000)
    sums = ExactSums()
    for part in np.array_split(np.arange(6000), 9):
        sums.add_columns(codes[part], [values[part], values[part][::-1].copy()])
    for cell in rng.choice(cells, 3, replace=False).tolist():
        assert sums.total(2 * cell) == math.fsum(values[codes == cell])
        reversed_ = np.concatenate([part[::-1] for part in np.array_split(values, 9)])
        assert sums.total(2 * cell + 1) == math.fsum(reversed_[codes == cell])
