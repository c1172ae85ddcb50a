"""What both compact layouts are made of: the error, and one value left out or put back."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]


class LayoutError(ValueError):
    """A payload that cannot be written in (or read from) a compact layout."""


def drop(item: Json, key: str, expected: Any, where: str) -> None:
    """Leave ``key`` out of ``item``; LayoutError unless it holds the value it is derived as."""
    if key not in item or item[key] != expected:
        found = repr(item[key]) if key in item else "nothing"
        raise LayoutError(f"{where}: {key} {found} is not the derived {expected!r}")
    del item[key]


def put(item: Json, key: str, value: Any, where: str, source: str) -> None:
    """Put the derived ``value`` back as ``key``; LayoutError when ``item`` holds another value
    there (the layout holds it once, in ``source``: a reader must not choose between two).
    The same value is accepted, so that reading an expanded payload again changes nothing."""
    if key in item and item[key] != value:
        raise LayoutError(f"{where} is held twice, as {item[key]!r} and as {value!r} in {source}")
    item[key] = value
