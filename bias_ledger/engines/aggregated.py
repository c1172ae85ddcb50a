"""Aggregated rows to the metric engine's input: validated and encoded as the arrow engine's
rows are, each weighted by how many input rows it stands for.

An engine returns one row per distinct combination of the audited columns, with its count in
:data:`ROWS_COLUMN`. The same column checks (binary domains, classes, missing values, group
limits) run on those rows; a message names how many input rows hold a bad value rather than
their numbers, which an aggregating engine does not keep (``--engine arrow`` lists them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.io.columns import Located, label_domain, to_bool, to_classes
from bias_ledger.io.encode import encode_sensitive
from bias_ledger.io.model import AuditData, ColumnMapping, InputFile
from bias_ledger.io.tables import InMemoryTable
from bias_ledger.metrics.model import Task

ROWS_COLUMN = "__bias_ledger_rows"
"""The count column of an aggregated table (a name no dataset is expected to use)."""


@dataclass(frozen=True, eq=False)
class AggregatedColumn(Located):
    """A column of aggregated rows: messages count input rows instead of numbering them."""

    weights: npt.NDArray[np.int64] | None = None
    locate: Callable[[Located, npt.NDArray[np.int64]], str] | None = None
    """Names the input rows behind aggregated rows (the streaming engine rescans its file)."""

    def where(self, positions: npt.NDArray[np.int64]) -> str:
        if self.locate is not None:
            return self.locate(self, positions)
        assert self.weights is not None
        rows = int(self.weights[positions].sum())
        return (
            f"{rows} rows (the engine counts rows without numbering them; --engine arrow "
            "names them)"
        )

    def subset(
        self, keep: npt.NDArray[np.bool_], selector: Any, kept: npt.NDArray[np.int64]
    ) -> Located:
        assert self.weights is not None
        return AggregatedColumn(
            self.name, self.data.filter(selector), self.file, None, self.weights[keep], self.locate
        )


def audited_columns(mapping: ColumnMapping) -> list[str]:
    """The columns an engine aggregates by: label, prediction, sensitive features (once each)."""
    names = [mapping.label, mapping.prediction, *mapping.sensitive]
    return list(dict.fromkeys(name for name in names if name is not None))


def check_supported(mapping: ColumnMapping, engine: str) -> None:
    """InputError for what the aggregating engines do not compute yet."""
    if mapping.score is not None:
        raise InputError(
            f"--engine {engine} does not take --score yet (score metrics need per-group score "
            "histograms); use --engine arrow, or a --prediction column"
        )
    if mapping.task is Task.REGRESSION:
        raise InputError(
            f"--engine {engine} computes binary and multiclass classification audits; "
            "regression audits use --engine arrow"
        )


def _missing_rows(column: Located, weights: npt.NDArray[np.int64]) -> int:
    if not column.data.null_count:
        return 0
    from bias_ledger.io.arrays import bool_values

    return int(weights[bool_values(column.data.is_null())].sum())


def _nulls(column: Located) -> npt.NDArray[np.bool_]:
    from bias_ledger.io.arrays import bool_values

    return bool_values(column.data.is_null())


def audit_data(
    table: Any,
    mapping: ColumnMapping,
    *,
    source: str,
    inputs: Sequence[InputFile],
    files: Mapping[str, Any] | None = None,
    locate: Callable[[Located, npt.NDArray[np.int64]], str] | None = None,
) -> AuditData:
    """The engine's input from an aggregated ``table`` (audited columns + :data:`ROWS_COLUMN`).

    ``files`` names the file of each column and ``locate`` the input rows behind aggregated
    rows, for messages that name rows as the row-by-row reader's do.
    """
    import pyarrow.compute as pc

    from bias_ledger.io.arrays import numeric_view

    counts = table.column(ROWS_COLUMN)
    weights = np.concatenate(
        [np.asarray(numeric_view(chunk), dtype=np.int64) for chunk in counts.chunks]
        or [np.zeros(0, dtype=np.int64)]
    )
    origin = InMemoryTable(name=source, table=table)
    located: dict[str, Located] = {
        name: AggregatedColumn(
            name, table.column(name), (files or {}).get(name, origin), None, weights, locate
        )
        for name in audited_columns(mapping)
    }
    dropped = 0
    warnings: tuple[str, ...] = ()
    targets = [(mapping.label, "label"), (mapping.prediction, "prediction")]
    masks = []
    for name, role in targets:
        if name is None:
            continue
        count = _missing_rows(located[name], weights)
        if count and not mapping.drop_missing:
            column = located[name]
            where = (
                f", in {column.where(np.flatnonzero(_nulls(column)))}" if locate is not None else ""
            )
            raise InputError(
                f"{column.file if locate else source}: {role} column {name!r} has {count} "
                f"missing values{where}; expected a value on every row (pass --drop-missing to "
                "drop those rows)"
            )
        if count:
            masks.append(_nulls(located[name]))
    if masks:
        drop = np.logical_or.reduce(masks)
        dropped = int(weights[drop].sum())
        if dropped == int(weights.sum()):
            raise InputError("no rows left after dropping rows with a missing label or prediction")
        keep = ~drop
        selector = pc.invert(pc.or_kleene(*[located[n].data.is_null() for n, _ in targets if n]))
        located = {
            name: column.subset(keep, selector, np.flatnonzero(keep))
            for name, column in located.items()
        }
        weights = weights[keep]
        warnings += (f"dropped {dropped} rows with a missing label, prediction or score",)
    for name in mapping.sensitive:
        count = _missing_rows(located[name], weights)
        if count and not mapping.missing_as_group:
            column = located[name]
            where = (
                f", in {column.where(np.flatnonzero(_nulls(column)))}" if locate is not None else ""
            )
            raise InputError(
                f"{column.file if locate else source}: sensitive column {name!r} has {count} "
                f"missing values{where}; expected a group for every row (pass --missing-as-group "
                "to make them a group of their own)"
            )
    label = located[mapping.label]
    assert mapping.prediction is not None
    prediction = located[mapping.prediction]
    classes: tuple[str, ...] = ()
    positive_label = ""
    y_true: npt.NDArray[Any]
    y_pred: npt.NDArray[Any]
    if mapping.task is Task.MULTICLASS_CLASSIFICATION:
        y_true, y_pred, classes = to_classes(label, prediction, max_classes=mapping.max_groups)
    else:
        domain, positive_label = label_domain(label, mapping.pos_label)
        y_true = to_bool(label, domain, "label")
        y_pred = to_bool(prediction, domain, "prediction")
    sensitive = []
    for name in mapping.sensitive:
        encoded, notes = encode_sensitive(
            located[name], missing_as_group=mapping.missing_as_group, max_groups=mapping.max_groups
        )
        sensitive.append(encoded)
        warnings += notes
    return AuditData(
        y_true=y_true,
        y_pred=y_pred,
        score=None,
        sensitive=tuple(sensitive),
        inputs=tuple(inputs),
        rows=int(weights.sum()),
        dropped_rows=dropped,
        warnings=warnings,
        positive_label=positive_label,
        task=mapping.task,
        classes=classes,
        weights=weights,
    )
