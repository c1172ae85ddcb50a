"""Parameter values coerced without building a pydantic ``TypeAdapter`` per parameter.

Typer (0.2x) coerces every parameter of the invoked command through a pydantic
``TypeAdapter`` that it builds on first use, even for an option that was not given: an audit
(53 parameters) spent more time importing pydantic and building adapters than counting a
1,000-row file. The values this CLI takes are plain (text, paths, integers, decimals, flags,
lists of them), so the common cases are coerced here exactly as typer would: an option not
given, text, a path (checked by typer's own path rules) and a plainly written number. Any
other value (``1e3``, `` 7``, a list of numbers, an annotation this module does not know) goes
to typer's own coercion, so its result and its error message are typer's.
``tests/cli/test_fast_params.py`` checks every parameter of every command against typer.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args, get_origin

_SLOW = object()
"""Returned when typer's own coercion must decide."""
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,15})?")


def _plain(info: Any) -> bool:
    """Whether the parameter has no parser, bounds or file handling of its own."""
    return (
        getattr(info, "parser", None) is None
        and getattr(info, "min", None) is None
        and getattr(info, "max", None) is None
        and getattr(info, "click_type", None) is None
    )


def _leaf(kind: Any, value: Any, param: Any, ctx: Any) -> Any:
    if kind is str:
        return value if type(value) is str else _SLOW
    if kind is bool:
        return value if type(value) is bool else _SLOW
    if kind is int:
        if type(value) is int:
            return value
        return int(value) if type(value) is str and _INTEGER.fullmatch(value) else _SLOW
    if kind is float:
        if type(value) is float:
            return value
        return float(value) if type(value) is str and _DECIMAL.fullmatch(value) else _SLOW
    if kind is Path:
        if not isinstance(value, str | Path) or value == "":
            return _SLOW
        from typer._param_types import coerce_cli_path, routes_to_path

        info = param.type_descriptor.parameter_info
        if not routes_to_path(kind, info) or info.path_type not in (None, Path):
            return _SLOW
        # As typer's path adapter does, with the text already a Path (pydantic's only step).
        return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
    return _SLOW


def fast_value(param: Any, ctx: Any, value: Any) -> Any:
    """``value`` coerced as typer would, or ``_SLOW`` when typer must do it."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or descriptor.file_annotation is not None:
        return _SLOW
    if not _plain(descriptor.parameter_info):
        return _SLOW
    multiple = param.multiple or param.nargs == -1
    if value is None:  # typer's RuntimeParam.coerce, before any adapter is used
        return () if multiple else None
    annotation = descriptor.annotation
    if multiple:
        if get_origin(annotation) is not list or not isinstance(value, list | tuple):
            return _SLOW
        (kind,) = get_args(annotation)
        items = [_leaf(kind, item, param, ctx) for item in value]
        return _SLOW if any(item is _SLOW for item in items) else items
    if get_origin(annotation) is not None:
        return _SLOW
    return _leaf(annotation, value, param, ctx)


def install() -> None:
    """Route typer's parameter processing through :func:`fast_value` (once; a typer without
    this internal shape is left alone)."""
    from typer import core

    base = getattr(core, "_TyperParameter", None)
    original = getattr(base, "process_value", None)
    if base is None or original is None or getattr(original, "_bias_ledger", False):
        return
    from typer._click.exceptions import MissingParameter

    def process_value(self: Any, ctx: Any, value: Any) -> Any:
        coerced = fast_value(self, ctx, value)
        if coerced is _SLOW:
            return original(self, ctx, value)
        # The rest of typer's process_value, unchanged.
        if self.required and self.value_is_missing(coerced):
            raise MissingParameter(ctx=ctx, param=self)
        if self.callback is not None:
            coerced = self.callback(ctx, self, coerced)
        return coerced

    process_value._bias_ledger = True  # type: ignore[attr-defined]
    process_value.__wrapped__ = original  # type: ignore[attr-defined]
    base.process_value = process_value
