"""The reports of a version-3 bundle, written to two streams through ``bundle/derived.py``.

``derived.write_reports(data, md_out, html_out)`` renders both reports block by block from
``data.records``, a callable returning a fresh iterator of records (read twice: the summary,
then each record), so the records are never held together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from bias_ledger.bundle import derived
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


def write_reports(header: ReportHeader, md_out: BinaryIO, html_out: BinaryIO) -> None:
    """``report.md`` to ``md_out`` and ``report.html`` to ``html_out``, streamed."""
    data = ReportData(
        origin=header.origin,
        checkpoint_size=header.checkpoint_size,
        checkpoint_root=header.checkpoint_root,
        checkpoint_signer=header.checkpoint_signer,
        records=header.records,
        signers=header.signers,
        archive="tar",
    )
    derived.write_reports(data, md_out, html_out)
