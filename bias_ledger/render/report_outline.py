"""The report's first pass over its records: the summary rows, and which audits get charts.

Charts cost tens of milliseconds each (matplotlib), and an audit has up to twenty: a report
draws them for a bounded set of audits (every audit when there are at most ``CHARTED_AUDITS``,
otherwise the newest audit of each model and data file, the newest ``CHARTED_AUDITS`` of
those). Every other audit keeps its verdict, its groups below four-fifths and all its tables.
"""

from __future__ import annotations

import json
import tempfile
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bias_ledger.render.report_audit import below_four_fifths
from bias_ledger.render.report_blocks import ReportData, bounded, text

CHARTED_AUDITS = 20
"""At most this many audits of one report have charts."""
DETAILED_RECORDS = 200
"""A report of more records gives a section only to its charted audits; every record keeps its
summary row (a section costs tens of milliseconds and tens of kilobytes: at 1e5 records, hours
and gigabytes that nobody reads)."""
LISTED_INDEXES = 20
"""A report of more records names them as ranges of indexes."""


def subject(record: Mapping[str, Any]) -> str:
    """The model (name and version) a record is about, as the report names it."""
    payload = record.get(str(record.get("kind")), {})
    found = payload.get("subject") if isinstance(payload, Mapping) else None
    if not isinstance(found, Mapping):
        return "-"
    parts = [found.get("model_name"), found.get("model_version")]
    return " ".join(text(p) for p in parts if p) or "-"


def data_file(record: Mapping[str, Any]) -> str:
    """The name of an audit's data file ("-" when none is recorded)."""
    payload = record.get("audit")
    inputs = payload.get("inputs", ()) if isinstance(payload, Mapping) else ()
    names = [
        text(item.get("name"))
        for item in inputs
        if isinstance(item, Mapping) and item.get("role") == "data"
    ]
    return names[0] if names else "-"


def verdict(record: Mapping[str, Any]) -> str:
    payload = record.get(str(record.get("kind")), {})
    policy = payload.get("policy") if isinstance(payload, Mapping) else None
    return text(policy.get("verdict", "-")) if isinstance(policy, Mapping) else "-"


def below(record: Mapping[str, Any]) -> str:
    payload = record.get("audit")
    if not isinstance(payload, Mapping):
        return "-"
    return bounded(below_four_fifths(payload.get("results", {})), 4) or "none"


class SummaryRows:
    """The summary's rows, one per record, spilled as they are found to an anonymous temporary
    file (a row is about 0.6 KB in memory: at 1e5 records, 60 MB) and read back, one at a
    time, each time the table is rendered; the charts column is added as they are read."""

    def __init__(self) -> None:
        # Anonymous (unlinked at once): nothing is left behind, whatever happens.
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._charted: frozenset[int] = frozenset()

    def add(self, row: tuple[str, ...]) -> None:
        self._file.write(json.dumps(row, ensure_ascii=True).encode("ascii") + b"\n")

    def mark(self, charted: frozenset[int]) -> None:
        self._charted = charted

    def close(self) -> None:
        self._file.close()

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            row = tuple(json.loads(line))
            audit = row[2] == "audit"
            yield (*row, "yes" if int(row[0]) in self._charted else "-" if audit else "")


@dataclass(frozen=True)
class Outline:
    """What the first pass learns: small, whatever the number of records (the summary rows
    are in a temporary file)."""

    count: int
    audits: int
    first_index: int
    first_hash: str
    first_format: object
    """The first record's ``format_version`` (the verification commands depend on it)."""
    first_subject: str
    indexes: str
    """The records' indexes, as a list or bounded ranges."""
    rows: SummaryRows
    """One summary row per record, read back from a temporary file (``close`` removes it)."""
    charted: frozenset[int]
    newest: Mapping[tuple[str, str], int]
    """(subject, data file) -> the index of its newest audit; in a report of more than
    ``DETAILED_RECORDS`` records, only the ``CHARTED_AUDITS`` most recent (subject, data file)
    pairs (all its sections need: only charted audits have one)."""

    @property
    def detailed_only_charted(self) -> bool:
        """Whether only the charted audits have a section of their own (a large report)."""
        return self.count > DETAILED_RECORDS

    def has_section(self, index: int) -> bool:
        return not self.detailed_only_charted or index in self.charted

    @property
    def all_charted(self) -> bool:
        return len(self.charted) == self.audits

    def key(self, record: Mapping[str, Any]) -> tuple[str, str]:
        return subject(record), data_file(record)

    def close(self) -> None:
        self.rows.close()


