"""What a verification returns: :class:`Verified`, and :class:`RecomputeFailed` when a bundle
verified but a recomputed number differs."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bias_ledger.verify import Check, Verification, VerificationFailed

if TYPE_CHECKING:
    from bias_ledger.ledger.tlog_verify import LogVerification


@dataclass(frozen=True)
class Verified:
    """A verification that passed: what was verified, by whom it was signed, every check."""

    kind: str
    """``ledger``, ``bundle`` or ``log`` (a format-2 ledger or published log)."""
    source: str
    """The path or URL verified."""
    origin: str
    size: int
    """How many records the verified tree holds."""
    records: Sequence[int]
    """The records verified: all of a ledger, a bundle's selection."""
    signers: tuple[tuple[str, str], ...]
    """(fingerprint, principals or "") of every key that signed a record or the checkpoint."""
    checks: tuple[Check, ...]
    warnings: tuple[str, ...] = ()
    trust_source: str = ""
    recompute: Mapping[str, Any] | None = None
    """The ``--recompute`` report, when asked for."""
    outcome: Verification | LogVerification | None = field(default=None, repr=False, compare=False)
    """The core's own result (``to_json`` and ``verify --report`` are built from it)."""

    @property
    def valid(self) -> bool:
        return True  # a failure raises; kept for symmetry with the JSON document's "valid"

    def to_json(self) -> dict[str, Any]:
        """The document ``bias-ledger verify --json`` prints."""
        if self.outcome is None:
            raise ValueError("a Verified built by hand has no core result to print")
        document = self.outcome.to_json()
        if isinstance(self.outcome, Verification):
            document["steps"] = [check.to_json() for check in self.checks]
        else:
            document["steps"] = [{"what": c.what, "detail": c.detail} for c in self.checks]
        document["warnings"] = list(self.warnings)
        if self.kind == "bundle":
            document["recompute"] = None if self.recompute is None else dict(self.recompute)
        return document

    def __repr__(self) -> str:
        who = ", ".join(fp for fp, _ in self.signers)
        return (
            f"<Verified {self.kind} {self.source}: {len(self.records)} of {self.size} records "
            f"of {self.origin}, {len(self.checks)} checks passed, signed by {who}>"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(c.what)}</td><td>{html.escape(c.status.value)}</td>"
            f"<td>{html.escape(c.detail)}</td></tr>"
            for c in self.checks
        )
        return (
            f"<p><b>VALID</b>: {html.escape(self.kind)} {html.escape(self.source)}, "
            f"{self.size} records of {html.escape(self.origin)}</p>"
            f"<table><tr><th>check</th><th>status</th><th>detail</th></tr>{rows}</table>"
        )


class RecomputeFailed(VerificationFailed):
    """The bundle verified, but a recomputed number differs (or no input matched)."""

    def __init__(self, message: str, verified: Verified) -> None:
        outcome = verified.outcome
        assert isinstance(outcome, Verification)
        super().__init__(
            message,
            kind=outcome.kind,
            source=outcome.source,
            checks=verified.checks,
            signers=tuple(fp for fp, _ in outcome.signers),
        )
        self.verified = verified
