"""The bundle report's document model and the inert text helpers every block uses.

Blocks hold plain text; renderers (``render/report_md.py``, ``render/report_html.py``) escape it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bias_ledger.metrics import registry
from bias_ledger.render.report_figures import Chart

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# The headline metrics, as the metric registry labels them.
GROUP_COLUMNS = tuple(
    (item.key, item.column) for item in registry.shown(registry.BINARY, registry.Shown.HEADLINE)
)


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: Iterable[tuple[str, ...]]
    """A tuple, or (the summary of a large report) rows read back one at a time."""
    tones: tuple[str, ...] = ()
    """Per row: "fail", "warn", "small" or "" (how the row is highlighted)."""


@dataclass(frozen=True)
class Code:
    """Commands; built only from fixed text, hex digests and fingerprints (never data)."""

    text: str


@dataclass(frozen=True)
class Callout:
    """The verdict box at the top of an audit: its tone is "fail", "warn", "pass" or "info"."""

    tone: str
    title: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Figure:
    """A chart; HTML draws it as inline SVG, Markdown writes its title and description."""

    chart: Chart


@dataclass(frozen=True)
class PageBreak:
    """Printing starts a new page here (before each record of a bundle)."""


Block = Heading | Paragraph | Bullets | Table | Code | Callout | Figure | PageBreak


@dataclass(frozen=True)
class ReportRecord:
    index: int
    record_hash: str
    record: Mapping[str, Any]
    """The record's JSON as signed."""


RecordSource = Callable[[], Iterator[ReportRecord]]
"""A fresh iterator of the report's records, in index order, each time it is called: the report
reads them twice (the summary, then each record), holding one record at a time."""


def fixed_records(items: Sequence[ReportRecord]) -> RecordSource:
    """A record source over records already in memory (a report of few records)."""
    held = tuple(items)
    return lambda: iter(held)


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows: all of it comes from the bundle's own members."""

    origin: str
    checkpoint_size: int
    checkpoint_root: str
    checkpoint_signer: str
    records: RecordSource
    """Called once per pass; never empty (a report has at least one record)."""
    signers: tuple[tuple[str, str], ...]
    """(fingerprint, OpenSSH public key) of every key that signed something in the bundle."""
    verified: str = ""
    """How the records were verified before this report was made from them (``report``)."""
    ledger: bool = False
    """The records come from a ledger directory (``report N``), not a bundle."""
    archive: str = "zip"
    """The bundle's container: ``zip`` (bundle formats 1 and 2) or ``tar`` (version 3)."""


def text(value: Any) -> str:
    """Data-derived text made inert for spreadsheets: control characters become spaces and a
    leading formula character (= + - @) gets a ``'`` prefix. Markup escaping is the renderer's."""
    cleaned = "".join(" " if not ch.isprintable() else ch for ch in str(value))
    return "'" + cleaned if cleaned.startswith(FORMULA_PREFIXES) else cleaned


def number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1e6 else f"{value:.6g}"
    return text(value)


def value(item: Any) -> str:
    """A recorded metric Value: its number (and interval), or ``undefined (reason)``."""
    if not isinstance(item, Mapping):
        return "-"
    if item.get("value") is None:
        return f"undefined ({text(item.get('reason') or 'no reason given')})"
    interval = item.get("interval")
    if isinstance(interval, Mapping):
        low, high = number(interval.get("low")), number(interval.get("high"))
        return f"{number(item['value'])} [{low}, {high}]"
    return number(item["value"])


def bounded(items: Sequence[str], limit: int = 8) -> str:
    """At most ``limit`` items, then "and N more"."""
    shown = "; ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def group(names: Any) -> str:
    if not isinstance(names, Sequence) or isinstance(names, str) or not names:
        return "overall"
    return ", ".join(text(name) for name in names)
