"""Plain metavars in ``--help``: ``--ledger PATH``, ``--after INTEGER``, ``INDEX``.

Typer (0.2x) shows a parameter without a metavar of its own by its Python type in angle
brackets (``--ledger <path>``, ``--record <int>``, ``--trusted-key <list[str]>``), and an
argument with its type after its name (``index <int>``). This module makes every command show
what click always showed instead: an upper-case word for the value (``PATH``, ``INTEGER``,
``TEXT``), an argument by its upper-case name. ``tests/cli/test_help_text.py`` checks the help
of every command.
"""

from __future__ import annotations

from typing import Any

_WORDS = {
    "path": "PATH",
    "file": "FILE",
    "directory": "DIR",
    "int": "INTEGER",
    "str": "TEXT",
    "float": "NUMBER",
    "bool": "BOOLEAN",
    "datetime": "DATETIME",
}
"""Typer's type labels and the word shown instead (a choice's values are shown as they are)."""


def plain(label: str) -> str:
    """``<path>`` as ``PATH``, ``<list[str]>`` as ``TEXT``, ``<int|str>`` as ``INTEGER|TEXT``."""
    inner = label[1:-1] if label.startswith("<") and label.endswith(">") else label
    if inner.startswith("list[") and inner.endswith("]"):
        inner = inner[len("list[") : -1]
    return "|".join(_WORDS.get(part, part) for part in inner.split("|"))


def install() -> None:
    """Patch typer's type display once (a typer without this internal shape is left alone)."""
    from typer import core

    base = getattr(core, "_TyperParameter", None)
    argument = getattr(core, "TyperArgument", None)
    original = getattr(base, "display_type", None)
    if base is None or argument is None or original is None:
        return
    if getattr(original, "_bias_ledger", False):
        return

    def display_type(self: Any, ctx: Any) -> str:
        return plain(original(self, ctx))

    def display_name_raw(self: Any) -> str:
        # An argument is named by its metavar, else its name in capitals, as click does.
        return str(self.metavar) if self.metavar is not None else str(self.name).upper()

    display_type._bias_ledger = True  # type: ignore[attr-defined]
    base.display_type = display_type
    # An argument's help names it (its metavar says what it is): no type after it.
    argument.display_type_rich = lambda self, ctx: None
    argument.display_name_raw = property(display_name_raw)
