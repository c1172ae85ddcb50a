"""Load and validate an audit's inputs: read, join, check and encode the mapped columns."""

from __future__ import annotations

import difflib
import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from bias_ledger.errors import InputError
from bias_ledger.io.arrays import arrow_integers, arrow_mask
from bias_ledger.io.columns import (
    Located,
    label_domain,
    missing,
    to_bool,
    to_classes,
    to_score,
)
from bias_ledger.io.digest import FileDigests, file_digests
from bias_ledger.io.encode import encode_sensitive
from bias_ledger.io.join import check_row_counts, join_on_id
from bias_ledger.io.model import AuditData, ColumnMapping, FileFormat, InputFile, JoinMode
from bias_ledger.io.read import (
    Source,
    check_columns,
    check_readable,
    detect_format,
    read_columns,
    read_schema,
    release_freed_memory,
    text_columns,
)
from bias_ledger.io.tables import InMemoryTable, table_digest
from bias_ledger.metrics.model import Task
from bias_ledger.wording import counted, with_article

Progress = Callable[[int], None]


class _Cancelled(Exception):
    """Stops hashing once reading has failed."""


def check_mapping(mapping: ColumnMapping) -> None:
    """InputError for a mapping that cannot work whatever the data."""
    if not mapping.label:
        raise InputError("no label column given; expected --label COLUMN")
    if mapping.prediction is None and mapping.score is None:
        raise InputError("no predictions given; expected --prediction COLUMN or --score COLUMN")
    if mapping.prediction is None and mapping.threshold is None:
        raise InputError(
            f"score column {mapping.score!r} has no threshold; expected --threshold NUMBER "
            "(predictions are score >= threshold)"
        )
    if mapping.threshold is not None and mapping.score is None:
        raise InputError("--threshold was given without --score COLUMN to apply it to")
    if mapping.threshold is not None and not math.isfinite(mapping.threshold):
        raise InputError(f"--threshold must be a finite number; got {mapping.threshold}")
    if not mapping.sensitive:
        raise InputError("no sensitive feature given; expected one or more --sensitive COLUMN")
    repeated = sorted({n for n in mapping.sensitive if mapping.sensitive.count(n) > 1})
    if repeated:
        raise InputError(f"sensitive column {repeated[0]!r} is given more than once")
    if mapping.max_groups < 1:
        raise InputError(f"max groups must be at least 1; got {mapping.max_groups}")
    if mapping.task is not Task.BINARY_CLASSIFICATION:
        if mapping.prediction is None:
            raise InputError(
                f"{with_article(mapping.task.value)} audit needs --prediction COLUMN (a score "
                "with a threshold makes binary predictions)"
            )
        if mapping.pos_label is not None or mapping.threshold is not None:
            raise InputError(
                f"--pos-label and --threshold apply to binary classification, not "
                f"{mapping.task.value}"
            )


def needed_columns(mapping: ColumnMapping) -> list[tuple[str, str]]:
    """(column, role) pairs in reading order, each column once."""
    pairs = [(mapping.label, "label")]
    if mapping.prediction is not None:
        pairs.append((mapping.prediction, "prediction"))
    if mapping.score is not None:
        pairs.append((mapping.score, "score"))
    pairs += [(name, "sensitive") for name in mapping.sensitive]
    if mapping.weight is not None:
        pairs.append((mapping.weight, "weight"))
    unique: dict[str, str] = {}
    for name, role in pairs:
        unique.setdefault(name, role)
    return list(unique.items())


def no_column_error(
    name: str, role: str, files: Sequence[Source], names: Sequence[str]
) -> InputError:
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = (
        "did you mean " + ", ".join(repr(c) for c in close) + "?"
        if close
        else "columns are "
        + ", ".join(repr(c) for c in names[:10])
        + (", ..." if len(names) > 10 else "")
    )
    where = " or ".join(str(f) for f in files)
    return InputError(f"{where}: no {role} column {name!r}; {hint}")


def _read_one(
    path: Source,
    fmt: FileFormat,
    schema: Any,
    columns: list[str],
    mapping: ColumnMapping,
) -> tuple[dict[str, Located], int]:
    grouped = set(mapping.sensitive)
    if mapping.task is Task.MULTICLASS_CLASSIFICATION:
        # Classes are coded from the dictionaries (io.columns.to_classes): read them so.
        grouped |= {mapping.label, mapping.prediction or mapping.label}
    text = text_columns(schema, [n for n in columns if n in grouped])
    # Labels and predictions are integers of a few values: held narrow, they cost a byte a row.
    # Integer ids of up to 2**31 rows fit in four bytes (the join compares them by value).
    narrow = [n for n in (mapping.label, mapping.prediction, mapping.id_column) if n in columns]
    table = read_columns(
        path, fmt, columns, as_dictionary=text, narrow=narrow, default_na=mapping.default_na
    )
    if table.num_rows == 0:
        raise InputError(f"{path}: no data rows; expected a header and at least one row")
    return {n: Located(n, table.column(n), path) for n in columns}, table.num_rows


