"""Column checks and conversions: binary labels and predictions, scores, missing values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.io.arrays import bool_values, float_values, numeric_view
from bias_ledger.io.kernels import fill_null, min_max
from bias_ledger.io.tables import InMemoryTable

ROW_EXAMPLES = 5
VALUE_EXAMPLES = 10
_ZERO_ONE = {"0": "0", "1": "1", "false": "0", "true": "1", "0.0": "0", "1.0": "1"}


@dataclass(frozen=True, eq=False)
class Located:
    """A column of the (joined) input, with the file and file rows it came from."""

    name: str
    """Column name."""
    data: Any
    """The values: a ``pyarrow.ChunkedArray``."""
    file: Path | InMemoryTable
    """The file (or in-memory table) the column was read from."""
    rows: npt.NDArray[np.int64] | None = None
    """0-based row in ``file`` of each value; None when value i is row i."""

    def where(self, positions: npt.NDArray[np.int64]) -> str:
        """A phrase naming the first file rows at ``positions`` (1-based data rows)."""
        first = positions[:ROW_EXAMPLES]
        rows = first if self.rows is None else self.rows[first]
        return rows_phrase(self.file, [int(r) + 1 for r in rows], len(positions) > ROW_EXAMPLES)

    def subset(
        self, keep: npt.NDArray[np.bool_], selector: Any, kept: npt.NDArray[np.int64]
    ) -> Located:
        """This column restricted to the rows where ``keep`` is true.

        ``selector`` is ``keep`` as a pyarrow array and ``kept`` is ``np.flatnonzero(keep)``:
        made once for all columns, and ``kept`` shared by every column read in file order.
        """
        rows = kept if self.rows is None else self.rows[keep]
        return Located(self.name, self.data.filter(selector), self.file, rows)


def rows_phrase(file: Any, rows: Sequence[int], more: bool) -> str:
    """How every message names rows: ``rows 3, 8, ... (1-based data rows)`` (one: ``row 3 (a
    1-based data row)``), and for a CSV
    file the line the first starts on (a quoted value may span lines: lines and rows part
    ways)."""

    shown = ", ".join(str(row) for row in rows) + (", ..." if more else "")
    line = ""
    if rows and isinstance(file, Path) and file.name.lower().endswith((".csv", ".csv.gz")):
        from bias_ledger.io.read import csv_line

        line = csv_line(file, rows[0])
    if len(rows) == 1 and not more:
        return f"row {shown} (a 1-based data row){line.replace(', the first on', ', on')}"
    return f"rows {shown} (1-based data rows){line}"


def text(value: Any) -> str:
    """The text of one value, the same whatever the file format (1 -> "1", True -> "True")."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _plain(data: Any) -> Any:
    import pyarrow as pa

    if pa.types.is_dictionary(data.type):
        return data.cast(data.type.value_type)
    return data


def missing(column: Located) -> npt.NDArray[np.bool_] | None:
    """Mask of missing values (null, or NaN in a float column); None when nothing is missing."""
    import pyarrow as pa
    import pyarrow.compute as pc

    data = column.data
    mask: npt.NDArray[np.bool_] | None = None
    if data.null_count:
        mask = bool_values(data.is_null())
    if pa.types.is_floating(data.type) and pc.any(pc.is_nan(data)).as_py():
        nan = bool_values(pc.is_nan(data))
        mask = nan if mask is None else mask | nan
    return mask


def _uniques(data: Any) -> list[Any]:
    import pyarrow.compute as pc

    return [v for v in pc.unique(data).to_pylist() if v is not None]


def _listing(values: Sequence[Any]) -> str:
    shown = sorted({text(v) for v in values})
    more = f", ... ({len(shown)} values)" if len(shown) > VALUE_EXAMPLES else ""
    return ", ".join(repr(v) for v in shown[:VALUE_EXAMPLES]) + more


@dataclass(frozen=True)
class BinaryDomain:
    """The two label values and which one is positive."""

    positive: str
    """Text of the positive value (``"1"`` for 0/1 and true/false labels)."""
    values: frozenset[str] | None
    """The allowed texts; None for 0/1 and true/false, compared by meaning."""


def _zero_one_fast(data: Any) -> bool:
    """True when ``data`` is boolean, or integer within [0, 1]: 0/1 without hashing."""
    import pyarrow as pa

    if pa.types.is_boolean(data.type):
        return True
    if not pa.types.is_integer(data.type):
        return False
    bounds = min_max(data)
    return bounds["min"] is None or (bounds["min"] >= 0 and bounds["max"] <= 1)


