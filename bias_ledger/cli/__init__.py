"""The typer command-line application; the only place that prints or exits."""

from __future__ import annotations


def main() -> None:
    """Entry point of the ``bias-ledger`` console script."""
    from bias_ledger.cli.app import run

    run()
