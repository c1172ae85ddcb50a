"""Per-group tables of one audit record: n, every metric with its interval, p-values raw and
Holm-adjusted, exclusions and notes in plain words (standard library only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bias_ledger.metrics import registry
from bias_ledger.render.report_blocks import Block, Paragraph, Table, group, number, text

# The headline metrics first, then every other rate, as the metric registry labels them.
MAIN_METRICS = tuple(
    (item.key, item.column) for item in registry.shown(registry.BINARY, registry.Shown.HEADLINE)
)
OTHER_METRICS = tuple(
    (item.key, item.column)
    for item in registry.shown(registry.BINARY, registry.Shown.TABLE, registry.Shown.DETAIL)
    if item.rate is not None
)
MISSING_GROUP = "<missing>"


def cell(item: Any, *, count: bool = False) -> str:
    """A recorded VALUE for a cell: the number, its interval on a second line, or undefined.

    Canonical JSON writes 1.0 as 1: a rate is shown with three decimals all the same.
    """
    if not isinstance(item, Mapping):
        return "-"
    found = item.get("value")
    if found is None:
        return "undefined"
    if isinstance(found, bool):
        return str(found).lower()
    if count and isinstance(found, int | float):
        return f"{int(found):,}"
    if isinstance(found, int):
        found = float(found)
    shown = f"{found:.3f}" if isinstance(found, float) and abs(found) < 1e6 else number(found)
    interval = item.get("interval")
    if isinstance(interval, Mapping):
        low, high = interval.get("low"), interval.get("high")
        if isinstance(low, float | int) and isinstance(high, float | int):
            shown += f"\n[{low:.3f}, {high:.3f}]"
    return shown


def _p(test: Mapping[str, Any] | None, key: str) -> str:
    if test is None:
        return "-"
    item = test.get(key)
    found = item.get("value") if isinstance(item, Mapping) else None
    if not isinstance(found, int | float):
        return "undefined" if isinstance(item, Mapping) else "-"
    return "<0.0001" if found < 1e-4 else f"{found:.4f}"


def significance_index(
    statistics: Mapping[str, Any] | None,
) -> dict[tuple[tuple[str, ...], tuple[str, ...]], Mapping[str, Any]]:
    """(features, group) -> its recorded test against the reference group."""
    index: dict[tuple[tuple[str, ...], tuple[str, ...]], Mapping[str, Any]] = {}
    tests = (statistics or {}).get("significance") or ()
    for feature in tests:
        names = tuple(str(f) for f in feature.get("features", ()))
        for test in feature.get("tests", ()):
            index[(names, tuple(str(g) for g in test.get("group", ())))] = test
    return index


def _excluded(feature: Mapping[str, Any]) -> dict[tuple[str, ...], list[str]]:
    left_out: dict[tuple[str, ...], list[str]] = {}
    for disparity in feature.get("disparities", ()):
        for names in disparity.get("excluded_groups", ()) or ():
            left_out.setdefault(tuple(str(n) for n in names), []).append(
                text(disparity.get("metric")).replace("_", " ")
            )
    return left_out


def _notes(
    item: Mapping[str, Any],
    feature: Mapping[str, Any],
    excluded: Mapping[tuple[str, ...], list[str]],
    minimum: Any,
) -> str:
    names = tuple(str(n) for n in item.get("group", ()))
    metrics = item.get("metrics", {})
    notes = []
    if list(names) == list(feature.get("reference") or ()):
        notes.append("reference group")
    if MISSING_GROUP in names:
        notes.append("rows with no value for this feature (unknown)")
    if not item.get("sufficient", True):
        count = number(metrics.get("count", {}).get("value"))
        floor = f" < {number(minimum)}" if minimum is not None else ""
        notes.append(f"insufficient data ({count} rows{floor}): shown, not judged")
    undefined: dict[str, list[str]] = {}
    for key, label in (*MAIN_METRICS, *OTHER_METRICS):
        metric = metrics.get(key)
        if isinstance(metric, Mapping) and metric.get("value") is None and metric.get("reason"):
            undefined.setdefault(text(metric["reason"]), []).append(label)
    notes.extend(
        f"{', '.join(labels)} undefined ({reason})" for reason, labels in undefined.items()
    )
    if names in excluded:
        notes.append(
            f"left out of {len(excluded[names])} disparities ({', '.join(excluded[names])})"
        )
    return "; ".join(notes)


def binary_group_tables(
    feature: Mapping[str, Any],
    tests: Mapping[tuple[tuple[str, ...], tuple[str, ...]], Mapping[str, Any]],
    minimum: Any,
) -> list[Block]:
    names = tuple(str(f) for f in feature.get("features", ()))
    groups = [g for g in feature.get("groups", ()) if isinstance(g, Mapping)]
    excluded = _excluded(feature)
    main, other, tones = [], [], []
    for item in groups:
        metrics = item.get("metrics", {})
        label = group(item.get("group"))
        test = tests.get((names, tuple(str(g) for g in item.get("group", ()))))
        main.append(
            (
                label,
                cell(metrics.get("count"), count=True),
                *(cell(metrics.get(key)) for key, _ in MAIN_METRICS),
                _p(test, "p_value"),
                _p(test, "p_value_holm"),
                _notes(item, feature, excluded, minimum),
            )
        )
        other.append((label, *(cell(metrics.get(key)) for key, _ in OTHER_METRICS)))
        tones.append("" if item.get("sufficient", True) else "small")
    small = sum(1 for t in tones if t)
    counts = (
        f"{len(groups)} groups: {len(groups) - small} with enough rows to judge, {small} with "
        "insufficient data (shown, marked, not judged). p-values test each group's selection "
        "rate against the reference group's; Holm adjusts them for the number of groups."
    )
    return [
        Paragraph(counts),
        Table(
            ("group", "n", *(label for _, label in MAIN_METRICS), "p", "p (Holm)", "notes"),
            tuple(main),
            tuple(tones),
        ),
        Table(("group", *(label for _, label in OTHER_METRICS)), tuple(other), tuple(tones)),
    ]


def generic_group_table(feature: Mapping[str, Any], minimum: Any) -> list[Block]:
    """Regression (or any other task's) groups: every recorded metric, in recorded order."""
    groups = [g for g in feature.get("groups", ()) if isinstance(g, Mapping)]
    keys: list[str] = []
    for item in groups:
        keys.extend(k for k in item.get("metrics", {}) if k not in keys)
    rows, tones = [], []
    for item in groups:
        metrics = item.get("metrics", {})
        rows.append(
            (
                group(item.get("group")),
                *(cell(metrics.get(k), count=k == "count") for k in keys),
                _notes(item, feature, _excluded(feature), minimum),
            )
        )
        tones.append("" if item.get("sufficient", True) else "small")
    headers = ("group", *(k.replace("_", " ") for k in keys), "notes")
    return [Table(headers, tuple(rows), tuple(tones))]


def scores_table(feature: Mapping[str, Any]) -> Table:
    rows = tuple(
        (
            group(g.get("group")),
            number(g.get("count")),
            number(g.get("positives")),
            *(cell(g.get(item.key)) for item in registry.SCORE),
        )
        for g in feature.get("groups", ())
        if isinstance(g, Mapping)
    )
    return Table(("group", "n", "positives", *(item.column for item in registry.SCORE)), rows)
