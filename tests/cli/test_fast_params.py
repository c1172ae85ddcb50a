"""Every parameter of every command coerces a value as typer itself does (or leaves it to
typer): bias_ledger.cli.fast_params must never change what a command receives or says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer._click import Context
from typer._click.exceptions import BadParameter

from bias_ledger.cli import app as cli_app
from bias_ledger.cli.fast_params import _SLOW, fast_value

SAMPLES: list[Any] = [
    None, "", "x", "text with space", "12", "-3", "0", "007", "1.5", "-0.25", "1e3", " 7",
    "nan", "abc", "12345678901234567890", True, False, 3, 2.5, (), ("a", "b"), ("1", "2"),
    ["3.5"], ("1.5", "x"),
]  # fmt: skip


def _params() -> list[tuple[str, Any, Any]]:
    group = typer.main.get_command(cli_app.app)
    found: list[tuple[str, Any, Any]] = []

    def walk(command: Any, path: str) -> None:
        for name, child in getattr(command, "commands", {}).items():
            walk(child, f"{path} {name}")
        found.extend((f"{path} {param.name}", command, param) for param in command.params)

    walk(group, "bias-ledger")
    return found


def _typer(param: Any, ctx: Any, value: Any) -> tuple[str, Any]:
    try:
        return "value", param.get_runtime_param().coerce(value, param=param, ctx=ctx)
    except BadParameter as error:
        return "error", error.format_message()


@pytest.mark.parametrize("where", [name for name, _, _ in _params()])
def test_same_value_as_typer(where: str, tmp_path: Path) -> None:
    ((_, command, param),) = [item for item in _params() if item[0] == where]
    ctx = Context(command)
    existing = tmp_path / "file.csv"
    existing.write_text("a\n")
    for value in [*SAMPLES, str(existing), str(tmp_path)]:
        try:
            fast = fast_value(param, ctx, value)
        except BadParameter as error:
            assert _typer(param, ctx, value) == ("error", error.format_message())
            continue
        if fast is _SLOW:
            continue
        kind, expected = _typer(param, ctx, value)
        assert kind == "value", (value, expected)
        assert fast == expected and type(fast) is type(expected), (value, fast, expected)


def test_most_values_take_the_fast_path() -> None:
    # The audit's own options with typical values never reach pydantic.
    taken = 0
    for _, command, param in _params():
        ctx = Context(command)
        taken += fast_value(param, ctx, None) is not _SLOW
    assert taken >= len(_params()) - 2
