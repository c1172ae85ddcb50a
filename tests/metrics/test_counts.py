"""Confusion counts: one bincount, checked against per-group masks; merge, marginal, overall."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from bias_ledger.errors import InputError
from bias_ledger.metrics._grouping import DENSE_LIMIT
from bias_ledger.metrics.counts import CountTable, count_binary, encode_column
from bias_ledger.metrics.model import SensitiveColumn

from .reference import dataset


def _naive(
    y_true: np.ndarray, y_pred: np.ndarray, columns: dict[str, np.ndarray]
) -> Counter[tuple[tuple[str, ...], int]]:
    """(group, cell) -> rows, one row at a time: the obviously correct count."""
    keys = zip(*(values.astype(str) for values in columns.values()), strict=True)
    cells = 2 * y_true.astype(int) + y_pred.astype(int)
    return Counter((key, int(cell)) for key, cell in zip(keys, cells, strict=True))


def _as_counter(table: CountTable) -> Counter[tuple[tuple[str, ...], int]]:
    return Counter(
        {
            (group, cell): int(table.cells[i, cell])
            for i, group in enumerate(table.groups)
            for cell in range(4)
            if table.cells[i, cell]
        }
    )


def _count(y_true: np.ndarray, y_pred: np.ndarray, columns: dict[str, np.ndarray]) -> CountTable:
    return count_binary(y_true, y_pred, [encode_column(k, v) for k, v in columns.items()])


@pytest.mark.parametrize("kind", ["random", "tiny_groups", "integer_groups"])
def test_counts_equal_row_by_row_counting(kind: str) -> None:
    y_true, y_pred, sensitive = dataset(kind, 5000, seed=1)
    table = _count(y_true, y_pred, sensitive)
    assert table.features == tuple(sensitive)
    assert _as_counter(table) == _naive(y_true, y_pred, sensitive)
    assert table.n_rows == len(y_true)


# Two features of 2,148 groups overflow the dense limit (compaction while combining); two of
# 1,100 fit it, but times 4 cells do not (the sorted, sparse count).
@pytest.mark.parametrize("width", [int(DENSE_LIMIT**0.5) + 100, 1100])
def test_huge_combination_space_is_handled_sparsely(width: int) -> None:
    rng = np.random.default_rng(5)
    n = 6000
    columns = {
        "a": rng.integers(0, width, n),
        "b": rng.integers(0, width, n),
        "c": rng.integers(0, 3, n),
    }
    y_true, y_pred = rng.random(n) < 0.5, rng.random(n) < 0.5
    sensitive = [
        SensitiveColumn(name, values.astype(np.int64), tuple(str(i) for i in range(width)))
        for name, values in columns.items()
    ]
    table = count_binary(y_true, y_pred, sensitive)
    assert _as_counter(table) == _naive(y_true, y_pred, columns)
    assert list(table.groups) == sorted(table.groups, key=lambda g: tuple(map(int, g)))


def test_merge_of_batches_equals_counting_the_concatenation() -> None:
    y_true, y_pred, sensitive = dataset("tiny_groups", 4000, seed=2)
    # Split so that some groups (the first rows' tiny ones) occur in one batch only.
    cut = 2
    first = _count(y_true[:cut], y_pred[:cut], {k: v[:cut] for k, v in sensitive.items()})
    second = _count(y_true[cut:], y_pred[cut:], {k: v[cut:] for k, v in sensitive.items()})
    whole = _count(y_true, y_pred, sensitive)
    merged = first.merge(second)
    assert merged.groups == whole.groups
    np.testing.assert_array_equal(merged.cells, whole.cells)
    assert second.merge(first).groups == whole.groups


def test_marginal_equals_counting_that_feature_alone() -> None:
    y_true, y_pred, sensitive = dataset("tiny_groups", 3000, seed=3)
    table = _count(y_true, y_pred, sensitive)
    for name in sensitive:
        alone = _count(y_true, y_pred, {name: sensitive[name]})
        marginal = table.marginal([name])
        assert marginal.groups == alone.groups
        np.testing.assert_array_equal(marginal.cells, alone.cells)
    pair = table.marginal(["age", "race"])
    direct = _count(y_true, y_pred, {"age": sensitive["age"], "race": sensitive["race"]})
    assert pair.groups == direct.groups
    np.testing.assert_array_equal(pair.cells, direct.cells)


def test_overall_sums_every_group() -> None:
    y_true, y_pred, sensitive = dataset("random", 1000, seed=4)
    overall = _count(y_true, y_pred, sensitive).overall()
    assert overall.groups == ((),)
    expected = np.bincount(2 * y_true.astype(int) + y_pred.astype(int), minlength=4)
    np.testing.assert_array_equal(overall.cells[0], expected)


def test_counts_from_another_source_are_canonicalised() -> None:
    table = CountTable.from_counts(
        ["age"],
        [("10",), ("9",), ("10",), ("7",)],
        [[1, 0, 0, 2], [0, 1, 1, 0], [3, 0, 0, 0], [0, 0, 0, 0]],
    )
    assert table.groups == (("9",), ("10",))  # numeric order, sums merged, empty group gone
    np.testing.assert_array_equal(table.cells, [[0, 1, 1, 0], [4, 0, 0, 2]])


def _column(name: str, codes: list[int], categories: tuple[str, ...]) -> SensitiveColumn:
    return SensitiveColumn(name, np.array(codes, dtype=np.int64), categories)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "columns", "message"),
    [
        ([True, False], [True], [_column("s", [0, 0], ("a",))], "'prediction' has 1 rows"),
        ([True], [True], [_column("s", [0, 0], ("a",))], "'s' has 2 rows"),
        ([True], [True], [_column("s", [1], ("a",))], "found 1..1"),
        ([True], [True], [], "at least one sensitive column"),
        ([1], [True], [_column("s", [0], ("a",))], "label must be a 1-d boolean array"),
    ],
)
def test_bad_inputs_are_refused(
    y_true: list[object], y_pred: list[object], columns: list[SensitiveColumn], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        count_binary(np.array(y_true), np.array(y_pred), columns)


def test_merge_and_marginal_refuse_other_features() -> None:
    one = CountTable.from_counts(["a"], [("x",)], [[1, 0, 0, 0]])
    other = CountTable.from_counts(["b"], [("x",)], [[1, 0, 0, 0]])
    with pytest.raises(InputError, match="cannot merge"):
        one.merge(other)
    with pytest.raises(InputError, match="no sensitive feature 'b'"):
        one.marginal(["b"])
    with pytest.raises(InputError, match=">= 0"):
        CountTable.from_counts(["a"], [("x",)], [[-1, 0, 0, 0]])