def read_inputs(
    data: Source, predictions: Source | None, formats: Sequence[FileFormat], mapping: ColumnMapping
) -> tuple[dict[str, Located], list[int]]:
    """The mapped columns, aligned row by row with the dataset, and each file's row count."""
    needed = needed_columns(mapping)
    data_schema = read_schema(data, formats[0], default_na=mapping.default_na)
    names = list(data_schema.names)
    used = [n for n, _ in needed] + ([mapping.id_column] if mapping.id_column else [])
    check_columns(data, data_schema, used)
    if predictions is None:
        for name, role in needed:
            if name not in names:
                raise no_column_error(name, role, [data], names)
        located, rows = _read_one(data, formats[0], data_schema, [n for n, _ in needed], mapping)
        return located, [rows]
    pred_schema = read_schema(predictions, formats[1], default_na=mapping.default_na)
    other = list(pred_schema.names)
    check_columns(predictions, pred_schema, used)
    mode = mapping.join or (JoinMode.ID if mapping.id_column else None)
    if mode is None:
        raise InputError(
            f"cannot join {data} with {predictions}: expected --id COLUMN (in both files), "
            "or --join row-order to pair rows by position"
        )
    key = mapping.id_column if mode is JoinMode.ID else None
    if mode is JoinMode.ID:
        if key is None:
            raise InputError("--join id needs --id COLUMN naming the id column of both files")
        for path, columns in ((data, names), (predictions, other)):
            if key not in columns:
                raise no_column_error(key, "id", [path], columns)
    shared = [n for n in names if n in other and n != key]
    if shared:
        raise InputError(
            f"columns {', '.join(repr(n) for n in shared[:10])} are in both {data} and "
            f"{predictions}; expected each column other than the id in one file only"
        )
    from_data = [n for n, _ in needed if n in names]
    from_pred = [n for n, _ in needed if n in other]
    for name, role in needed:
        if name not in names and name not in other:
            raise no_column_error(name, role, [data, predictions], names + other)
    if mode is JoinMode.ROW_ORDER:
        for path, used in ((data, from_data), (predictions, from_pred)):
            if not used:
                raise InputError(f"{path}: none of the mapped columns is in this file")
        located, data_rows = _read_one(data, formats[0], data_schema, from_data, mapping)
        pred_located, pred_rows = _read_one(
            predictions, formats[1], pred_schema, from_pred, mapping
        )
        check_row_counts(data, data_rows, predictions, pred_rows)
        return {**located, **pred_located}, [data_rows, pred_rows]
    assert key is not None
    located, data_rows = _read_one(data, formats[0], data_schema, [key, *from_data], mapping)
    pred_located, pred_rows = _read_one(
        predictions, formats[1], pred_schema, [key, *from_pred], mapping
    )
    order = join_on_id(located.pop(key), pred_located.pop(key))
    taken = arrow_integers(order)
    for name in from_pred:
        column = pred_located[name]
        located[name] = Located(name, column.data.take(taken), predictions, order)
    return located, [data_rows, pred_rows]


def _drop_missing(
    located: dict[str, Located], mapping: ColumnMapping
) -> tuple[dict[str, Located], int, tuple[str, ...]]:
    roles = [(mapping.label, "label"), (mapping.prediction, "prediction"), (mapping.score, "score")]
    masks = []
    for name, role in roles:
        if name is None:
            continue
        mask = missing(located[name])
        if mask is None:
            continue
        column = located[name]
        if not mapping.drop_missing:
            raise InputError(
                f"{column.file}: {role} column {name!r} has "
                f"{counted(int(mask.sum()), 'missing value')}, in "
                f"{column.where(np.flatnonzero(mask))}; expected a value on every row "
                "(pass --drop-missing to drop those rows)"
            )
        masks.append(mask)
    if not masks:
        return located, 0, ()
    keep = ~np.logical_or.reduce(masks)
    dropped = int(len(keep) - keep.sum())
    if not keep.any():
        raise InputError("no rows left after dropping rows with a missing label or prediction")
    selector, kept = arrow_mask(keep), np.flatnonzero(keep)
    subset = {name: column.subset(keep, selector, kept) for name, column in located.items()}
    warning = f"dropped {dropped} rows with a missing label, prediction or score"
    return subset, dropped, (warning,)


