"""The members derived from a bundle's records: the signers list and the two reports.

The exporter writes them. The verifier re-derives ``keys/allowed_signers`` only: the reports
are informative views, not evidence (docs/FORMAT.md, "Bundle format").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from bias_ledger.bundle.model import REPORT_HTML, REPORT_MD, SIGNERS
from bias_ledger.bundle.signers import signers_text
from bias_ledger.render.report import ReportData, ReportRecord
from bias_ledger.render.report_html import render_html
from bias_ledger.render.report_md import render_markdown
from bias_ledger.results_layout import readable


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
    """Collect what the report shows; ``records`` are (index, hash, canonical bytes)."""
    items = tuple(ReportRecord(index, digest, _load(raw)) for index, digest, raw in sorted(records))
    return ReportData(
        origin=origin,
        checkpoint_size=checkpoint_size,
        checkpoint_root=checkpoint_root,
        checkpoint_signer=checkpoint_signer,
        records=items,
        signers=tuple(sorted(set(signers))),
        verified=verified,
        ledger=ledger,
    )


def _load(raw: bytes) -> Mapping[str, object]:
    value = json.loads(raw)
    # Reports read every results schema in one layout (bias_ledger.results_layout).
    return readable(value) if isinstance(value, dict) else {}


def derived_members(data: ReportData) -> dict[str, bytes]:
    """The members that are pure functions of the verified ones."""
    return {
        SIGNERS: signers_text(data.signers),
        REPORT_MD: render_markdown(data).encode("utf-8"),
        REPORT_HTML: render_html(data).encode("utf-8"),
    }
