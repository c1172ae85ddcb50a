"""Multiclass fairness metrics, one-vs-rest: a binary audit per class, with macro summaries.

One ``np.bincount`` over (group x true class x predicted class) gives every class's confusion
counts per group; each class then goes through the binary engine as its own count table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.metrics._rowgroups import check_sensitive, row_grouping
from bias_ledger.metrics.counts import CountTable
from bias_ledger.metrics.engine import compute_binary_metrics
from bias_ledger.metrics.model import ImpactDenominator, SensitiveColumn, Value
from bias_ledger.metrics.multiclass_results import ClassResult, MacroSummary, MulticlassResults
from bias_ledger.metrics.weights import WeightParts, WeightSums, exact_bincount

Ints = npt.NDArray[np.int64]


def class_tables(
    true_codes: Ints,
    pred_codes: Ints,
    n_classes: int,
    sensitive: Sequence[SensitiveColumn],
    weights: Ints | None = None,
    sample_weight: WeightParts | None = None,
) -> list[CountTable]:
    """One-vs-rest count tables, one per class, of the intersection of the sensitive columns
    (each row counted ``weights`` times, when given; ``sample_weight`` adds exact weight
    sums, :attr:`CountTable.weighted`)."""
    grouping = row_grouping(sensitive)
    n_groups = len(grouping.groups)
    index = grouping.codes * n_classes
    index += true_codes
    index *= n_classes
    index += pred_codes
    size = n_groups * n_classes * n_classes
    if weights is None:
        joint = np.bincount(index, minlength=size)
    else:
        joint = np.rint(np.bincount(index, weights=weights, minlength=size))
    joint = joint.reshape(n_groups, n_classes, n_classes).astype(np.int64)
    exact = None
    if sample_weight is not None:
        exact = exact_bincount(index, sample_weight, size)
    tables = []
    for c in range(n_classes):
        cells = _one_vs_rest(joint, c)
        weighted = None
        if exact is not None:
            sums = _one_vs_rest(exact.numerators.reshape(n_groups, n_classes, n_classes), c)
            weighted = WeightSums(sums, exact.scale)
        tables.append(
            CountTable.from_counts(grouping.features, grouping.groups, cells, weighted=weighted)
        )
    return tables


def _one_vs_rest(joint: npt.NDArray[Any], c: int) -> npt.NDArray[Any]:
    """(TN, FP, FN, TP) per group of class ``c`` from (group x true x predicted) counts."""
    tp = joint[:, c, c]
    fn = joint[:, c, :].sum(axis=1) - tp
    fp = joint[:, :, c].sum(axis=1) - tp
    tn = joint.sum(axis=(1, 2)) - tp - fn - fp
    return np.column_stack([tn, fp, fn, tp])


def _macro(per_class: Sequence[ClassResult]) -> tuple[MacroSummary, ...]:
    out = []
    for i, first in enumerate(per_class[0].results.features):
        summaries: dict[str, Value] = {}
        for name in first.summaries:
            values = [(c.label, c.results.features[i].summaries[name]) for c in per_class]
            undefined = [(label, v) for label, v in values if v.value is None]
            if undefined:
                label, value = undefined[0]
                reason = f"undefined for class {label!r} ({value.reason})"
                summaries[name] = Value(None, reason=reason)
            else:
                numbers = [float(v.value or 0.0) for _, v in values]
                summaries[name] = Value(sum(numbers) / len(numbers))
        out.append(MacroSummary(first.features, summaries))
    return tuple(out)


def multiclass_metrics(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    sensitive: Sequence[SensitiveColumn],
    *,
    references: Mapping[str, str] | None = None,
    min_group_size: int = 0,
    impact_rule: ImpactDenominator = ImpactDenominator.MOST_SELECTED_SUFFICIENT,
    weights: Ints | None = None,
) -> MulticlassResults:
    """Binary metrics of every class against the rest, per group, with macro summaries.

    Classes are the distinct values of labels and predictions together, in ``np.unique``
    order and named as text. ``references`` and ``min_group_size`` are as for
    :func:`~bias_ledger.metrics.engine.compute_binary_metrics`; ``weights`` counts each row
    that many times (rows an engine aggregated).
    """
    labels, predictions = np.asarray(y_true), np.asarray(y_pred)
    if labels.ndim != 1 or predictions.shape != labels.shape:
        raise InputError(
            f"label and prediction must be 1-d and of equal length, got {labels.shape} "
            f"and {predictions.shape}"
        )
    if len(labels) == 0:
        raise InputError("no rows to audit")
    check_sensitive(sensitive, len(labels))
    values, codes = np.unique(np.concatenate([labels, predictions]), return_inverse=True)
    codes = codes.astype(np.int64).reshape(-1)
    classes = tuple(str(value) for value in values.tolist())
    if len(set(classes)) != len(classes):
        raise InputError(f"class values must have distinct text forms, got {list(classes)}")
    true_codes, pred_codes = codes[: len(labels)], codes[len(labels) :]
    return multiclass_from_codes(
        true_codes,
        pred_codes,
        classes,
        sensitive,
        references=references,
        min_group_size=min_group_size,
        impact_rule=impact_rule,
        weights=weights,
    )


def multiclass_from_codes(
    true_codes: Ints,
    pred_codes: Ints,
    classes: Sequence[str],
    sensitive: Sequence[SensitiveColumn],
    *,
    references: Mapping[str, str] | None = None,
    min_group_size: int = 0,
    impact_rule: ImpactDenominator = ImpactDenominator.MOST_SELECTED_SUFFICIENT,
    weights: Ints | None = None,
    sample_weight: WeightParts | None = None,
) -> MulticlassResults:
    """:func:`multiclass_metrics` of labels and predictions already coded into ``classes``
    (sorted, as the readers code them from Arrow dictionaries): no per-row text."""
    if len(true_codes) == 0:
        raise InputError("no rows to audit")
    check_sensitive(sensitive, len(true_codes))
    tables = class_tables(
        np.asarray(true_codes, dtype=np.int64),
        np.asarray(pred_codes, dtype=np.int64),
        len(classes),
        sensitive,
        weights,
        sample_weight,
    )
    per_class = tuple(
        ClassResult(
            label,
            compute_binary_metrics(
                table,
                references=references,
                min_group_size=min_group_size,
                impact_rule=impact_rule,
            ),
        )
        for label, table in zip(classes, tables, strict=True)
    )
    notes = tuple(f"class {c.label}: {note}" for c in per_class for note in c.results.notes)
    return MulticlassResults(tuple(classes), per_class, _macro(per_class), notes)
