"""Combining dictionary-encoded sensitive columns into one group code, and ordering groups."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bias_ledger.metrics.model import SensitiveColumn

# Above this many possible combinations the dense code space is compacted to the observed ones
# (one sort); below it a bincount over the dense space is cheaper than sorting the rows.
DENSE_LIMIT = 1 << 22
# The name of the explicit missing-value group (see SensitiveColumn.categories).
MISSING_GROUP = "<missing>"


@dataclass(frozen=True, eq=False)
class CombinedCodes:
    """One mixed-radix code per row for a combination of sensitive columns."""

    codes: npt.NDArray[np.int64]
    """Combined code of each row, ``0 <= code < space``."""
    space: int
    """Number of possible combined codes."""
    base_keys: npt.NDArray[np.int64]
    """Per-feature codes of each code of the leading (compacted) features."""
    radices: tuple[int, ...]
    """Category counts of the trailing features mixed in after the last compaction."""

    def decode(self, codes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Per-feature codes (one column per feature) of the given combined codes."""
        digits = []
        rest = codes
        for radix in reversed(self.radices):
            digits.append(rest % radix)
            rest = rest // radix
        return np.column_stack([self.base_keys[rest], *reversed(digits)]).astype(np.int64)


def combine_codes(columns: Sequence[SensitiveColumn]) -> CombinedCodes:
    """Combine the columns' int64 codes by mixed-radix arithmetic, never overflowing.

    When the space of possible combinations grows past :data:`DENSE_LIMIT`, the leading
    features are first re-coded to their observed combinations (``np.unique`` keeps the
    lexicographic order), so codes stay small whatever the number of features.
    """
    first = columns[0]
    combined = first.codes.astype(np.int64, copy=True)
    base_keys = np.arange(len(first.categories), dtype=np.int64)[:, None]
    radices: list[int] = []
    space = len(first.categories)
    for column in columns[1:]:
        radix = len(column.categories)
        if space * radix > DENSE_LIMIT:
            observed, combined = np.unique(combined, return_inverse=True)
            base_keys = CombinedCodes(combined, space, base_keys, tuple(radices)).decode(observed)
            radices = []
            space = len(observed)
        combined *= radix
        combined += column.codes
        radices.append(radix)
        space *= radix
    return CombinedCodes(combined, space, base_keys, tuple(radices))


def _numeric_key(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def value_sort_keys(values: Sequence[str]) -> dict[str, tuple[bool, float, str]]:
    """Sort keys for one feature's group names, matching the order fairlearn's MetricFrame uses.

    MetricFrame sorts groups by their original values (``np.unique``): numbers numerically,
    text by code point. Group names reach us as text, so a feature whose names all parse as
    finite numbers is ordered numerically (ties by text), any other feature by text. The
    explicit missing group (which fairlearn refuses) goes last and does not count as text.
    """
    present = [value for value in values if value != MISSING_GROUP]
    numbers = [_numeric_key(value) for value in present]
    numeric = all(number is not None for number in numbers)
    keys = {
        value: (False, float(number or 0.0) if numeric else 0.0, value)
        for value, number in zip(present, numbers, strict=True)
    }
    keys[MISSING_GROUP] = (True, 0.0, MISSING_GROUP)
    return keys
