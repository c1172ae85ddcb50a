"""The published summary of an LL144 bias audit (6 RCNY § 5-303) as Markdown or HTML.

Exactly what the rule asks an employer to post: the date of the most recent bias audit, the
source and explanation of the data, the number of individuals in an unknown category, the number
of applicants, the selection or scoring rates and impact ratios of every category, and the
AEDT's distribution date; with the auditor's justification of any 2% exclusion (§ 5-301(d)).
Every data-derived string is escaped; the page loads and runs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape as html_escape
from typing import Any

from bias_ledger.standards.ll144_view import SummaryView, TableView, summary_view

_MD_SPECIAL = frozenset("\\`*_{}[]()<>#|!~&")
_FORMULA = ("=", "+", "-", "@")
_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
    "table{border-collapse:collapse;margin:.5rem 0 1rem}"
    "th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}th{background:#f3f3f3}"
)
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'"


@dataclass(frozen=True)
class Provenance:
    """Where the summary's numbers come from, so a reader can check them."""

    origin: str
    index: int
    record_hash: str
    countersigned_by: tuple[str, ...] = ()
    """Fingerprints of the declared auditor's key that approved (countersigned) the record."""


def inert(value: Any) -> str:
    """Control characters as spaces, a leading formula character quoted (spreadsheet pastes)."""
    cleaned = "".join(" " if not ch.isprintable() else ch for ch in str(value))
    return "'" + cleaned if cleaned.startswith(_FORMULA) else cleaned


def _md(value: Any) -> str:
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in inert(value))


def _html(value: Any) -> str:
    return html_escape(inert(value), quote=True)


def _model(record: Mapping[str, Any]) -> str:
    subject = record["audit"].get("subject") or {}
    parts = [subject.get("model_name"), subject.get("model_version")]
    return " ".join(str(p) for p in parts if p) or "the automated employment decision tool"


def _footer(provenance: Provenance) -> list[str]:
    lines = [
        f"Ledger {provenance.origin}, record {provenance.index}, BLAKE3 {provenance.record_hash}."
    ]
    if provenance.countersigned_by:
        keys = ", ".join(provenance.countersigned_by)
        lines.append(f"Countersigned by the independent auditor's key {keys}.")
    return lines


def _md_table(table: TableView) -> list[str]:
    lines = [f"## {_md(table.title)}", ""]
    lines.append("| " + " | ".join(_md(h) for h in table.headers) + " |")
    lines.append("|" + "|".join("---" for _ in table.headers) + "|")
    lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in table.rows]
    return [*lines, "", f"Individuals in an unknown category: {table.unknown}", ""]


def render_markdown(record: Mapping[str, Any], provenance: Provenance) -> str:
    view = summary_view(record)
    lines = [f"# Bias audit summary: {_md(_model(record))}", ""]
    lines += ["NYC Local Law 144 (6 RCNY §§ 5-300 to 5-304).", ""]
    lines += [f"- **{_md(name)}:** {_md(value)}" for name, value in view.facts]
    lines.append("")
    for table in view.tables:
        lines += _md_table(table)
    lines += _md_exclusions(view)
    lines += [_md(line) for line in _footer(provenance)]
    return "\n".join(lines) + "\n"


def _md_exclusions(view: SummaryView) -> list[str]:
    if not view.exclusions:
        return []
    lines = ["## Categories excluded from the impact ratios (under 2% of the data)", ""]
    lines += [
        f"- {_md(breakdown)}: {_md(category)}. Justification: {_md(why)}"
        for breakdown, category, why in view.exclusions
    ]
    return [*lines, ""]


def _html_table(table: TableView) -> str:
    head = "".join(f"<th>{_html(h)}</th>" for h in table.headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{_html(cell)}</td>" for cell in row) + "</tr>\n"
        for row in table.rows
    )
    return (
        f"<h2>{_html(table.title)}</h2>\n<table>\n<thead><tr>{head}</tr></thead>\n"
        f"<tbody>\n{body}</tbody>\n</table>\n"
        f"<p>Individuals in an unknown category: {table.unknown}</p>\n"
    )


def _html_list(items: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>\n"


def render_html(record: Mapping[str, Any], provenance: Provenance) -> str:
    view = summary_view(record)
    title = f"Bias audit summary: {_model(record)}"
    parts = [f"<h1>{_html(title)}</h1>\n<p>NYC Local Law 144 (6 RCNY §§ 5-300 to 5-304).</p>\n"]
    parts.append(
        _html_list(
            [f"<strong>{_html(name)}:</strong> {_html(value)}" for name, value in view.facts]
        )
    )
    parts += [_html_table(table) for table in view.tables]
    if view.exclusions:
        parts.append("<h2>Categories excluded from the impact ratios (under 2% of the data)</h2>\n")
        parts.append(
            _html_list(
                [
                    f"{_html(b)}: {_html(c)}. Justification: {_html(why)}"
                    for b, c, why in view.exclusions
                ]
            )
        )
    parts += [f"<p><small>{_html(line)}</small></p>\n" for line in _footer(provenance)]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        f"<title>{_html(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "".join(parts)
        + "</body>\n</html>\n"
    )
