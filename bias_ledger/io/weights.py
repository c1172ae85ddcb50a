"""The sample-weight column (``--weight``): checked value by value, then split exactly."""

from __future__ import annotations

from typing import Any

import numpy as np

from bias_ledger.errors import InputError
from bias_ledger.io.columns import Located, _listing, _plain, _uniques
from bias_ledger.metrics.weights import RANGE_TEXT, WeightParts, bad_weights

EXAMPLES = 3
EXPECTED = f"a number >= 0 on every row ({RANGE_TEXT})"


def to_weights(column: Located) -> WeightParts:
    """The weights of ``column`` as exact parts; InputError naming the file, the column and
    the first bad rows for a value that is not a number >= 0 (missing, NaN, negative,
    infinite, text)."""
    import pyarrow as pa

    from bias_ledger.io.arrays import bool_values, float_values

    data = _plain(column.data)
    where = f"{column.file}: weight column {column.name!r}"
    kind = data.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)):
        raise InputError(f"{where} must hold numbers; {_not_numbers(column, data)}")
    values = float_values(data)
    bad = bad_weights(values)
    if not bad.any():
        return WeightParts(values=values)
    positions = np.flatnonzero(bad)
    nulls = bool_values(data.is_null()) if data.null_count else np.zeros(len(values), bool)
    found = ", ".join(
        "missing" if nulls[i] else repr(float(values[i])) for i in positions[:EXAMPLES]
    )
    more = ", ..." if len(positions) > EXAMPLES else ""
    raise InputError(
        f"{where} has {len(positions)} bad weight(s) ({found}{more}) in "
        f"{column.where(positions)}; expected {EXPECTED}"
    )


def _not_numbers(column: Located, data: Any) -> str:
    """Which values of a column read as text are not numbers, and in which rows."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from bias_ledger.io.arrays import bool_values
    from bias_ledger.io.numbers import not_numbers

    text = pa.types.is_string(data.type) or pa.types.is_large_string(data.type)
    texts = not_numbers(_uniques(data)) if text else []
    if not texts:  # numbers spelled as text (a JSON Lines column of strings, say)
        return f"found {data.type} values; expected {EXPECTED}"
    hits = bool_values(pc.is_in(data, value_set=pa.array(texts, type=data.type)))
    return f"found {_listing(texts)} in {column.where(np.flatnonzero(hits))}; expected {EXPECTED}"
