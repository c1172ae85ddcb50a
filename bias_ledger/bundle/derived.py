"""The members derived from a bundle's records: the signers list and the two reports.

The exporter writes them. The verifier re-derives ``keys/allowed_signers`` only: the reports
are informative views, not evidence (docs/FORMAT.md, "Bundle format").

Streaming (any number of records): build a :class:`ReportData` whose ``records`` is a callable
returning a fresh iterator of :class:`ReportRecord` in index order (it is called twice), then
``write_reports(data, md_out, html_out)``; ``signers_text(data.signers)`` is
``keys/allowed_signers``. ``report_data`` and ``derived_members`` hold everything in memory
(reports of few records).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Mapping

from bias_ledger.bundle.model import REPORT_HTML, REPORT_MD, SIGNERS
from bias_ledger.bundle.signers import signers_text
from bias_ledger.render.report_blocks import RecordSource, ReportData, ReportRecord
from bias_ledger.render.report_write import write_reports
from bias_ledger.results_layout import readable

__all__ = [
    "RecordSource",
    "ReportData",
    "ReportRecord",
    "derived_members",
    "load_record",
    "report_data",
    "signers_text",
    "write_reports",
]


def report_data(
    *,
    origin: str,
    checkpoint_size: int,
    checkpoint_root: str,
    checkpoint_signer: str,
    records: Iterable[tuple[int, str, bytes]],
    signers: Iterable[tuple[str, str]],
    verified: str = "",
    ledger: bool = False,
) -> ReportData:
    """Collect what the report shows; ``records`` are (index, hash, canonical bytes), held as
    bytes and parsed one at a time when the report reads them."""
    held = tuple(sorted(records))

    def source() -> Iterator[ReportRecord]:
        return (ReportRecord(index, digest, load_record(raw)) for index, digest, raw in held)

    return ReportData(
        origin=origin,
        checkpoint_size=checkpoint_size,
        checkpoint_root=checkpoint_root,
        checkpoint_signer=checkpoint_signer,
        records=source,
        signers=tuple(sorted(set(signers))),
        verified=verified,
        ledger=ledger,
    )


def load_record(raw: bytes) -> Mapping[str, object]:
    """A record's JSON as the report reads it (a non-object reads as an empty record)."""
    value = json.loads(raw)
    # Reports read every results schema in one layout (bias_ledger.results_layout).
    return readable(value) if isinstance(value, dict) else {}


def derived_members(data: ReportData) -> dict[str, bytes]:
    """The members that are pure functions of the verified ones."""
    md, html = io.BytesIO(), io.BytesIO()
    write_reports(data, md, html)
    return {
        SIGNERS: signers_text(data.signers),
        REPORT_MD: md.getvalue(),
        REPORT_HTML: html.getvalue(),
    }
