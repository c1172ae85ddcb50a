"""Typed readers of TOML values for the policy loader: each raises a located PolicyError."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, TypeVar

from bias_ledger.errors import PolicyError

E = TypeVar("E", bound=StrEnum)


class Where:
    """Where a value sits (file, rule), so every message can name it."""

    def __init__(self, source: str, rule: str | None = None) -> None:
        self.source = source
        self.rule = rule

    def error(self, message: str) -> PolicyError:
        place = f"{self.source}: {self.rule}" if self.rule else self.source
        return PolicyError(f"{place}: {message}")


def suggest(name: str, choices: Iterable[str]) -> str:
    """A "; did you mean ...?" suffix naming the closest choices, or an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(item) for item in close) + "?"


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def check_keys(table: Mapping[str, Any], allowed: Iterable[str], where: Where, what: str) -> None:
    """Refuse keys outside ``allowed``, suggesting the closest allowed key."""
    known = tuple(allowed)
    for key in table:
        if key not in known:
            raise where.error(
                f"unknown key {key!r} in {what}{suggest(key, known)}"
                f" (expected one of: {', '.join(known)})"
            )


def get_str(table: Mapping[str, Any], key: str, where: Where) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise where.error(f"{key} must be a non-empty string, found {_type_name(value)}")
    return value


def get_bool(table: Mapping[str, Any], key: str, where: Where) -> bool | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise where.error(f"{key} must be true or false, found {_type_name(value)} {value!r}")
    return value


def get_number(table: Mapping[str, Any], key: str, where: Where) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    # bool is an int in Python; `min = true` is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise where.error(f"{key} must be a number, found {_type_name(value)} {value!r}")
    if not math.isfinite(value):
        raise where.error(f"{key} must be a finite number, found {value!r}")
    return float(value)


def get_count(table: Mapping[str, Any], key: str, where: Where) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise where.error(f"{key} must be a whole number >= 0, found {value!r}")
    return value


def get_enum(table: Mapping[str, Any], key: str, enum: type[E], where: Where) -> E | None:
    value = table.get(key)
    if value is None:
        return None
    choices = [item.value for item in enum]
    if not isinstance(value, str) or value not in choices:
        hint = suggest(value, choices) if isinstance(value, str) else ""
        raise where.error(
            f"{key} must be one of {', '.join(repr(c) for c in choices)}, found {value!r}{hint}"
        )
    return enum(value)


def get_names(table: Mapping[str, Any], key: str, where: Where) -> tuple[str, ...] | None:
    """A string or a non-empty array of distinct strings, as a tuple."""
    value = table.get(key)
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if (
        not isinstance(items, list)
        or not items
        or not all(isinstance(item, str) and item for item in items)
    ):
        raise where.error(
            f"{key} must be a name or a non-empty array of names, found {_type_name(value)}"
        )
    if len(set(items)) != len(items):
        raise where.error(f"{key} names the same item twice: {items!r}")
    return tuple(items)


def check_names(names: tuple[str, ...], known: tuple[str, ...], key: str, where: Where) -> None:
    """Refuse metric names outside ``known``, suggesting the closest ones."""
    for name in names:
        if name not in known:
            raise where.error(
                f"unknown {key.replace('_', ' ')} {name!r}{suggest(name, known)}"
                f" (expected one of: {', '.join(known)})"
            )
