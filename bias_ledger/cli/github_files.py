"""Files GitHub Actions names in the environment, checked as every other output: never inside
a ledger.

The gate appends its job summary to ``$GITHUB_STEP_SUMMARY``; the composite action
(``action.yml``) appends the gate's ``exit-code`` and ``verdict`` to ``$GITHUB_OUTPUT``, and
checks that file first with ``python -m bias_ledger.cli.github_files GITHUB_OUTPUT [LEDGER]``
(exit 2 and one line when it is inside a ledger). A refused file stops the gate before it
judges or records anything: exit 2, so the step fails and the verdict is never a silent pass.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bias_ledger.errors import InputError
from bias_ledger.outputs import append_output, check_output_path

STEP_SUMMARY = "GITHUB_STEP_SUMMARY"
OUTPUT = "GITHUB_OUTPUT"

_CONSEQUENCE = {
    STEP_SUMMARY: "the gate did not run and recorded no verdict (exit 2, not a pass)",
    OUTPUT: "the gate did not run and recorded no verdict, and the step's exit-code and "
    "verdict outputs are not set (exit 2, not a pass)",
}


def github_file(name: str, *, ledger: Path | None) -> Path | None:
    """The file ``$name`` names, refused (InputError, exit 2) if it is inside a ledger or the
    configured ``ledger``; None when the variable is unset or empty."""
    value = os.environ.get(name)
    if not value:
        return None
    path = Path(value)
    try:
        return check_output_path(path, ledger=ledger, what=f"${name}")
    except InputError as exc:
        consequence = _CONSEQUENCE.get(name, "nothing was written")
        raise InputError(f"{exc.message}; {consequence}") from None


def step_summary(*, ledger: Path | None) -> Path | None:
    """Under GitHub Actions (``GITHUB_ACTIONS=true``), the checked job summary file."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return None
    return github_file(STEP_SUMMARY, ledger=ledger)


def append_step_summary(text: str, *, ledger: Path | None) -> None:
    """Append ``text`` to the job summary (if there is one), checked again as it is written."""
    path = step_summary(ledger=ledger)
    if path is not None:
        append_output(path, text, ledger=ledger, what=f"${STEP_SUMMARY}")


def main(argv: Sequence[str]) -> int:
    """``python -m bias_ledger.cli.github_files NAME [LEDGER]``: exit 2 with one line on stderr
    if the file ``$NAME`` is inside a ledger (or LEDGER, else the ledger ``$BIAS_LEDGER_DIR``
    or ``./.bias-ledger`` names), 0 otherwise."""
    from bias_ledger.ledger.reader import resolve_ledger_path

    if len(argv) not in (1, 2):
        sys.stderr.write("usage: python -m bias_ledger.cli.github_files NAME [LEDGER]\n")
        return 2
    ledger = resolve_ledger_path(Path(argv[1]) if len(argv) == 2 and argv[1] else None)
    try:
        github_file(argv[0], ledger=ledger)
    except InputError as exc:
        sys.stderr.write(f"bias-ledger: error: {exc.message}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
