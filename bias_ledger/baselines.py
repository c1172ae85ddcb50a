"""What a regression rule compares against: a baseline's results and where they came from.

Apart from :mod:`bias_ledger.gate` so that the bundle reader can build one without importing
the gate (which imports the bundle reader).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bias_ledger.errors import InputError
from bias_ledger.ledger.record import RecordKind
from bias_ledger.metrics.model import MetricResults
from bias_ledger.results_json import record_results
from bias_ledger.wording import with_article


@dataclass(frozen=True)
class Baseline:
    """The results a regression rule compares against, and where they came from."""

    results: MetricResults
    source: Mapping[str, Any]
    """JSON description: record index and hash, approval index and approver, or bundle."""


def audit_record_results(record: Mapping[str, Any], *, where: str) -> MetricResults:
    if record.get("kind") != RecordKind.AUDIT.value:
        found = with_article(str(record.get("kind")))
        raise InputError(f"{where}: expected an audit record, found {found} record")
    return record_results(record["audit"])
