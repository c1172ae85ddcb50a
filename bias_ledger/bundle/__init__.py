"""Export bundles: one zip file that proves a selection of ledger records offline.

This package stays light: importing it loads nothing heavy; ``export``, ``read``, ``verify`` and
``recompute`` are imported where they are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from bias_ledger.baselines import Baseline
    from bias_ledger.gate_trust import GateTrust


def read_bundle_baseline(path: Path, *, trust: GateTrust) -> Baseline:
    """The latest audit record of a bundle that verifies against the gate's trusted keys, as
    a gate baseline."""
    from bias_ledger.bundle.baseline import baseline_from_bundle

    return baseline_from_bundle(path, trust=trust)
