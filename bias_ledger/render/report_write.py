"""Both reports written at once, block by block, to binary streams (UTF-8).

One pass over the blocks feeds both renderers, so the records are read twice in all (the
summary, then each record) and never held together.
"""

from __future__ import annotations

from typing import BinaryIO

from bias_ledger.render import report_html, report_md
from bias_ledger.render.report import report_blocks
from bias_ledger.render.report_blocks import ReportData

CHUNK = 1 << 16
"""Bytes gathered before a write (a summary table is many small rows)."""


class _Sink:
    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._pieces: list[str] = []
        self._size = 0

    def write(self, piece: str) -> None:
        self._pieces.append(piece)
        self._size += len(piece)
        if self._size >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self._pieces:
            self._out.write("".join(self._pieces).encode("utf-8"))
        self._pieces, self._size = [], 0


def write_reports(data: ReportData, md_out: BinaryIO, html_out: BinaryIO) -> None:
    """``report.md`` to ``md_out`` and ``report.html`` to ``html_out``: the same bytes as
    ``render_markdown`` and ``render_html``, written as they are made."""
    md, html = _Sink(md_out), _Sink(html_out)
    html.write(report_html.head(data))
    for position, block in enumerate(report_blocks(data)):
        for piece in report_md.block_text(position, block):
            md.write(piece)
        for piece in report_html.block_text(position, block):
            html.write(piece)
    md.write(report_md.END)
    html.write(report_html.END)
    md.flush()
    html.flush()
