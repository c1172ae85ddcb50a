"""Score-based metrics per group: ROC AUC, calibration (reliability bins, ECE), threshold sweep.

Everything is read from per-group score histograms (:mod:`bias_ledger.metrics.score_histogram`),
built batch by batch in memory bounded by bins x groups, and merged by addition; SQL engines
build the same histograms with ``GROUP BY``. Calibration and the sweep are exact; ROC AUC is
exact while the scores take at most ``max_distinct`` distinct values, else within a bound
stated per group (``roc_auc_error_bound``), computed from the histogram itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.metrics._cells import Regrouping, intersection, overall, regroupings
from bias_ledger.metrics._rowgroups import check_sensitive
from bias_ledger.metrics.binary import RATES
from bias_ledger.metrics.exact_cells import ExactCells
from bias_ledger.metrics.exact_sum import UNIT_BITS
from bias_ledger.metrics.model import SensitiveColumn, Value
from bias_ledger.metrics.score_bins import MAX_BINS
from bias_ledger.metrics.score_histogram import ScoreHistogram
from bias_ledger.metrics.score_results import (
    CalibrationBin,
    GroupScores,
    ScoreFeatureResult,
    ScoreResults,
    ThresholdSweep,
)

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
DEFAULT_BINS = 10
BATCH_ROWS = 1 << 20
"""Rows per batch when the rows are in memory (each batch is one bincount per statistic)."""
_NOT_PROBABILITIES = "scores outside [0, 1] are not probabilities: no calibration"
_ONE_CLASS = "ROC AUC is undefined: the group has only one class of label"
EXACT_AUC = (
    "exact while the scores take at most max_distinct distinct values (one bin per value); "
    "beyond that pass a larger max_distinct (memory grows with distinct values x groups), "
    "or the rows to roc_auc_score"
)


def roc_auc_from_counts(
    negatives: Floats, positives: Floats, *, distinct: bool = False
) -> tuple[Floats, Floats]:
    """(ROC AUC, error bound) per group from ``(G, bins)`` counts in ascending score order.

    Scores in one bin count as tied (half a pair each), which is the area
    ``sklearn.metrics.roc_auc_score`` integrates when a bin holds one distinct score. A bin
    holding both classes of a group at different scores can be off by its pairs: the bound is
    half of those pairs over all pairs; 0 with ``distinct`` bins (one score each, so a bin's
    pairs are true ties). NaN AUC for a group with a single class.
    """
    integral = bool(
        np.all(negatives == np.floor(negatives)) and np.all(positives == np.floor(positives))
    )
    neg: npt.NDArray[Any] = negatives.astype(np.int64) if integral else negatives
    pos: npt.NDArray[Any] = positives.astype(np.int64) if integral else positives
    below = np.cumsum(neg, axis=1) - neg
    twice_u = (pos * (2 * below + neg)).sum(axis=1)
    mixed = (pos * neg).sum(axis=1)
    n1, n0 = pos.sum(axis=1), neg.sum(axis=1)
    auc = np.full(len(n1), np.nan)
    bound = np.zeros(len(n1))
    for g in range(len(n1)):
        if n1[g] > 0 and n0[g] > 0:
            pairs = 2 * int(n1[g]) * int(n0[g]) if integral else 2 * float(n1[g]) * float(n0[g])
            auc[g] = (int(twice_u[g]) if integral else float(twice_u[g])) / pairs
            bound[g] = 0.0 if distinct else (int(mixed[g]) if integral else float(mixed[g])) / pairs
    return auc, bound


def _rates(numerator: Floats, denominator: float, reason: str) -> tuple[Value, ...]:
    if denominator == 0:
        return tuple(Value(None, reason=f"0/0: {reason}") for _ in numerator)
    return tuple(Value(float(k) / denominator) for k in numerator)


def _calibration(
    rows: Floats, positives: Floats, sums: list[int], counts: Floats
) -> tuple[tuple[CalibrationBin, ...], Value]:
    """Reliability bins and ECE; exact (one rounding) when the counts are integers, as they
    are without weights; weighted counts are float sums of the weights (``counts`` counts
    the rows of each bin)."""
    bins = len(rows)
    edges = np.linspace(0.0, 1.0, bins + 1)
    integral = bool(np.all(rows == np.floor(rows)) and np.all(positives == np.floor(positives)))
    unit = 1 << UNIT_BITS
    empty = Value(None, reason="0/0: no rows in this bin")
    out = []
    for b in range(bins):
        count = float(rows[b])
        if count > 0:
            mean = sums[b] / (int(count) * unit) if integral else sums[b] / unit / count
            predicted, observed = Value(mean), Value(float(positives[b]) / count)
        else:
            predicted = observed = empty
        out.append(
            CalibrationBin(
                low=float(edges[b]),
                high=float(edges[b + 1]),
                count=int(counts[b]),
                mean_predicted=predicted,
                observed_rate=observed,
            )
        )
    if integral:
        gap = sum(abs(int(positives[b]) * unit - sums[b]) for b in range(bins))
        ece = gap / (int(rows.sum()) * unit)
    else:
        ece = sum(abs(float(positives[b]) - sums[b] / unit) for b in range(bins)) / float(
            rows.sum()
        )
    return tuple(out), Value(ece)


def _exactly_summed(cells: ExactCells, members: Ints, shape: tuple[int, ...]) -> Floats:
    """Exact sums per cell of the regrouped histogram (``shape``), each rounded once."""
    block = math.prod(shape[1:])

    def to(cell: Ints) -> Ints:
        group, rest = np.divmod(cell, block)
        moved: Ints = members[group] * block + rest
        return moved

    return cells.moved(to).rounded(math.prod(shape)).reshape(shape)


def _summed(
    histogram: ScoreHistogram, regrouping: Regrouping, exact: bool
) -> tuple[Floats, Floats, Floats, list[list[int]]]:
    size = len(regrouping.groups)
    if exact and histogram.fine_weights is not None and histogram.coarse_weights is not None:
        members = np.asarray(regrouping.members, dtype=np.int64)
        fine = _exactly_summed(histogram.fine_weights, members, (size, *histogram.fine.shape[1:]))
        shape = (size, *histogram.coarse.shape[1:])
        coarse = _exactly_summed(histogram.coarse_weights, members, shape)
    else:
        fine = np.zeros((size, *histogram.fine.shape[1:]))
        np.add.at(fine, regrouping.members, histogram.fine)
        coarse = np.zeros((size, *histogram.coarse.shape[1:]))
        np.add.at(coarse, regrouping.members, histogram.coarse)
    rows = coarse
    if histogram.row_coarse is not None:
        rows = np.zeros((size, *histogram.coarse.shape[1:]))
        np.add.at(rows, regrouping.members, histogram.row_coarse)
    bins = histogram.calibration_bins
    sums = histogram.score_sums.regrouped(regrouping.members.tolist(), bins, size * bins)
    per_group = [[sums.units(g * bins + b) for b in range(bins)] for g in range(size)]
    return fine, coarse, rows, per_group


def _groups(
    histogram: ScoreHistogram,
    regrouping: Regrouping,
    thresholds: Floats,
    min_group_size: int,
    exact: bool,
) -> list[GroupScores]:
    fine, coarse, row_coarse, sums = _summed(histogram, regrouping, exact)
    distinct = histogram.binning.distinct
    auc, bound = roc_auc_from_counts(fine[:, :, 0], fine[:, :, 1], distinct=distinct)
    probabilities = histogram.low >= 0 and histogram.high <= 1
    by_threshold = coarse.sum(axis=1)  # (G, reached, 2)
    at_least = np.cumsum(by_threshold[:, ::-1], axis=1)[:, ::-1]
    column = np.searchsorted(histogram.thresholds, thresholds) + 1
    out = []
    for g, label in enumerate(regrouping.groups):
        cells = coarse[g].sum(axis=1)  # (calibration bins, 2)
        rows = row_coarse[g].sum(axis=1)  # the same, counting rows (not weights)
        n1, n = float(cells[:, 1].sum()), float(cells.sum())
        if probabilities:
            bins_g, ece = _calibration(cells.sum(axis=1), cells[:, 1], sums[g], rows.sum(axis=1))
        else:
            bins_g, ece = (), Value(None, reason=_NOT_PROBABILITIES)
        tp, fp = at_least[g, column, 1], at_least[g, column, 0]
        sweep = ThresholdSweep(
            thresholds=tuple(float(t) for t in thresholds),
            selection_rate=_rates(tp + fp, n, RATES["selection_rate"].empty),
            true_positive_rate=_rates(tp, n1, RATES["true_positive_rate"].empty),
            false_positive_rate=_rates(fp, n - n1, RATES["false_positive_rate"].empty),
        )
        defined = not np.isnan(auc[g])
        out.append(
            GroupScores(
                group=tuple(label),
                count=int(rows.sum()),
                positives=int(rows[:, 1].sum()),
                roc_auc=Value(float(auc[g])) if defined else Value(None, _ONE_CLASS),
                calibration=bins_g,
                expected_calibration_error=ece,
                sweep=sweep,
                sufficient=int(rows.sum()) >= min_group_size,
                roc_auc_error_bound=float(bound[g]) if defined else 0.0,
            )
        )
    return out


class WeightSums(StrEnum):
    """How a weighted score histogram sums the weights of a bin."""

    EXACT = "exact"
    """Exactly, rounded once: every engine gives the same bits (the binning says so)."""
    FLOAT = "float"
    """In float64, in the order the rows came: records whose binning names no method."""


def binning_json(histogram: ScoreHistogram, exact: bool) -> dict[str, Any]:
    """How the fine histogram was binned, for the results."""
    binning = histogram.binning
    out: dict[str, Any] = {
        "observed_min": histogram.low,
        "observed_max": histogram.high,
        "max_distinct": histogram.max_distinct,
        "calibration_bins": histogram.calibration_bins,
        "roc_auc_exact": exact,
        "exact_roc_auc": EXACT_AUC,
    }
    if binning.distinct:
        out |= {"fine_bins": "distinct scores", "bins": len(histogram.values)}
    else:
        width = math.ldexp(1.0, binning.exponent)
        out |= {
            "fine_bins": "equal width, aligned at multiples of the width",
            "bins": int(histogram.fine.shape[1]),
            "width": width,
            "low": math.ldexp(float(binning.first), binning.exponent),
            "high": math.ldexp(float(binning.first + histogram.fine.shape[1]), binning.exponent),
        }
    return out


def score_results(
    histogram: ScoreHistogram,
    sensitive: Sequence[SensitiveColumn],
    groups: Sequence[tuple[str, ...]],
    *,
    thresholds: Sequence[float],
    min_group_size: int = 0,
    weight_sums: WeightSums = WeightSums.EXACT,
) -> ScoreResults:
    """Score metrics from a histogram keyed by the intersection ``groups`` of ``sensitive``.

    A weighted histogram's bins hold the weights' exact sums, rounded once per bin of each
    group (``weight_sums`` EXACT, stated as ``weight_sums`` in the binning), or their float64
    sums as accumulated (FLOAT: how earlier versions' records were made, and recompute)."""
    cuts = np.asarray(thresholds, dtype=np.float64)
    exact = weight_sums is WeightSums.EXACT
    (everyone,) = _groups(histogram, overall(groups), cuts, 0, exact)
    features = tuple(
        ScoreFeatureResult(
            features=item.features,
            groups=tuple(_groups(histogram, item, cuts, min_group_size, exact)),
        )
        for item in regroupings(sensitive, groups)
    )
    every = [everyone, *(g for feature in features for g in feature.groups)]
    exact = all(item.roc_auc_error_bound == 0 for item in every)
    notes: tuple[str, ...] = () if everyone.calibration else (_NOT_PROBABILITIES,)
    # Stated in the histogram's description, not in the notes: records made before the
    # histograms hold notes without it, and recompute by comparing them.
    description = binning_json(histogram, exact)
    if histogram.fine_weights is not None and weight_sums is WeightSums.EXACT:
        description["weight_sums"] = WeightSums.EXACT.value
    description["roc_auc_max_error_bound"] = max(item.roc_auc_error_bound for item in every)
    return ScoreResults(
        overall=everyone,
        features=features,
        notes=notes,
        histogram=description,
    )


def _check(y_true: npt.NDArray[np.bool_], scores: Floats, thresholds: Floats, bins: int) -> None:
    if y_true.dtype != np.bool_ or y_true.ndim != 1:
        raise InputError(f"label must be a 1-d boolean array, got {y_true.dtype} {y_true.shape}")
    if scores.shape != y_true.shape:
        raise InputError(f"score has {len(scores)} rows, expected {len(y_true)}")
    if len(y_true) == 0:
        raise InputError("no rows to audit")
    if not np.isfinite(scores).all():
        bad = np.flatnonzero(~np.isfinite(scores))
        raise InputError(
            f"score must be finite; {len(bad)} rows are not (first: {bad[:5].tolist()})"
        )
    if thresholds.ndim != 1 or not np.isfinite(thresholds).all():
        raise InputError(f"thresholds must be finite numbers, got {thresholds.tolist()}")
    if bins < 1:
        raise InputError(f"the number of calibration bins must be >= 1, got {bins}")


def score_metrics(
    y_true: npt.NDArray[np.bool_],
    scores: npt.ArrayLike,
    sensitive: Sequence[SensitiveColumn],
    *,
    thresholds: Sequence[float] = (0.5,),
    bins: int = DEFAULT_BINS,
    min_group_size: int = 0,
    max_distinct: int = MAX_BINS,
    batch_rows: int = BATCH_ROWS,
) -> ScoreResults:
    """ROC AUC, calibration and a threshold sweep, overall and per group of every feature result.

    The rows are added to a :class:`ScoreHistogram` ``batch_rows`` at a time. Calibration needs
    probabilities: with any score outside [0, 1] it is left out (noted).
    """
    values = np.asarray(scores, dtype=np.float64)
    cuts = np.asarray(thresholds, dtype=np.float64)
    _check(y_true, values, cuts, bins)
    check_sensitive(sensitive, len(y_true))
    grouping = intersection(sensitive)
    histogram = ScoreHistogram(cuts, calibration_bins=bins, max_distinct=max_distinct)
    for start in range(0, len(values), batch_rows):
        part = slice(start, start + batch_rows)
        histogram.add(grouping.codes[part], y_true[part], values[part])
    return score_results(
        histogram, sensitive, grouping.groups, thresholds=thresholds, min_group_size=min_group_size
    )
