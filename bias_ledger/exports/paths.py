"""Output paths of exports: never inside a ledger directory (a ledger holds only its own files)."""

from __future__ import annotations

from pathlib import Path

from bias_ledger.errors import InputError


def refuse_inside_ledger(output: Path, ledger: Path) -> None:
    """InputError when ``output`` would be written inside the ledger directory ``ledger``."""
    target = output.expanduser().resolve()
    root = ledger.expanduser().resolve()
    if target == root or root in target.parents:
        raise InputError(
            f"{output}: is inside the ledger {ledger}; write exports outside the ledger directory"
        )
