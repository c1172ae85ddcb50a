"""Bootstrap benchmark: 1,000 resamples over 40 groups at 1e4 and 1e7 rows vs fairlearn n_boot.

Run: ``python benchmarks/bench_bootstrap.py [--fairlearn-rows 100000] [--fairlearn-boots 20]``.
Our resamples are multinomial draws over the (group x cell) counts, so their cost does not grow
with the rows; fairlearn's MetricFrame(n_boot=...) resamples rows and recomputes every metric.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from bias_ledger.metrics.bootstrap import bootstrap_intervals, with_intervals
from bias_ledger.metrics.counts import count_binary, encode_column
from bias_ledger.metrics.engine import compute_binary_metrics


def _data(rows: int, seed: int = 0) -> tuple[Any, Any, Any, Any]:
    rng = np.random.default_rng(seed)
    race = rng.integers(0, 5, rows)
    band = rng.integers(0, 8, rows)  # 5 x 8 = 40 intersectional groups
    y_true = rng.random(rows) < 0.4
    y_pred = rng.random(rows) < np.where(y_true, 0.7, 0.2) + 0.02 * race
    return y_true, y_pred, race, band


def _ours(rows: int, resamples: int, repeats: int = 3) -> tuple[float, float, int]:
    """(seconds to count the rows, best seconds for engine + bootstrap + attach, quantities)."""
    y_true, y_pred, race, band = _data(rows)
    start = time.perf_counter()
    table = count_binary(y_true, y_pred, [encode_column("race", race), encode_column("band", band)])
    count_s = time.perf_counter() - start
    best = float("inf")
    for repeat in range(repeats):
        start = time.perf_counter()
        results = compute_binary_metrics(table)
        boot = bootstrap_intervals(table, resamples=resamples, seed=repeat, results=results)
        with_intervals(results, boot)
        best = min(best, time.perf_counter() - start)
    return count_s, best, len(boot.estimates)


def _fairlearn(rows: int, boots: int) -> float:
    import sklearn.metrics as skm
    from fairlearn import metrics as flm

    y_true, y_pred, race, band = _data(rows)
    metrics = {
        "selection_rate": flm.selection_rate,
        "true_positive_rate": flm.true_positive_rate,
        "false_positive_rate": flm.false_positive_rate,
        "accuracy_score": skm.accuracy_score,
    }
    start = time.perf_counter()
    flm.MetricFrame(
        metrics=metrics,
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features={"race": race, "band": band},
        n_boot=boots,
        ci_quantiles=[0.025, 0.975],
        random_state=1,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--fairlearn-rows", type=int, default=100_000)
    parser.add_argument("--fairlearn-boots", type=int, default=20)
    parser.add_argument("--skip-fairlearn", action="store_true")
    args = parser.parse_args()
    print(f"bootstrap, {args.resamples} resamples, 40 intersectional groups (race 5 x band 8)")
    _ours(1000, 10, repeats=1)  # warm-up: first-call costs are not per-audit costs
    timings = {}
    for rows in (10_000, 10_000_000):
        count_s, boot_s, quantities = _ours(rows, args.resamples)
        timings[rows] = boot_s
        print(
            f"  ours   {rows:>11,} rows: engine + bootstrap + attach {boot_s:7.3f} s (best of 3) "
            f"({quantities} quantities; counting the rows once took {count_s:.3f} s)"
        )
    print(f"  ratio 1e7 / 1e4 rows: {timings[10_000_000] / timings[10_000]:.2f}x")
    if args.skip_fairlearn:
        return
    rows, boots = args.fairlearn_rows, args.fairlearn_boots
    seconds = _fairlearn(rows, boots)
    per = seconds / boots
    print(
        f"  fairlearn MetricFrame n_boot={boots} at {rows:,} rows (4 metrics): {seconds:.1f} s "
        f"= {per:.2f} s per resample, ~{per * args.resamples:,.0f} s for {args.resamples}"
    )
    ours_small = _ours(rows, args.resamples)[1]
    print(
        f"  ours at {rows:,} rows, {args.resamples} resamples: {ours_small:.3f} s "
        f"(~{per * args.resamples / ours_small:,.0f}x faster per equal resamples)"
    )


if __name__ == "__main__":
    main()
