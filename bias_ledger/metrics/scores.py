"""Score-based metrics per group: ROC AUC, calibration (reliability bins, ECE), threshold sweep.

ROC AUC comes from average ranks within each group (Mann-Whitney U; one sort of the scores
shared by every grouping), calibration and the sweep from one ``np.bincount`` each: no loop
over groups, thresholds or rows in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.metrics._rowgroups import check_sensitive, feature_groupings
from bias_ledger.metrics.binary import RATES
from bias_ledger.metrics.model import SensitiveColumn, Value
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
_NOT_PROBABILITIES = "scores outside [0, 1] are not probabilities: no calibration"


def roc_auc_by_group(
    y_true: npt.NDArray[np.bool_],
    scores: Floats,
    codes: Ints,
    n_groups: int,
    *,
    score_order: Ints | None = None,
) -> tuple[Floats, Ints, Ints]:
    """(ROC AUC, positives, rows) per group; AUC is NaN for a group with a single class.

    AUC = (sum of positives' ranks - n1 (n1 + 1) / 2) / (n1 n0), ties sharing their average
    rank, which is the area ``sklearn.metrics.roc_auc_score`` integrates. ``score_order``
    (``np.argsort(scores)``) can be shared by several groupings of the same rows.
    """
    if score_order is None:
        score_order = np.argsort(scores).astype(np.int64)
    rows = np.bincount(codes, minlength=n_groups)
    if n_groups == 1:
        order = score_order
    else:
        # A stable sort by group of the score-sorted rows; narrow codes get a radix sort.
        narrow = codes[score_order].astype(np.uint16 if n_groups <= 1 << 16 else np.int64)
        order = score_order[np.argsort(narrow, kind="stable")]
    sorted_codes = np.repeat(np.arange(n_groups, dtype=np.int64), rows)
    sorted_scores = scores[order]
    n = len(order)
    starts = np.ones(n, dtype=bool)
    starts[1:] = (sorted_codes[1:] != sorted_codes[:-1]) | (sorted_scores[1:] != sorted_scores[:-1])
    run_start = np.flatnonzero(starts)
    run_end = np.append(run_start[1:], n)
    group_start = np.cumsum(rows) - rows
    # Twice the average 1-based rank within the group: an integer, so the sums below are exact.
    twice_rank = run_start + run_end + 1 - 2 * group_start[sorted_codes[run_start]]
    row_rank = np.repeat(twice_rank, run_end - run_start)
    positive = y_true[order]
    positives = np.bincount(sorted_codes[positive], minlength=n_groups)
    rank_sum = np.bincount(sorted_codes[positive], weights=row_rank[positive], minlength=n_groups)
    negatives = rows - positives
    u = rank_sum / 2 - positives * (positives + 1) / 2
    auc = np.full(n_groups, np.nan)
    both = (positives > 0) & (negatives > 0)
    auc[both] = u[both] / (positives[both] * negatives[both])
    return auc, positives.astype(np.int64), rows.astype(np.int64)


def score_bins(scores: Floats, bins: int) -> Ints:
    """Each score's calibration bin, as ``sklearn.calibration.calibration_curve`` assigns it.

    Equal-width bins over [0, 1]; a score on an inner edge falls in the lower bin.
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    return np.searchsorted(edges[1:-1], scores).astype(np.int64)


def thresholds_reached(scores: Floats, thresholds: Floats) -> Ints:
    """How many of the distinct thresholds each score reaches (``score >= t``)."""
    return np.searchsorted(np.unique(thresholds), scores, side="right").astype(np.int64)


def calibration_by_group(
    y_true: npt.NDArray[np.bool_],
    scores: Floats,
    codes: Ints,
    n_groups: int,
    bins: int,
    *,
    row_bins: Ints | None = None,
) -> tuple[Ints, Floats, Floats]:
    """(rows, sum of scores, positives) per group and bin, each ``(G, bins)``.

    ``row_bins`` (:func:`score_bins`) can be shared by several groupings of the same rows.
    """
    if row_bins is None:
        row_bins = score_bins(scores, bins)
    index = codes * bins + row_bins
    size = n_groups * bins
    rows = np.bincount(index, minlength=size).reshape(n_groups, bins)
    score_sum = np.bincount(index, weights=scores, minlength=size).reshape(n_groups, bins)
    positives = np.bincount(index, weights=y_true, minlength=size).reshape(n_groups, bins)
    return rows.astype(np.int64), score_sum.astype(np.float64), positives.astype(np.float64)


def sweep_by_group(
    y_true: npt.NDArray[np.bool_],
    scores: Floats,
    codes: Ints,
    n_groups: int,
    thresholds: Floats,
    *,
    reached: Ints | None = None,
) -> tuple[Ints, Ints, Ints]:
    """(selected, true positives, false positives) per group and threshold, ``score >= t``.

    Each row counts once, at the number of (sorted, distinct) thresholds it reaches; a
    cumulative sum from the top then gives the counts at every threshold. ``reached``
    (:func:`thresholds_reached`) can be shared by several groupings of the same rows.
    """
    distinct = np.unique(thresholds)
    if reached is None:
        reached = thresholds_reached(scores, thresholds)
    width = len(distinct) + 1
    index = (codes * width + reached) * 2 + y_true
    cells = np.bincount(index, minlength=n_groups * width * 2).reshape(n_groups, width, 2)
    at_least = np.cumsum(cells[:, ::-1], axis=1)[:, ::-1]
    # Sorted threshold j is reached by rows with reached >= j + 1.
    column = np.searchsorted(distinct, thresholds) + 1
    true_positives, false_positives = at_least[:, column, 1], at_least[:, column, 0]
    selected = true_positives + false_positives
    return (
        selected.astype(np.int64),
        true_positives.astype(np.int64),
        false_positives.astype(np.int64),
    )


@dataclass(frozen=True, eq=False)
class _Shared:
    """Per-row work that does not depend on the grouping, done once."""

    order: Ints
    """``np.argsort(scores)``."""
    row_bins: Ints
    """Calibration bin of each row."""
    reached: Ints
    """Distinct thresholds each row reaches."""


def _rates(numerator: Ints, denominator: int, reason: str) -> tuple[Value, ...]:
    if denominator == 0:
        return tuple(Value(None, reason=f"0/0: {reason}") for _ in numerator)
    return tuple(Value(int(k) / denominator) for k in numerator)


def _calibration(rows: Ints, score_sum: Floats, positives: Floats) -> tuple[CalibrationBin, ...]:
    bins = len(rows)
    edges = np.linspace(0.0, 1.0, bins + 1)
    out = []
    for b in range(bins):
        count = int(rows[b])
        empty = Value(None, reason="0/0: no rows in this bin")
        out.append(
            CalibrationBin(
                low=float(edges[b]),
                high=float(edges[b + 1]),
                count=count,
                mean_predicted=Value(float(score_sum[b]) / count) if count else empty,
                observed_rate=Value(float(positives[b]) / count) if count else empty,
            )
        )
    return tuple(out)


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


def _groups(
    y_true: npt.NDArray[np.bool_],
    scores: Floats,
    codes: Ints,
    labels: Sequence[tuple[str, ...]],
    thresholds: Floats,
    bins: int,
    min_group_size: int,
    shared: _Shared,
) -> list[GroupScores]:
    n_groups = len(labels)
    auc, positives, rows = roc_auc_by_group(
        y_true, scores, codes, n_groups, score_order=shared.order
    )
    probabilities = bool(((scores >= 0) & (scores <= 1)).all())
    calibration = calibration_by_group(
        y_true, scores, codes, n_groups, bins, row_bins=shared.row_bins
    )
    selected, tp, fp = sweep_by_group(
        y_true, scores, codes, n_groups, thresholds, reached=shared.reached
    )
    one_class = "ROC AUC is undefined: the group has only one class of label"
    out = []
    for g, label in enumerate(labels):
        n, n1 = int(rows[g]), int(positives[g])
        if probabilities:
            bins_g = _calibration(calibration[0][g], calibration[1][g], calibration[2][g])
            gap = np.abs(calibration[2][g] - calibration[1][g]).sum() / n
            ece = Value(float(gap))
        else:
            bins_g, ece = (), Value(None, reason=_NOT_PROBABILITIES)
        sweep = ThresholdSweep(
            thresholds=tuple(float(t) for t in thresholds),
            selection_rate=_rates(selected[g], n, RATES["selection_rate"].empty),
            true_positive_rate=_rates(tp[g], n1, RATES["true_positive_rate"].empty),
            false_positive_rate=_rates(fp[g], n - n1, RATES["false_positive_rate"].empty),
        )
        out.append(
            GroupScores(
                group=tuple(label),
                count=n,
                positives=n1,
                roc_auc=Value(float(auc[g])) if not np.isnan(auc[g]) else Value(None, one_class),
                calibration=bins_g,
                expected_calibration_error=ece,
                sweep=sweep,
                sufficient=n >= min_group_size,
            )
        )
    return out


def score_metrics(
    y_true: npt.NDArray[np.bool_],
    scores: npt.ArrayLike,
    sensitive: Sequence[SensitiveColumn],
    *,
    thresholds: Sequence[float] = (0.5,),
    bins: int = DEFAULT_BINS,
    min_group_size: int = 0,
) -> ScoreResults:
    """ROC AUC, calibration and a threshold sweep, overall and per group of every feature result.

    Calibration needs probabilities: with any score outside [0, 1] it is left out (noted).
    """
    values = np.asarray(scores, dtype=np.float64)
    cuts = np.asarray(thresholds, dtype=np.float64)
    _check(y_true, values, cuts, bins)
    check_sensitive(sensitive, len(y_true))
    everyone = np.zeros(len(y_true), dtype=np.int64)
    order = _Shared(
        order=np.argsort(values).astype(np.int64),
        row_bins=score_bins(values, bins),
        reached=thresholds_reached(values, cuts),
    )
    (overall,) = _groups(y_true, values, everyone, [()], cuts, bins, 0, order)
    features = tuple(
        ScoreFeatureResult(
            features=grouping.features,
            groups=tuple(
                _groups(
                    y_true,
                    values,
                    grouping.codes,
                    grouping.groups,
                    cuts,
                    bins,
                    min_group_size,
                    order,
                )
            ),
        )
        for grouping in feature_groupings(sensitive)
    )
    notes = () if overall.calibration else (_NOT_PROBABILITIES,)
    return ScoreResults(overall=overall, features=features, notes=notes)