def _digest_one(path: Source, mapping: ColumnMapping, tick: Progress) -> FileDigests:
    if isinstance(path, InMemoryTable):
        wanted = [name for name, _ in needed_columns(mapping)] + [mapping.id_column or ""]
        present = [name for name in wanted if name in path.table.column_names]
        digest, size = table_digest(path.table, present)
        return FileDigests(digest, "", size)  # no file bytes: no SHA-256 to give
    return file_digests(path, progress=tick)


def digest_inputs(
    paths: Sequence[Source],
    mapping: ColumnMapping,
    progress: Progress | None,
    cancel: threading.Event,
) -> list[FileDigests]:
    def tick(count: int) -> None:
        if cancel.is_set():
            raise _Cancelled
        if progress is not None:
            progress(count)

    try:
        return [_digest_one(path, mapping, tick) for path in paths]
    except _Cancelled:
        return []


def _targets(
    located: dict[str, Located], mapping: ColumnMapping
) -> tuple[Any, Any, Any, str, tuple[str, ...], tuple[str, ...]]:
    """Labels, predictions and score as the task needs them: (y_true, y_pred, score,
    positive label, classes, warnings)."""
    score = to_score(located[mapping.score]) if mapping.score is not None else None
    label = located[mapping.label]
    if mapping.task is Task.REGRESSION:
        assert mapping.prediction is not None
        actual = to_score(label, "label")
        return actual, to_score(located[mapping.prediction], "prediction"), score, "", (), ()
    if mapping.task is Task.MULTICLASS_CLASSIFICATION:
        assert mapping.prediction is not None
        label_codes, predicted_codes, classes = to_classes(
            label, located[mapping.prediction], max_classes=mapping.max_groups
        )
        return label_codes, predicted_codes, score, "", classes, ()
    domain, positive_label = label_domain(label, mapping.pos_label)
    y_true = to_bool(label, domain, "label")
    warnings: tuple[str, ...] = ()
    if mapping.prediction is not None:
        y_pred = to_bool(located[mapping.prediction], domain, "prediction")
        if mapping.threshold is not None:
            warnings += (
                f"threshold {mapping.threshold} ignored: predictions come from column "
                f"{mapping.prediction!r}",
            )
    else:
        assert score is not None and mapping.threshold is not None
        y_pred = score >= mapping.threshold
    return y_true, y_pred, score, positive_label, (), warnings


def load_audit_data(
    data: Source,
    *,
    predictions: Source | None = None,
    mapping: ColumnMapping,
    progress: Progress | None = None,
) -> AuditData:
    """Read, join, validate and encode the inputs of an audit; InputError on any bad input.

    The files are hashed in a background thread while they are read; ``progress`` receives
    the number of bytes hashed at each step (from that thread).
    """
    check_mapping(mapping)
    paths: list[Source] = [data] if predictions is None else [data, predictions]
    formats = []
    for path in paths:
        check_readable(path)
        formats.append(detect_format(path))
    cancel = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashing = pool.submit(digest_inputs, paths, mapping, progress, cancel)
        try:
            located, file_rows = read_inputs(data, predictions, formats, mapping)
            located, dropped, warnings = _drop_missing(located, mapping)
            y_true, y_pred, score, positive_label, classes, notes = _targets(located, mapping)
            warnings += notes
            sample_weight = None
            if mapping.weight is not None:
                from bias_ledger.io.weights import to_weights

                sample_weight = to_weights(located[mapping.weight])
            # Each column is let go once converted, so its Arrow buffers never outlive it.
            for name in [n for n in located if n not in mapping.sensitive]:
                del located[name]
            release_freed_memory()
            sensitive = []
            for name in mapping.sensitive:
                encoded, notes = encode_sensitive(
                    located.pop(name),
                    missing_as_group=mapping.missing_as_group,
                    max_groups=mapping.max_groups,
                )
                release_freed_memory()
                sensitive.append(encoded)
                warnings += notes
        except BaseException:
            cancel.set()
            raise
        digests = hashing.result()
    inputs = tuple(
        InputFile(
            path=str(path),
            name=path.name,
            format=fmt,
            size=digest.size,
            blake3=digest.blake3,
            rows=rows,
            sha256=digest.sha256 or None,
        )
        for path, fmt, digest, rows in zip(paths, formats, digests, file_rows, strict=True)
    )
    return AuditData(
        y_true=y_true,
        y_pred=y_pred,
        score=score,
        sensitive=tuple(sensitive),
        inputs=inputs,
        rows=len(y_true),
        dropped_rows=dropped,
        warnings=warnings,
        positive_label=positive_label,
        task=mapping.task,
        classes=classes,
        sample_weight=sample_weight,
    )