_SHOWN_RUNS = 8
"""Ranges of indexes a large report names (then "and N more")."""


class _Runs:
    """The records' indexes as runs: the first ``_SHOWN_RUNS``, the current one, and a count."""

    def __init__(self) -> None:
        self.first: list[list[int]] = []
        self.last: list[int] | None = None
        self.count = 0

    def add(self, index: int) -> None:
        if self.last is not None and self.last[1] + 1 == index:
            self.last[1] = index
            return
        if self.last is not None and len(self.first) < _SHOWN_RUNS:
            self.first.append(self.last)
        self.last = [index, index]
        self.count += 1

    def text(self) -> str:
        runs = [*self.first, *([self.last] if self.last is not None else [])][:_SHOWN_RUNS]
        words = [str(a) if a == b else f"{a}-{b}" for a, b in runs]
        more = self.count - len(words)
        return ", ".join(words) + (f" and {more} more" if more > 0 else "")


def outline(data: ReportData) -> Outline:
    """One pass over ``data.records``: summary rows (to a temporary file), index ranges and
    the charted audits, in memory that does not grow with the records."""
    rows = SummaryRows()
    try:
        return _outline(data, rows)
    except BaseException:
        rows.close()
        raise


def _outline(data: ReportData, rows: SummaryRows) -> Outline:
    runs = _Runs()
    listed: list[str] = []
    newest: OrderedDict[tuple[str, str], int] = OrderedDict()
    audits: list[int] = []
    count = audit_count = 0
    first: tuple[int, str, object, str] | None = None
    for item in data.records():
        record = item.record
        if first is None:
            first = (item.index, item.record_hash, record.get("format_version"), subject(record))
        runs.add(item.index)
        count += 1
        if len(listed) <= LISTED_INDEXES:
            listed.append(str(item.index))
        kind = text(record.get("kind"))
        if kind == "audit":
            audit_count += 1
            key = (subject(record), data_file(record))
            newest[key] = item.index
            newest.move_to_end(key)
            # The newest CHARTED_AUDITS pairs are the most recently seen: once the report is
            # large (no section needs the others), older pairs are dropped.
            while count > DETAILED_RECORDS and len(newest) > CHARTED_AUDITS:
                newest.popitem(last=False)
            if len(audits) <= CHARTED_AUDITS:
                audits.append(item.index)
        rows.add(
            (
                str(item.index),
                text(record.get("timestamp")),
                kind,
                subject(record),
                verdict(record),
                below(record),
            )
        )
    if first is None:
        raise ValueError("a report needs at least one record")
    if len(audits) <= CHARTED_AUDITS:
        charted = frozenset(audits)
    else:
        charted = frozenset(sorted(newest.values())[-CHARTED_AUDITS:])
    rows.mark(charted)
    indexes = ", ".join(listed) if count <= LISTED_INDEXES else runs.text()
    return Outline(count, audit_count, *first, indexes, rows, charted, newest)


def charts_paragraph(found: Outline) -> str:
    """Which audits of the report have charts (and, in a large report, sections), and why."""
    if found.detailed_only_charted:
        return (
            f"This report covers {found.count} records, more than {DETAILED_RECORDS}: each has its "
            f"row in the summary below, and only the {len(found.charted)} audits marked in its "
            "charts column (the newest audit of each model and data file, at most "
            f"{CHARTED_AUDITS}) have a section with their charts and tables. Every record's full "
            "numbers are in its signed records/<N>.json, and `bias-ledger report N` renders any "
            "one of them from the ledger."
        )
    if found.all_charted:
        return f"Every audit record here has its charts ({found.audits} audit(s))."
    return (
        f"Charts are drawn for {len(found.charted)} of the {found.audits} audit records: the "
        f"newest audit of each model (name and version) and data file, at most "
        f"{CHARTED_AUDITS} (the newest of them); see the summary's charts column. Every other "
        "audit has its verdict, its groups below four-fifths and all its tables, without charts "
        "(the charts draw numbers the tables hold)."
    )


def no_charts_line(found: Outline, record: Mapping[str, Any]) -> str:
    """The one-line summary of an audit drawn without charts."""
    latest = found.newest.get(found.key(record))
    why = (
        f"the newest audit of this model and data file is record {latest}"
        if latest is not None
        else "it is not among the newest audits"
    )
    return (
        f"In one line: verdict {verdict(record)}; below four-fifths: {below(record)}. "
        f"No charts for this record ({why}; charts are drawn for at most {CHARTED_AUDITS} audits)."
    )