def _first_row(column: Located, values: Sequence[Any], unknown: Sequence[str]) -> str:
    """Where the ``unknown`` values (by text) of ``column`` are, the first rows named."""
    import pyarrow as pa
    import pyarrow.compute as pc

    data = _plain(column.data)
    bad = [v for v in values if text(v) in unknown]
    hits = bool_values(pc.is_in(data, value_set=pa.array(bad, type=data.type)))
    rows = column.where(np.flatnonzero(hits))
    if len({text(v) for v in bad}) == len({text(v) for v in values}):
        return f"found in {rows}"  # every value is unexpected: the listing was just given
    return f"{_listing(bad)} in {rows}"


def label_domain(label: Located, pos_label: str | None) -> tuple[BinaryDomain, str]:
    """The label's binary domain and the positive label as written in the file."""
    import pyarrow as pa

    if pos_label is None and _zero_one_fast(label.data):
        return BinaryDomain("1", None), "True" if pa.types.is_boolean(label.data.type) else "1"
    values = _uniques(_plain(label.data))
    texts = sorted({text(v) for v in values})
    where = f"{label.file}: label column {label.name!r}"
    if pos_label is None:
        unknown = [t for t in texts if t.strip().lower() not in _ZERO_ONE]
        if unknown:
            raise InputError(
                f"{where} must be binary (0/1 or true/false); found {len(texts)} values: "
                f"{_listing(values)}; {_first_row(label, values, unknown)}"
                + ("; pass --pos-label to say which is positive" if len(texts) == 2 else "")
            )
        positive = [t for t in texts if _ZERO_ONE[t.strip().lower()] == "1"]
        return BinaryDomain("1", None), positive[0] if positive else "1"
    if len(texts) > 2:
        raise InputError(f"{where} must have two values; found {len(texts)}: {_listing(values)}")
    folded = [t for t in texts if t.lower() == pos_label.lower()]
    if pos_label not in texts and len(folded) == 1:
        pos_label = folded[0]  # --pos-label true for a boolean column read as True
    if pos_label not in texts and len(texts) == 2:
        # Real files often pad values (" >50K" in the UCI Adult data): say so, don't guess.
        padded = [t for t in texts if t.strip() == pos_label.strip()]
        hint = f"; did you mean {padded[0]!r} (with its spaces)?" if len(padded) == 1 else ""
        raise InputError(
            f"{where}: the positive label {pos_label!r} is not one of its values "
            f"{_listing(values)}{hint}"
        )
    return BinaryDomain(pos_label, frozenset(texts) | {pos_label}), pos_label


def _equals_one(data: Any) -> npt.NDArray[np.bool_]:
    """``data == 1`` chunk by chunk in numpy (a missing value is not 1).

    ``pc.equal(data, 1)`` would first widen a narrow integer column to int64 in full.
    """
    result = np.empty(len(data), dtype=np.bool_)
    offset = 0
    for chunk in data.chunks:
        values = fill_null(chunk, 0) if chunk.null_count else chunk
        np.equal(numeric_view(values), 1, out=result[offset : offset + len(chunk)])
        offset += len(chunk)
    return result


def to_bool(column: Located, domain: BinaryDomain, role: str) -> npt.NDArray[np.bool_]:
    """True where ``column`` holds the positive value; InputError for a value outside the domain."""
    import pyarrow as pa

    data = _plain(column.data)
    if domain.values is None and _zero_one_fast(data):
        if pa.types.is_boolean(data.type):
            return bool_values(data)
        return _equals_one(data)
    import pyarrow.compute as pc

    values = _uniques(data)
    if domain.values is None:
        keys = {text(v): _ZERO_ONE.get(text(v).strip().lower()) for v in values}
        unexpected = [v for v in values if keys[text(v)] is None]
        positive = [v for v in values if keys[text(v)] == "1"]
        expected = "0/1 or true/false"
    else:
        allowed = domain.values
        unexpected = [v for v in values if text(v) not in allowed]
        if len(allowed) < 2 and len({text(v) for v in unexpected}) == 1:
            unexpected = []  # the label had one value; the prediction may show the other
        positive = [v for v in values if text(v) == domain.positive]
        expected = " or ".join(repr(v) for v in sorted(allowed))
        meanings = {text(v): _ZERO_ONE.get(text(v).strip().lower()) for v in values}
        if unexpected and all(meanings.values()) and not any(text(v) in allowed for v in values):
            # A 0/1 (or true/false) prediction of a label written otherwise ("yes"/"no"): 1 is
            # the positive label, as the README promises; mixing the two spellings is refused.
            unexpected = []
            positive = [v for v in values if meanings[text(v)] == "1"]
    if unexpected:
        hits = bool_values(pc.is_in(data, value_set=pa.array(unexpected, type=data.type)))
        raise InputError(
            f"{column.file}: {role} column {column.name!r} must hold {expected}; found "
            f"{_listing(unexpected)} in {column.where(np.flatnonzero(hits))}"
        )
    if not positive:
        return np.zeros(len(data), dtype=np.bool_)
    hits = pc.is_in(data, value_set=pa.array(positive, type=data.type))
    return bool_values(hits)


