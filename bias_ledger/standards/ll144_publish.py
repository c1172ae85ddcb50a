"""Write the published LL144 summary of a ledger record (verified first) to a .md or .html file."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from bias_ledger.errors import InputError
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.standards.ll144_summary import Provenance, render_html, render_markdown
from bias_ledger.standards.ll144_view import ll144_payload

SUMMARIES = ("nyc-ll144",)


def _countersignatures(records: list[dict[str, Any]], index: int, record_hash: str) -> list[str]:
    """Fingerprints of the declared auditor key among the approvals of record ``index``."""
    declared = (records[index]["audit"].get("declaration") or {}).get("auditor_key")
    if not declared:
        return []
    return sorted(
        {
            str(r["signer"]["fingerprint"])
            for r in records[index + 1 :]
            if r.get("kind") == "approval"
            and (r.get("approval") or {}).get("approves")
            == {"index": index, "record_hash": record_hash}
            and r["signer"]["fingerprint"] == declared
        }
    )


def summary_text(
    ledger: Path, index: int, *, summary: str, output: Path, trusted: TrustedKeys | None = None
) -> str:
    """The page for ``output``'s extension (.html, .htm or .md) of LL144 audit record ``index``."""
    import blake3

    from bias_ledger.ledger.entry import parse_line
    from bias_ledger.ledger.reader import read_ledger
    from bias_ledger.verify import UntrustedError, verify_ledger

    if summary not in SUMMARIES:
        raise InputError(f"--summary {summary!r}: expected one of {', '.join(SUMMARIES)}")
    suffix = output.suffix.lower()
    if suffix not in (".html", ".htm", ".md"):
        raise InputError(f"{output}: expected a .html or .md file for the summary")
    # Integrity first: a summary of an altered record would publish numbers nobody signed;
    # with trusted keys, trust too.
    with contextlib.suppress(UntrustedError):
        verify_ledger(ledger, trusted=trusted)
    stored = read_ledger(ledger)
    if not 0 <= index < len(stored.lines):
        raise InputError(f"record {index}: the ledger has records 0..{len(stored.lines) - 1}")
    entries = [parse_line(line, where="record") for line in stored.lines]
    records = [json.loads(entry.record_bytes) for entry in entries]
    record = records[index]
    ll144_payload(record)
    digest = blake3.blake3(entries[index].record_bytes).hexdigest()
    provenance = Provenance(
        origin=stored.meta.origin,
        index=index,
        record_hash=digest,
        countersigned_by=tuple(_countersignatures(records, index, digest)),
    )
    if suffix == ".md":
        return render_markdown(record, provenance)
    return render_html(record, provenance)
