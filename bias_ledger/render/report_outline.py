"""The report's first pass over its records: the summary rows, and which audits get charts.

Charts cost tens of milliseconds each (matplotlib), and an audit has up to twenty: a report
draws them for a bounded set of audits (every audit when there are at most ``CHARTED_AUDITS``,
otherwise the newest audit of each model and data file, the newest ``CHARTED_AUDITS`` of
those). Every other audit keeps its verdict, its groups below four-fifths and all its tables.
"""

from __future__ import annotations

from collections.abc import Mapping
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


@dataclass(frozen=True)
class Outline:
    """What the first pass learns: small, whatever the number of records."""

    count: int
    audits: int
    first_index: int
    first_hash: str
    first_format: object
    """The first record's ``format_version`` (the verification commands depend on it)."""
    first_subject: str
    indexes: str
    """The records' indexes, as a list or bounded ranges."""
    rows: tuple[tuple[str, ...], ...]
    """One summary row per record."""
    charted: frozenset[int]
    newest: Mapping[tuple[str, str], int]
    """(subject, data file) -> the index of its newest audit."""

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


def _ranges(runs: list[list[int]]) -> str:
    words = [str(a) if a == b else f"{a}-{b}" for a, b in runs]
    return bounded(words, 8).replace("; ", ", ")


def outline(data: ReportData) -> Outline:
    """One pass over ``data.records``: summary rows, index ranges and the charted audits."""
    rows: list[tuple[str, ...]] = []
    runs: list[list[int]] = []
    newest: dict[tuple[str, str], int] = {}
    audits: list[int] = []
    first: tuple[int, str, object, str] | None = None
    for item in data.records():
        record = item.record
        if first is None:
            first = (item.index, item.record_hash, record.get("format_version"), subject(record))
        if runs and runs[-1][1] + 1 == item.index:
            runs[-1][1] = item.index
        else:
            runs.append([item.index, item.index])
        kind = text(record.get("kind"))
        if kind == "audit":
            newest[(subject(record), data_file(record))] = item.index
            if len(audits) <= CHARTED_AUDITS:
                audits.append(item.index)
        rows.append(
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
    audit_count = sum(1 for row in rows if row[2] == "audit")
    marked = tuple(
        (*row, "yes" if int(row[0]) in charted else "-" if row[2] == "audit" else "")
        for row in rows
    )
    indexes = ", ".join(row[0] for row in rows) if len(rows) <= LISTED_INDEXES else _ranges(runs)
    return Outline(len(rows), audit_count, *first, indexes, marked, charted, newest)


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
