"""Write the published LL144 summary of a ledger record (verified first) to a .md or .html file."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bias_ledger.errors import InputError
from bias_ledger.ledger.record import signer_fingerprint
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.standards.ll144_summary import Provenance, render_html, render_markdown
from bias_ledger.standards.ll144_view import ll144_payload

SUMMARIES = ("nyc-ll144",)


def _countersignatures(
    record: dict[str, Any], later: Iterable[dict[str, Any]], record_hash: str
) -> list[str]:
    """Fingerprints of the declared auditor key among the approvals of ``record``."""
    declared = (record["audit"].get("declaration") or {}).get("auditor_key")
    if not declared:
        return []
    approved = {"index": record["index"], "record_hash": record_hash}
    return sorted(
        {
            signer_fingerprint(r)
            for r in later
            if r.get("kind") == "approval"
            and (r.get("approval") or {}).get("approves") == approved
            and signer_fingerprint(r) == declared
        }
    )


def summary_text(
    ledger: Path, index: int, *, summary: str, output: Path, trusted: TrustedKeys | None = None
) -> str:
    """The page for ``output``'s extension (.html, .htm or .md) of LL144 audit record ``index``."""
    from bias_ledger.verify.records import open_verified

    if summary not in SUMMARIES:
        raise InputError(f"--summary {summary!r}: expected one of {', '.join(SUMMARIES)}")
    suffix = output.suffix.lower()
    if suffix not in (".html", ".htm", ".md"):
        raise InputError(f"{output}: expected a .html or .md file for the summary")
    # Integrity first (format 1 or 2): a summary of an altered record would publish numbers
    # nobody signed; with trusted keys, trust too.
    verified = open_verified(ledger, trusted)
    item = verified.record(index)
    record = item.record()
    ll144_payload(record)
    later = (other.record() for other in verified.records() if other.index > index)
    provenance = Provenance(
        origin=verified.origin,
        index=index,
        record_hash=item.record_hash,
        countersigned_by=tuple(_countersignatures(record, later, item.record_hash)),
    )
    if suffix == ".md":
        return render_markdown(record, provenance)
    return render_html(record, provenance)
