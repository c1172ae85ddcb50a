"""Every result object of the statistics modules encodes canonically (no NaN, plain JSON)."""

from __future__ import annotations

import numpy as np

from bias_ledger.ledger.canonical import decode, encode
from bias_ledger.metrics.bootstrap import bootstrap_intervals, with_intervals
from bias_ledger.metrics.counts import count_binary, encode_column
from bias_ledger.metrics.engine import compute_binary_metrics
from bias_ledger.metrics.multiclass import multiclass_metrics
from bias_ledger.metrics.regression import regression_metrics
from bias_ledger.metrics.scores import score_metrics
from bias_ledger.metrics.significance import selection_rate_tests


def test_results_encode_canonically() -> None:
    rng = np.random.default_rng(0)
    n = 400
    # A tiny group with a single class makes undefined values (None + reason) appear.
    race = np.where(np.arange(n) < 3, "z", rng.choice(["a", "b"], n))
    columns = [encode_column("race", race), encode_column("sex", rng.choice(["f", "m"], n))]
    y_true = (rng.random(n) < 0.4) & (race != "z")
    y_pred = rng.random(n) < 0.5
    scores = rng.random(n)
    table = count_binary(y_true, y_pred, columns)
    results = compute_binary_metrics(table)
    boot = bootstrap_intervals(table, resamples=50, seed=0, results=results)
    objects = [
        with_intervals(results, boot).to_json(),
        boot.to_json(),
        boot.summary_json(),
        [f.to_json() for f in selection_rate_tests(results)],
        regression_metrics(scores, scores * 1.1, columns, min_group_size=30).to_json(),
        multiclass_metrics(rng.integers(0, 3, n), rng.integers(0, 3, n), columns).to_json(),
        score_metrics(y_true, scores, columns, thresholds=(0.2, 0.8)).to_json(),
    ]
    for value in objects:
        assert decode(encode(value)) == value
    text = encode(objects[-1]).decode()
    assert '"reason"' in text and "NaN" not in text
