"""The LL144 tables as plain text cells, read from a recorded payload (for every renderer).

Renderers (terminal, Markdown, HTML) take these views; none computes a number. The view reads
the record's JSON, so ``show`` and ``report`` render what was signed, not a recomputation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bias_ledger.errors import InputError
from bias_ledger.results_layout import expanded

TITLES = {
    "sex": "Sex",
    "race_ethnicity": "Race/ethnicity",
    "intersectional": "Intersectional (sex × race/ethnicity)",
}


@dataclass(frozen=True)
class TableView:
    """One breakdown: a title, column headers, and rows of text cells."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    unknown: int
    flags: tuple[tuple[str, ...], ...] = ()
    """Per row (same order): small / excluded / four-fifths / p-value cells (terminal only)."""


@dataclass(frozen=True)
class SummaryView:
    """What 6 RCNY § 5-303 asks an employer to post, and the tables of § 5-301."""

    facts: tuple[tuple[str, str], ...]
    tables: tuple[TableView, ...]
    exclusions: tuple[tuple[str, str, str], ...]
    """(breakdown, category, justification) of each category excluded under the 2% rule."""
    rate_name: str


def number(cell: Mapping[str, Any] | None, digits: int = 3) -> str:
    """A recorded value ``{"value": x}`` as text; undefined values as 'n/a'."""
    if not isinstance(cell, Mapping) or cell.get("value") is None:
        return "n/a"
    return f"{float(cell['value']):.{digits}f}"


def ll144_payload(record_or_payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """The LL144 audit payload of a record (or the payload itself), in the self-describing
    layout whatever its results schema; InputError otherwise."""
    payload = record_or_payload.get("audit", record_or_payload)
    if not isinstance(payload, Mapping) or payload.get("standard") != "nyc-ll144":
        raise InputError("expected an audit record made with --standard nyc-ll144")
    where = f"record {record_or_payload['index']}" if "index" in record_or_payload else None
    return expanded(payload, where=where or "audit payload")


def _category(row: Mapping[str, Any]) -> str:
    return " / ".join(str(part) for part in row.get("category", ()))


def summary_view(record_or_payload: Mapping[str, Any]) -> SummaryView:
    payload = ll144_payload(record_or_payload)
    results = payload["nyc_ll144"]
    declaration = payload["declaration"]
    scoring = results["tool_type"] == "scoring"
    rate_name = "Scoring rate" if scoring else "Selection rate"
    source = "historical data" if declaration["data_source"] == "historical" else "test data"
    facts: list[tuple[str, str]] = [
        ("Date of the most recent bias audit", declaration["audit_date"]),
        ("Distribution date of the AEDT", declaration["distribution_date"]),
        ("Independent auditor", declaration["auditor"]),
        ("Source of the data", source),
        ("Explanation of the data", declaration["data_description"]),
    ]
    if declaration.get("test_data_reason"):
        facts.append(("Why historical data was not used", declaration["test_data_reason"]))
    facts.append(("Number of applicants or candidates assessed", str(results["applicants"])))
    unknown = {t["breakdown"]: t["unknown"] for t in results["tables"]}
    facts.append(
        (
            "Individuals in an unknown category (not in the calculations)",
            f"sex: {unknown.get('sex', 0)}; race/ethnicity: {unknown.get('race_ethnicity', 0)}; "
            f"intersectional: {unknown.get('intersectional', 0)}",
        )
    )
    if scoring:
        facts.append(("Median score of the full sample", str(results["median_score"])))
    facts.append(("Type of tool", "scoring" if scoring else "selection"))
    tables = tuple(_table(t, rate_name) for t in results["tables"])
    exclusions = tuple(
        (
            TITLES.get(e["breakdown"], e["breakdown"]),
            " / ".join(e["category"]),
            e["justification"],
        )
        for e in results.get("exclusions", ())
    )
    return SummaryView(tuple(facts), tables, exclusions, rate_name)


def _table(table: Mapping[str, Any], rate_name: str) -> TableView:
    rows: list[tuple[str, ...]] = []
    flags: list[tuple[str, ...]] = []
    for row in table["rows"]:
        ratio = "excluded (2% rule)" if row["excluded"] else number(row["impact_ratio"])
        rows.append((_category(row), str(row["applicants"]), number(row["rate"], 4), ratio))
        flags.append(_flags(row))
    return TableView(
        title=TITLES.get(table["breakdown"], str(table["breakdown"])),
        headers=("Category", "Number of applicants", rate_name, "Impact ratio"),
        rows=tuple(rows),
        unknown=int(table["unknown"]),
        flags=tuple(flags),
    )


def _flags(row: Mapping[str, Any]) -> tuple[str, ...]:
    below = row.get("below_four_fifths")
    return (
        "small" if row.get("small") else "",
        "yes" if below is True else ("no" if below is False else "n/a"),
        number(row.get("p_value"), 4),
    )


FLAG_HEADERS: Sequence[str] = ("flag", "< 4/5 (EEOC rule of thumb)", "p-value vs top")
