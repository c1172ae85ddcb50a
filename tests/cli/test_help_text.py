"""``audit --help`` shows plain metavars and a --label help that fits every task."""

from __future__ import annotations

import re

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
