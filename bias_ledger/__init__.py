"""bias-ledger: fairness audits of ML models, recorded in a signed, append-only ledger.

``bias_ledger.audit(...)`` runs an audit of files or in-memory tables and returns an
:class:`AuditResult`; ``bias_ledger.Ledger.open(path)`` appends it as a signed record (see
docs/PYTHON.md). Heavy libraries load on first use so that importing the package (and
``bias-ledger --help``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bias_ledger._version import __version__

__all__ = ["AuditResult", "Ledger", "__version__", "audit"]

if TYPE_CHECKING:
    from bias_ledger._audit import AuditResult, audit
    from bias_ledger.api import Ledger


def __getattr__(name: str) -> Any:
    if name in ("audit", "AuditResult"):
        from bias_ledger import _audit

        return getattr(_audit, name)
    if name == "Ledger":
        from bias_ledger.api import Ledger

        return Ledger
    raise AttributeError(f"module 'bias_ledger' has no attribute {name!r}")
