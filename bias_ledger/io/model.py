"""Typed inputs of an audit: the files read, the column mapping, and the validated arrays."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from bias_ledger.input_options import DEFAULT_MAX_GROUPS
from bias_ledger.metrics.model import SensitiveColumn, Task
from bias_ledger.metrics.weights import WeightParts

if TYPE_CHECKING:
    from bias_ledger.metrics._cells import Precomputed

MISSING_GROUP = "<missing>"
"""The group name given to missing sensitive values with ``missing_as_group``."""


class FileFormat(StrEnum):
    """A supported input file format."""

    CSV = "csv"
    PARQUET = "parquet"
    JSONL = "jsonl"
    TABLE = "table"
    """An in-memory table (pandas, polars, pyarrow) handed to the Python API."""


class JoinMode(StrEnum):
    """How a dataset and a separate predictions file are joined."""

    ID = "id"
    """On an id column present in both files."""
    ROW_ORDER = "row-order"
    """Row i of one file with row i of the other; the row counts must match."""


@dataclass(frozen=True)
class ManifestEntry:
    """One file of a directory or glob input (docs/FORMAT.md, "Directories and globs")."""

    path: str
    """The path relative to the directory (or to the glob's fixed prefix), with ``/``."""
    size: int
    blake3: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "blake3": self.blake3}


@dataclass(frozen=True)
class InputFile:
    """One input file, fingerprinted for the ledger."""

    path: str
    """The path as given by the user (or resolved from the config file)."""
    name: str
    """The file's base name."""
    format: FileFormat
    """How the file was read."""
    size: int
    """Size in bytes."""
    blake3: str
    """Hex BLAKE3 digest of the raw file bytes (compressed bytes for ``.gz``)."""
    rows: int
    """Data rows in the file (before any were dropped)."""
    manifest: tuple[ManifestEntry, ...] | None = None
    """For a directory or glob: every file read, and ``blake3`` is the manifest's digest."""
    sha256: str | None = None
    """Hex SHA-256 of the raw file bytes (None for directories, globs, tables and tables in
    memory, and in records made before it was added)."""


@dataclass(frozen=True)
class ColumnMapping:
    """Which columns hold what, and how to treat them."""

    label: str
    """The true label column (binary)."""
    prediction: str | None = None
    """The predicted label column (binary); or None when predictions come from ``score``."""
    score: str | None = None
    """A numeric model score column; with ``threshold`` it gives ``score >= threshold``."""
    threshold: float | None = None
    """Decision threshold for ``score``; required when there is no ``prediction``."""
    pos_label: str | None = None
    """The label value counted as positive, as text; needed unless labels are 0/1 or true/false."""
    sensitive: tuple[str, ...] = ()
    """Sensitive feature columns, at least one."""
    id_column: str | None = None
    """Column joining the dataset with a separate predictions file."""
    join: JoinMode | None = None
    """Join mode for a separate predictions file; None means ``id`` when ``id_column`` is set."""
    missing_as_group: bool = False
    """Treat a missing sensitive value as its own group instead of an error."""
    drop_missing: bool = False
    """Drop rows missing the label, prediction or score instead of failing."""
    max_groups: int = DEFAULT_MAX_GROUPS
    """More groups than this in one sensitive feature is an error (probably an id column)."""
    default_na: bool = True
    """CSV cells reading ``NA``, ``N/A``, ``null``, ``NaN``, ... are missing (pyarrow's list);
    False: only empty cells are, so a group may be named "NA"."""
    task: Task = Task.BINARY_CLASSIFICATION
    """Binary classification (default), regression (numeric label and prediction) or
    multiclass classification (any label values)."""
    weight: str | None = None
    """A column of sample weights (fairlearn's ``sample_weight``): each row counts as its
    weight in every count and rate; None counts every row once."""


@dataclass(frozen=True, eq=False)
class AuditData:
    """Validated arrays ready for the metric engine, with where they came from."""

    y_true: npt.NDArray[Any]
    """Binary: True where the label is the positive label. Regression: float64 labels.
    Multiclass: int64 codes into ``classes``."""
    y_pred: npt.NDArray[Any]
    """The predictions, encoded as ``y_true`` is."""
    score: npt.NDArray[np.float64] | None
    """The model score per row, when a score column was given."""
    sensitive: tuple[SensitiveColumn, ...]
    """Each sensitive feature, dictionary-encoded with sorted text categories."""
    inputs: tuple[InputFile, ...]
    """The dataset file, then the predictions file when there is one."""
    rows: int
    """Rows audited (after drops)."""
    dropped_rows: int
    """Rows dropped for a missing label, prediction or score (``drop_missing``)."""
    warnings: tuple[str, ...]
    """Non-fatal findings, one line each (for example a single-group feature)."""
    positive_label: str
    """The label value treated as positive, as text (for example ``"1"``); empty unless binary."""
    task: Task = Task.BINARY_CLASSIFICATION
    """What ``y_true`` and ``y_pred`` hold."""
    classes: tuple[str, ...] = ()
    """Multiclass: the class names, indexed by code."""
    weights: npt.NDArray[np.int64] | None = None
    """How many input rows each row stands for, when an engine aggregated the input already
    (:mod:`bias_ledger.engines`); None when every row is one input row."""
    sample_weight: WeightParts | None = None
    """The ``--weight`` column's weights (or their sums per aggregated row), exactly."""
    statistics: Precomputed | None = None
    """Score histograms or regression sums an SQL engine computed (no rows then)."""
