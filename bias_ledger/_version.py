"""The package version, in a module of its own: modules that record or print it import this
rather than the package root, which imports the Python API (an import cycle otherwise). The
newest results schema it reads lives here too, below both the verifier and the readers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__version__ = "0.1.0"

RESULTS_SCHEMA_VERSION = 4
"""The newest results schema of an audit payload (docs/FORMAT.md section 8): the one this
version writes and the newest it reads; verifiers and readers refuse a newer one rather than
misread it (``bias_ledger.results_layout``, ``bias_ledger.ledger.record``)."""


def unknown_results_schema(payload: Mapping[str, Any], where: str) -> str | None:
    """Why an audit payload cannot be read by this version (a results schema it does not
    know), or None: the one wording of the refusal, for the verifiers and the readers."""
    version = payload.get("schema_version", 1)
    known = f"1 to {RESULTS_SCHEMA_VERSION}"
    if type(version) is not int or version < 1:
        return f"{where}: audit results schema_version {version!r}: expected an integer {known}"
    if version > RESULTS_SCHEMA_VERSION:
        return (
            f"{where}: audit results schema_version {version} is newer than this bias-ledger "
            f"reads ({known}); upgrade bias-ledger to read it"
        )
    return None
