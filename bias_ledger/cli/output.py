"""The CLI's output streams: results to stdout, diagnostics to stderr, JSON written verbatim."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bias_ledger.render.visible_text import json_safe

if TYPE_CHECKING:
    from rich.console import Console

# rich is imported when a console is first needed: ~90 ms that a --json or --quiet run,
# whose output is written without it, does not pay.
_stdout: Console | None = None
_stderr: Console | None = None


def listed_records(indexes: Sequence[int]) -> str:
    """``record 3``, ``records 0, 2, 5``, or ``40 records from 0 to 39`` (over 20 listed)."""
    if len(indexes) == 1:
        return f"record {indexes[0]}"
    if len(indexes) <= 20:
        return "records " + ", ".join(map(str, indexes))
    return f"{len(indexes)} records from {indexes[0]} to {indexes[-1]}"


def out() -> Console:
    """The console for results (stdout); created lazily so tests can swap streams."""
    global _stdout
    if _stdout is None or _stdout.file is not sys.stdout:
        from rich.console import Console

        from bias_ledger.render.safe_text import install

        # Piped output (CI logs, files) is not cut to 80 columns: tables keep whole names;
        # an explicit COLUMNS (a terminal's, or a test's) is obeyed.
        width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
        _stdout = install(Console(file=sys.stdout, highlight=False, soft_wrap=False, width=width))
    return _stdout


def err() -> Console:
    """The console for diagnostics, warnings and progress (stderr)."""
    global _stderr
    if _stderr is None or _stderr.file is not sys.stderr:
        from rich.console import Console

        from bias_ledger.render.safe_text import install

        _stderr = install(Console(file=sys.stderr, highlight=False))
    return _stderr


def error_line(message: str) -> None:
    """One line on stderr: ``bias-ledger: error: <message>``."""
    from rich.markup import escape

    err().print(f"[bold red]bias-ledger: error:[/] {escape(message)}", soft_wrap=True)


def warning_line(message: str) -> None:
    from rich.markup import escape

    err().print(f"[yellow]bias-ledger: warning:[/] {escape(message)}", soft_wrap=True)


def json_text(value: Any) -> str:
    return json_safe(json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)) + "\n"


def print_json(value: Any) -> None:
    """Write JSON to stdout, bypassing rich so nothing is wrapped or styled."""
    sys.stdout.write(json_text(value))
    sys.stdout.flush()


def write_text(
    path: Path, text: str, *, ledger: Path | None, what: str, recorded: Any = None
) -> None:
    """Write a command's output file: refused inside a ledger, atomic (see bias_ledger.outputs).

    ``recorded`` is the record the command appended before (its ``{"index": N, ...}``), so that
    a failure to write the file (a full disk) does not read as a failure to record it.
    """
    from bias_ledger.errors import InputError
    from bias_ledger.outputs import write_output

    try:
        write_output(path, text, ledger=ledger, what=what)
    except InputError as exc:
        if not recorded:
            raise
        raise InputError(f"{exc.message}; record {recorded['index']} was appended") from None
