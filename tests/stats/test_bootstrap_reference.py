"""Bootstrap intervals agree with resampling rows: fairlearn's MetricFrame(n_boot=...) and numpy.

Our resamples are multinomial draws over the count table, fairlearn's resample rows; both
estimate the same bootstrap distribution, so their percentile bounds differ only by Monte Carlo
error. The tolerance is distribution-free: the empirical q-quantile of B draws lies, with
probability ~1 - 6e-5, between the true (Q) quantiles at q -/+ 4 sqrt(q (1 - q) / B); we stand
in for Q with a 20,000-resample run of ours, whose own error is ~10x smaller.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import sklearn.metrics as skm
from fairlearn import metrics as flm

from bias_ledger.metrics._batch import MetricPath, PathKind
from bias_ledger.metrics.bootstrap import bootstrap_intervals, resample_values
from bias_ledger.metrics.counts import count_binary, encode_column
from bias_ledger.metrics.engine import compute_binary_metrics

LEVEL = 0.95
QUANTILES = ((1 - LEVEL) / 2, (1 + LEVEL) / 2)
SIGMAS = 4.0


def _data(seed: int, n: int) -> tuple[Any, Any, Any]:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], n, p=[0.6, 0.4])
    y_true = rng.random(n) < 0.4
    y_pred = rng.random(n) < np.where(y_true, 0.7, 0.25) + np.where(group == "b", 0.08, 0.0)
    return y_true, y_pred, group


def _reference_distribution(
    y_true: Any, y_pred: Any, group: Any
) -> tuple[list[MetricPath], npt.NDArray[np.float64]]:
    table = count_binary(y_true, y_pred, [encode_column("g", group)])
    results = compute_binary_metrics(table)
    rng = np.random.default_rng(99)
    draws = rng.multinomial(table.n_rows, table.cells.ravel() / table.n_rows, size=20_000)
    return resample_values(table, draws.reshape(20_000, -1, 4), results)


def _assert_within_mc_error(
    name: str, got: float, quantile: float, reference: npt.NDArray[np.float64], boots: int
) -> None:
    spread = SIGMAS * math.sqrt(quantile * (1 - quantile) / boots)
    low_q, high_q = max(quantile - spread, 0.0), min(quantile + spread, 1.0)
    low, high = np.quantile(reference[~np.isnan(reference)], [low_q, high_q])
    assert low - 1e-12 <= got <= high + 1e-12, (name, quantile, got, low, high)


def test_agrees_with_fairlearn_metricframe_n_boot() -> None:
    y_true, y_pred, group = _data(0, 600)
    boots = 120
    frame = flm.MetricFrame(
        metrics={"selection_rate": flm.selection_rate, "accuracy_score": skm.accuracy_score},
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=group,
        n_boot=boots,
        ci_quantiles=list(QUANTILES),
        random_state=7,
    )
    paths, samples = _reference_distribution(y_true, y_pred, group)
    column = {path: samples[:, i] for i, path in enumerate(paths)}
    ours = bootstrap_intervals(
        count_binary(y_true, y_pred, [encode_column("g", group)]), resamples=2000, seed=3
    ).intervals()
    for metric in ("selection_rate", "accuracy_score"):
        checks: list[tuple[MetricPath, list[float]]] = [
            (MetricPath(PathKind.GROUP, (), metric), [s[metric] for s in frame.overall_ci]),
            *(
                (
                    MetricPath(PathKind.GROUP, ("g",), metric, (g,)),
                    [frame_q.loc[g, metric] for frame_q in frame.by_group_ci],
                )
                for g in ("a", "b")
            ),
            *(
                (
                    MetricPath(PathKind.DISPARITY, ("g",), metric, part=f"{method}_{kind}"),
                    [s[metric] for s in getattr(frame, f"{kind}_ci")(method=method)],
                )
                for method in ("between_groups", "to_overall")
                for kind in ("difference", "ratio")
            ),
        ]
        for path, bounds in checks:
            for quantile, fairlearn_bound, our_bound in zip(
                QUANTILES, bounds, (ours[path].low, ours[path].high), strict=True
            ):
                _assert_within_mc_error(
                    f"fairlearn {path}", fairlearn_bound, quantile, column[path], boots
                )
                _assert_within_mc_error(f"ours {path}", our_bound, quantile, column[path], 2000)


@pytest.mark.parametrize("seed", [1, 2])
def test_agrees_with_resampling_rows_in_numpy(seed: int) -> None:
    y_true, y_pred, group = _data(seed, 900)
    table = count_binary(y_true, y_pred, [encode_column("g", group)])
    paths, reference = _reference_distribution(y_true, y_pred, group)
    wanted = {p: i for i, p in enumerate(paths)}
    rng = np.random.default_rng(seed)
    boots = 2000
    rows = rng.integers(0, len(y_true), size=(boots, len(y_true)))
    in_a = group[rows] == "a"
    selected = y_pred[rows]
    rate_a = (selected & in_a).sum(axis=1) / in_a.sum(axis=1)
    rate_b = (selected & ~in_a).sum(axis=1) / (~in_a).sum(axis=1)
    row_bootstrap = {
        MetricPath(PathKind.GROUP, ("g",), "selection_rate", ("a",)): rate_a,
        MetricPath(PathKind.GROUP, ("g",), "selection_rate", ("b",)): rate_b,
        MetricPath(PathKind.SUMMARY, ("g",), "demographic_parity_difference"): np.abs(
            rate_a - rate_b
        ),
    }
    ours = bootstrap_intervals(table, resamples=boots, seed=seed).intervals()
    for path, values in row_bootstrap.items():
        for quantile, row_bound, our_bound in zip(
            QUANTILES,
            np.quantile(values, QUANTILES),
            (ours[path].low, ours[path].high),
            strict=True,
        ):
            _assert_within_mc_error(
                f"rows {path}", float(row_bound), quantile, reference[:, wanted[path]], boots
            )
            _assert_within_mc_error(
                f"ours {path}", our_bound, quantile, reference[:, wanted[path]], boots
            )
