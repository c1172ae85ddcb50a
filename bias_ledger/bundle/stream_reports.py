"""The reports of a version-3 bundle, written to two streams through ``bundle/derived.py``.

The interface agreed with the report lane: ``derived.write_reports(data, md_out, html_out)``
where ``data.records`` is a callable returning a fresh iterator of records, so a report can be
rendered in passes without holding the records. Until that function lands this adapter renders
with the in-memory renderer (the reports then hold all records in memory while rendering).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from bias_ledger.bundle import derived
from bias_ledger.bundle.model import REPORT_HTML, REPORT_MD
from bias_ledger.render.report_blocks import ReportData, ReportRecord


@dataclass(frozen=True)
class ReportHeader:
    """What the reports show of a bundle besides its records."""

    origin: str
    checkpoint_size: int
    checkpoint_root: str
    checkpoint_signer: str
    records: Callable[[], Iterator[ReportRecord]]
    """A fresh iterator of the records, in index order, each time it is called."""
    signers: tuple[tuple[str, str], ...]
    signers_text: bytes
    """``keys/allowed_signers`` as the bundle holds it."""


def write_reports(header: ReportHeader, md_out: BinaryIO, html_out: BinaryIO) -> None:
    streaming: Any = getattr(derived, "write_reports", None)
    fields: dict[str, Any] = {
        "origin": header.origin,
        "checkpoint_size": header.checkpoint_size,
        "checkpoint_root": header.checkpoint_root,
        "checkpoint_signer": header.checkpoint_signer,
        "signers": header.signers,
    }
    if streaming is not None:
        data: Any = ReportData(records=header.records, **fields)  # type: ignore[arg-type]
        streaming(data, md_out, html_out)
        return
    members = derived.derived_members(ReportData(records=tuple(header.records()), **fields))
    md_out.write(members[REPORT_MD])
    html_out.write(members[REPORT_HTML])
