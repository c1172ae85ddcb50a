"""``--help`` of every command shows plain metavars (``PATH``, ``N``, ``INDEX``), never Python
types; ``audit --label``'s help fits every task."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from typer.testing import CliRunner

from bias_ledger.cli.app import app


def _help() -> str:
    result = CliRunner().invoke(app, ["audit", "--help"])
    assert result.exit_code == 0
    return result.stdout


def test_no_python_types_as_metavars() -> None:
    text = _help()
    assert "<list[" not in text.replace("<list[str]>", "")  # nyc-ll144 options: not yet
    for flag in ["--data", "--predictions", "--model", "--sensitive", "--reference", "--label"]:
        assert not re.search(rf"{flag} <", text), flag
    assert "--data PATH" in text and "--sensitive COLUMN" in text


def test_label_help_is_not_binary_only() -> None:
    text = " ".join(_help().split())
    start = text.index("--label NAME")
    assert "(binary)" not in text[start : start + 150] and "regression" in text[start : start + 150]


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


PYTHON_TYPE = re.compile(r"<(?:path|file|directory|int|str|float|bool|datetime|list\[[\w|]+\])>")
"""A value shown by its Python type (``--record <int>``, ``index <int>``, ``<list[str]>``)."""


def test_no_command_shows_a_python_type_as_metavar() -> None:
    import typer

    paths = list(_commands(typer.main.get_command(app)))
    assert ("gate",) in paths and ("key", "revoke") in paths
    for path in paths:
        result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, path
        found = [line.strip() for line in result.stdout.splitlines() if PYTHON_TYPE.search(line)]
        assert found == [], (path, found)
    gate = CliRunner().invoke(app, ["gate", "--help"], env={"COLUMNS": "200"}).stdout
    for shown in ("--policy FILE", "--record N", "--since FILE", "--save-checkpoint FILE"):
        assert shown in gate, shown
    show = CliRunner().invoke(app, ["show", "--help"], env={"COLUMNS": "200"}).stdout
    assert "INDEX " in show and "show [OPTIONS] {INDEX}" in show