def _not_numbers(column: Located, data: Any, role: str) -> str:
    """What is wrong with a numeric column read as another type: its values that are not
    numbers (as a CSV reader reads them), and where they are."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from bias_ledger.io.numbers import not_numbers

    bad: list[Any] = []
    if pa.types.is_string(data.type) or pa.types.is_large_string(data.type):
        bad = not_numbers(_uniques(data))
    if not bad:
        examples = _listing(_uniques(data.slice(0, 1000))[:3])
        return (
            f"{column.file}: {role} column {column.name!r} must be numeric; found {data.type} "
            f"values such as {examples}"
        )
    hits = bool_values(pc.is_in(data, value_set=pa.array(bad, type=data.type)))
    return (
        f"{column.file}: {role} column {column.name!r} holds {_listing(bad)} in "
        f"{column.where(np.flatnonzero(hits))}; expected a number"
    )


def to_score(column: Located, role: str = "score") -> npt.NDArray[np.float64]:
    """A numeric column (score, or a regression label or prediction) as float64.

    InputError when it is not numeric or holds NaN or an infinity.
    """
    import pyarrow as pa

    data = _plain(column.data)
    if not (pa.types.is_integer(data.type) or pa.types.is_floating(data.type)):
        raise InputError(_not_numbers(column, data, role))
    values = float_values(data)
    bad = ~np.isfinite(values)
    if bad.any():
        raise InputError(
            f"{column.file}: {role} column {column.name!r} must hold finite numbers; found "
            f"{int(bad.sum())} NaN or infinite values in {column.where(np.flatnonzero(bad))}"
        )
    return values


def to_classes(
    label: Located, prediction: Located, *, max_classes: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], tuple[str, ...]]:
    """Multiclass label and prediction as codes into one shared, sorted list of class names.

    Computed from each chunk's Arrow dictionary codes: only distinct values become text,
    never each row.
    """
    coded = [_dictionary_chunks(column) for column in (label, prediction)]
    names = [{text(v) for chunks in parts for v in chunks.used} for parts in [coded[0], coded[1]]]
    classes = tuple(sorted(names[0] | names[1]))
    if len(classes) > max_classes:
        raise InputError(
            f"{label.file}: label column {label.name!r} and prediction column "
            f"{prediction.name!r} hold {len(classes)} classes; expected at most {max_classes} "
            "(--max-groups)"
        )
    if len(classes) < 2:
        raise InputError(
            f"{label.file}: label column {label.name!r} holds a single class; expected at least 2"
        )
    index = {name: code for code, name in enumerate(classes)}
    label_codes, predicted_codes = (_class_codes(parts, index) for parts in coded)
    return label_codes, predicted_codes, classes


@dataclass(frozen=True, eq=False)
class _CodedChunk:
    values: list[Any]
    """The chunk's dictionary, as Python values."""
    used: list[Any]
    """The values some row holds (a dictionary may hold more)."""
    indices: npt.NDArray[Any]


def _dictionary_chunks(column: Located) -> list[_CodedChunk]:
    import pyarrow as pa

    chunks = []
    for chunk in column.data.chunks:
        encoded = chunk if pa.types.is_dictionary(chunk.type) else chunk.dictionary_encode()
        # Missing values never reach here (they are refused or dropped before).
        indices = numeric_view(
            encoded.indices.fill_null(0) if encoded.null_count else encoded.indices
        )
        values = encoded.dictionary.to_pylist()
        valid = bool_values(encoded.is_valid()) if encoded.null_count else slice(None)
        present = np.bincount(indices[valid], minlength=len(values))[: len(values)] > 0
        used = [value for value, hit in zip(values, present.tolist(), strict=True) if hit]
        chunks.append(_CodedChunk(values, used, indices))
    return chunks


def _class_codes(chunks: Sequence[_CodedChunk], index: dict[str, int]) -> npt.NDArray[np.int64]:
    """Each row's class code: its chunk's dictionary code looked up in a small table."""
    out = np.empty(sum(len(chunk.indices) for chunk in chunks), dtype=np.int64)
    offset = 0
    for chunk in chunks:
        lookup = np.array([index.get(text(v), 0) for v in chunk.values] or [0], dtype=np.int64)
        np.take(lookup, chunk.indices, out=out[offset : offset + len(chunk.indices)])
        offset += len(chunk.indices)
    return out
