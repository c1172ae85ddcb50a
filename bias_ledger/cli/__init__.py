"""The typer command-line application; the only place that prints or exits."""

from __future__ import annotations

import gc

GC_YOUNG_THRESHOLD = 100_000
"""Allocations between young-generation collections in a CLI run (Python's default: 700).

A run imports numpy, pyarrow, typer and rich and builds its results: some 300,000 long-lived
objects, which the default thresholds scan again and again (about 120 collections and 40 ms of
a 1,000-row recorded audit, finding a few hundred garbage objects). Cycles are still collected,
only after 100,000 allocations rather than 700; the library's own callers keep their settings.
"""


def main() -> None:
    """Entry point of the ``bias-ledger`` console script."""
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, oldest)
    from bias_ledger.cli.app import run

    run()
