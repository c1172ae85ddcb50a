"""Wilson intervals attached to results, and the vectorised batch metrics on arbitrary tables."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bias_ledger.metrics._batch import value_paths
from bias_ledger.metrics.binary import RATES
from bias_ledger.metrics.bootstrap import resample_values
from bias_ledger.metrics.counts import CountTable, count_binary, encode_column
from bias_ledger.metrics.engine import compute_binary_metrics
from bias_ledger.metrics.wilson import wilson_interval, with_wilson_intervals


def test_every_defined_rate_gets_its_wilson_interval() -> None:
    rng = np.random.default_rng(0)
    race = rng.choice(list("abcd"), 500, p=[0.5, 0.3, 0.19, 0.01])
    y_true = rng.random(500) < 0.3
    y_pred = rng.random(500) < 0.4
    results = compute_binary_metrics(count_binary(y_true, y_pred, [encode_column("race", race)]))
    attached = with_wilson_intervals(results, level=0.9)
    checked = 0
    for item in (attached.overall, *attached.features[0].groups):
        c = item.counts
        cells = (c.true_negatives, c.false_positives, c.false_negatives, c.true_positives)
        for name, value in item.metrics.items():
            if name not in RATES or value.value is None:
                assert value.interval is None
                continue
            rate = RATES[name]
            expected = wilson_interval(
                int(sum(cells[i] for i in rate.numerator)),
                int(sum(cells[i] for i in rate.denominator)),
                level=0.9,
            )
            assert value.interval == expected
            assert value.interval is not None and value.interval.low <= value.value
            assert value.value <= value.interval.high
            checked += 1
    assert checked > 30
    for impact in attached.features[0].impact_ratios:
        group = attached.features[0].group(impact.group)
        assert impact.selection_rate == group.metrics["selection_rate"]


cells = st.lists(
    st.tuples(*(st.integers(0, 6) for _ in range(4))).filter(lambda row: sum(row) > 0),
    min_size=2,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(
    rows=cells,
    second=st.lists(st.sampled_from(["x", "y"]), min_size=6, max_size=6),
    min_group_size=st.integers(0, 12),
)
def test_batch_equals_engine_on_any_table(
    rows: list[tuple[int, int, int, int]], second: list[str], min_group_size: int
) -> None:
    groups = [(f"g{i}", second[i]) for i in range(len(rows))]
    table = CountTable.from_counts(("a", "b"), groups, rows)
    results = compute_binary_metrics(table, min_group_size=min_group_size)
    paths, samples = resample_values(table, table.cells[None, :, :], results)
    expected = dict(value_paths(results))
    assert set(paths) == set(expected)
    for path, got in zip(paths, samples[0], strict=True):
        want = expected[path].value
        assert (math.isnan(got) and want is None) or got == want, (path, got, want)
