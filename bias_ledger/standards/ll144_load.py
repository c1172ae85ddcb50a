"""Reading an LL144 audit's columns: the tool's output (selections or scores), sex and race.

No label is needed: LL144 concerns selection and scoring rates only. A missing category value,
or one named by ``unknown_values``, is an unknown category (§ 5-301), never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.input_options import DEFAULT_MAX_GROUPS
from bias_ledger.io.columns import Located, label_domain, missing, text, to_bool, to_score
from bias_ledger.io.digest import file_digests
from bias_ledger.io.load import read_inputs
from bias_ledger.io.model import ColumnMapping, FileFormat, InputFile, JoinMode
from bias_ledger.io.read import check_readable, detect_format
from bias_ledger.standards.ll144 import CodedColumn
from bias_ledger.wording import counted


@dataclass(frozen=True)
class LL144Columns:
    """Which columns hold what in an LL144 audit."""

    sex: str
    race_ethnicity: str
    prediction: str | None = None
    """Selection tools: 1/true where the individual was selected (moved forward)."""
    score: str | None = None
    """Scoring tools: the AEDT's score."""
    pos_label: str | None = None
    """The prediction value meaning "selected", unless 0/1 or true/false."""
    id_column: str | None = None
    join: JoinMode | None = None
    unknown_values: tuple[str, ...] = ()
    """Category values that mean "unknown" (besides missing values), e.g. "Decline to state"."""
    max_groups: int = DEFAULT_MAX_GROUPS


@dataclass(frozen=True, eq=False)
class LL144Data:
    """The validated columns of an LL144 audit, with the files they came from."""

    inputs: tuple[InputFile, ...]
    """The dataset file, then the predictions file when there is one (BLAKE3 and SHA-256)."""
    rows: int
    """Every individual assessed, unknown categories included."""
    selected: npt.NDArray[np.bool_] | None
    """Selection tools: who was selected."""
    scores: npt.NDArray[np.float64] | None
    """Scoring tools: each individual's score."""
    sex: CodedColumn
    race: CodedColumn


def _coded(column: Located, unknown: tuple[str, ...], max_groups: int) -> CodedColumn:
    """Codes into the sorted known categories; -1 for missing, empty or ``unknown`` values."""
    import pyarrow.compute as pc

    values = pc.cast(column.data, "string") if not _is_text(column.data) else column.data
    names = [None if v is None else text(v) for v in values.to_pylist()]
    skip = set(unknown) | {""}
    categories = sorted({n for n in names if n is not None and n.strip() not in skip})
    if len(categories) > max_groups:
        raise InputError(
            f"{column.file}: column {column.name!r} has {len(categories)} distinct values, more "
            f"than {max_groups}; it is probably not a category column"
        )
    position = {name: i for i, name in enumerate(categories)}
    codes = np.fromiter((position.get(n, -1) if n else -1 for n in names), np.int64, len(names))
    return CodedColumn(column.name, codes, tuple(categories))


def _is_text(data: object) -> bool:
    import pyarrow as pa

    kind = data.type  # type: ignore[attr-defined]
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def load_ll144_data(data: Path, predictions: Path | None, columns: LL144Columns) -> LL144Data:
    """Read, join and check the columns; InputError naming file, column and rows otherwise."""
    if (columns.prediction is None) == (columns.score is None):
        raise InputError(
            "--standard nyc-ll144 needs exactly one of --prediction COLUMN (a selection-type "
            "tool) or --score COLUMN (a scoring-type tool)"
        )
    if columns.sex == columns.race_ethnicity:
        raise InputError(f"--sex and --race-ethnicity both name column {columns.sex!r}")
    output = columns.prediction or columns.score
    assert output is not None
    mapping = ColumnMapping(
        label=output,
        sensitive=(columns.sex, columns.race_ethnicity),
        id_column=columns.id_column,
        join=columns.join,
    )
    paths = [data] if predictions is None else [data, predictions]
    formats: list[FileFormat] = []
    for path in paths:
        check_readable(path)
        formats.append(detect_format(path))
    located, file_rows = read_inputs(data, predictions, formats, mapping)
    column = located[output]
    absent = missing(column)
    if absent is not None:
        raise InputError(
            f"{column.file}: column {output!r} has "
            f"{counted(int(absent.sum()), 'missing value')}, in "
            f"{column.where(np.flatnonzero(absent))}; expected the tool's output for everyone"
        )
    selected = scores = None
    if columns.score is not None:
        scores = to_score(column)
        bad = ~np.isfinite(scores)
        if bad.any():
            raise InputError(
                f"{column.file}: score column {output!r} holds {int(bad.sum())} NaN or infinite "
                f"values, in {column.where(np.flatnonzero(bad))}; expected finite numbers"
            )
    else:
        domain, _ = label_domain(column, columns.pos_label)
        selected = to_bool(column, domain, "prediction")
    sex = _coded(located[columns.sex], columns.unknown_values, columns.max_groups)
    race = _coded(located[columns.race_ethnicity], columns.unknown_values, columns.max_groups)
    inputs = []
    for path, fmt, rows in zip(paths, formats, file_rows, strict=True):
        digests = file_digests(path)  # SHA-256 too, as every audit records (FORMAT.md 10.2)
        inputs.append(
            InputFile(
                path=str(path),
                name=path.name,
                format=fmt,
                size=digests.size,
                blake3=digests.blake3,
                rows=rows,
                sha256=digests.sha256,
            )
        )
    return LL144Data(tuple(inputs), len(column.data), selected, scores, sex, race)
