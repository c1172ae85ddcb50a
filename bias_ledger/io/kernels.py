"""The few Arrow compute kernels a small audit runs, called without importing pyarrow.compute.

Importing ``pyarrow.compute`` wraps each of its ~290 functions in Python and parses their
docstrings with pydoc: some 45 ms, a tenth of a 1,000-row audit. pyarrow's own methods
(``Array.cast``, ``.take``, ``.dictionary_encode``) import it too. These call the same kernels
by name in ``pyarrow._compute``, with the options ``pyarrow.compute`` passes, so the results
are the same arrays; anything else may use ``pyarrow.compute`` as usual. ``pyarrow._compute``
is a private module: should a pyarrow release move it, the same names are taken from
``pyarrow.compute``, which re-exports ``call_function`` and every options class.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


def _kernels() -> ModuleType:
    """``pyarrow._compute``, or ``pyarrow.compute`` where a pyarrow release has no such module."""
    try:
        return importlib.import_module("pyarrow._compute")
    except ImportError:  # tests/io/test_kernels.py runs every kernel both ways
        return importlib.import_module("pyarrow.compute")


def min_max(data: Any) -> dict[str, Any]:
    """``pyarrow.compute.min_max(data).as_py()``: nulls skipped, both None when none is left."""
    kernels = _kernels()
    bounds: dict[str, Any] = kernels.call_function(
        "min_max", [data], kernels.ScalarAggregateOptions()
    ).as_py()
    return bounds


def cast(data: Any, target: Any) -> Any:
    """``data.cast(target)``: a safe cast (overflow and truncation are errors)."""
    kernels = _kernels()
    return kernels.call_function("cast", [data], kernels.CastOptions.safe(target))


def take(data: Any, indices: Any) -> Any:
    """``data.take(indices)``, indices bounds-checked."""
    kernels = _kernels()
    return kernels.call_function("take", [data, indices], kernels.TakeOptions(boundscheck=True))


def dictionary_encode(data: Any) -> Any:
    """``data.dictionary_encode()``: nulls stay null (masked), not a dictionary value."""
    kernels = _kernels()
    return kernels.call_function(
        "dictionary_encode", [data], kernels.DictionaryEncodeOptions("mask")
    )


def fill_null(data: Any, fill: Any) -> Any:
    """``pyarrow.compute.fill_null(data, fill)``: a missing value replaced by ``fill`` (a
    Python value or a scalar, taken as a scalar of ``data``'s type)."""
    import pyarrow as pa

    kernels = _kernels()
    if not isinstance(fill, pa.Array | pa.ChunkedArray | pa.Scalar):
        fill = pa.scalar(fill, type=data.type)
    elif data.type != fill.type:
        fill = pa.scalar(fill.as_py(), type=data.type)
    return kernels.call_function("coalesce", [data, fill])


def is_nan(data: Any) -> Any:
    """``pyarrow.compute.is_nan(data)``: true where a float is NaN, null where missing."""
    kernels = _kernels()
    return kernels.call_function("is_nan", [data])


def if_else(condition: Any, left: Any, right: Any) -> Any:
    """``pyarrow.compute.if_else(condition, left, right)``: row by row, null where
    ``condition`` is."""
    kernels = _kernels()
    return kernels.call_function("if_else", [condition, left, right])
