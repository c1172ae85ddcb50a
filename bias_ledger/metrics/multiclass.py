"""Multiclass fairness metrics, one-vs-rest: a binary audit per class, with macro summaries.

One ``np.bincount`` over (group x true class x predicted class) gives every class's confusion
counts per group; each class then goes through the binary engine as its own count table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.metrics._rowgroups import check_sensitive, row_grouping
from bias_ledger.metrics.counts import CountTable
from bias_ledger.metrics.engine import compute_binary_metrics
from bias_ledger.metrics.model import ImpactDenominator, SensitiveColumn, Value
from bias_ledger.metrics.multiclass_results import ClassResult, MacroSummary, MulticlassResults

Ints = npt.NDArray[np.int64]


def class_tables(
    true_codes: Ints,
    pred_codes: Ints,
    n_classes: int,
    sensitive: Sequence[SensitiveColumn],
    weights: Ints | None = None,
) -> list[CountTable]:
    """One-vs-rest count tables, one per class, of the intersection of the sensitive columns
    (each row counted ``weights`` times, when given)."""
    grouping = row_grouping(sensitive)
    n_groups = len(grouping.groups)
    index = (grouping.codes * n_classes + true_codes) * n_classes + pred_codes
    size = n_groups * n_classes * n_classes
    if weights is None:
        joint = np.bincount(index, minlength=size)
    else:
        joint = np.rint(np.bincount(index, weights=weights, minlength=size))
    joint = joint.reshape(n_groups, n_classes, n_classes).astype(np.int64)
    totals = joint.sum(axis=(1, 2))
    tables = []
    for c in range(n_classes):
        tp = joint[:, c, c]
        fn = joint[:, c, :].sum(axis=1) - tp
        fp = joint[:, :, c].sum(axis=1) - tp
        tn = totals - tp - fn - fp
        cells = np.column_stack([tn, fp, fn, tp])
        tables.append(CountTable.from_counts(grouping.features, grouping.groups, cells))
    return tables


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
    tables = class_tables(true_codes, pred_codes, len(classes), sensitive, weights)
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
    return MulticlassResults(classes, per_class, _macro(per_class), notes)
