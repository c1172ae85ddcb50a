"""A recorded JSON value against its recomputation: which numbers differ, by JSON path.

Integers and booleans must match exactly, other numbers within :data:`FLOAT_TOLERANCE`.
Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FLOAT_TOLERANCE = 1e-9
"""Largest absolute difference accepted between a recorded and a recomputed float."""


@dataclass(frozen=True)
class Mismatch:
    """One number (or value) that differs, named by its JSON path inside the record."""

    path: str
    expected: Any
    """As recorded."""
    found: Any
    """As recomputed."""

    def describe(self) -> str:
        return f"{self.path}: recorded {self.expected!r}, recomputed {self.found!r}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "recorded": self.expected, "recomputed": self.found}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _by_metric(items: list[Any]) -> bool:
    """A list with one object per metric (disparities): matched by metric, not position."""
    names = [item.get("metric") for item in items if isinstance(item, Mapping)]
    return (
        bool(items)
        and len(names) == len(items)
        and all(isinstance(name, str) for name in names)
        and len(set(names)) == len(names)
    )


def _compare_by_metric(expected: list[Any], found: list[Any], path: str) -> list[Mismatch]:
    # The results-schema rule reaches lists too: a metric a later version adds brings its
    # disparity along, which an older record does not hold and is not a difference.
    fresh = {item["metric"]: item for item in found}
    out: list[Mismatch] = []
    for item in expected:
        where = f"{path}[metric={item['metric']}]"
        if item["metric"] not in fresh:
            out.append(Mismatch(where, item, None))
        else:
            out += compare(item, fresh[item["metric"]], where)
    return out


def compare(expected: Any, found: Any, path: str = "$") -> list[Mismatch]:
    """Every difference between a recorded JSON value and its recomputation, by path; integers
    exact, floats to tolerance.

    Only what the record holds is compared: a key the recomputation adds (a metric added after
    the record was made) is not a difference, so new versions keep recomputing old records. A
    recorded key the recomputation lacks is one. Lists of one object per metric (disparities)
    are matched by metric, for the same reason.
    """
    if isinstance(expected, Mapping) and isinstance(found, Mapping):
        out: list[Mismatch] = []
        for key in sorted(expected):
            where = f"{path}.{key}"
            if key not in found:
                out.append(Mismatch(where, expected[key], None))
            else:
                out += compare(expected[key], found[key], where)
        return out
    if isinstance(expected, list) and isinstance(found, list):
        if _by_metric(expected) and _by_metric(found):
            return _compare_by_metric(expected, found, path)
        if len(expected) != len(found):
            return [Mismatch(f"{path}.length", len(expected), len(found))]
        out = []
        for position, (a, b) in enumerate(zip(expected, found, strict=True)):
            out += compare(a, b, f"{path}[{position}]")
        return out
    if _number(expected) and _number(found):
        if isinstance(expected, int) and isinstance(found, int):
            return [] if expected == found else [Mismatch(path, expected, found)]
        close = math.isclose(expected, found, rel_tol=0.0, abs_tol=FLOAT_TOLERANCE)
        return [] if close else [Mismatch(path, expected, found)]
    if type(expected) is not type(found) or expected != found:
        return [Mismatch(path, expected, found)]
    return []
