"""The reports of a bundle, written to two streams through ``bundle/derived.py``, and spooled
to temporary files for the archive writers (:func:`spooled_reports`).

``derived.write_reports(data, md_out, html_out)`` renders both reports block by block from
``data.records``, a callable returning a fresh iterator of records (read twice: the summary,
then each record), so the records are never held together.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

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


Spooled = tuple[int, Iterator[bytes]]
"""A spooled member: its length in bytes and its bytes, in chunks, read from the start."""


def _spooled(handle: BinaryIO) -> Spooled:
    length = handle.tell()

    def chunks() -> Iterator[bytes]:
        handle.seek(0)
        while chunk := handle.read(1 << 16):
            yield chunk

    return length, chunks()


@contextmanager
def spooled_reports(write: Callable[[BinaryIO, BinaryIO], None]) -> Iterator[dict[str, Spooled]]:
    """``report.md`` then ``report.html``, rendered by ``write(md_out, html_out)`` into
    temporary files, for an archive writer to copy in (neither is held in memory)."""
    with tempfile.TemporaryFile() as md, tempfile.TemporaryFile() as html:
        write(md, html)
        yield {REPORT_MD: _spooled(md), REPORT_HTML: _spooled(html)}
