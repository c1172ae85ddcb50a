"""The charts of one audit record, as data picked from its recorded results (standard library).

Nothing is computed here: every bar, point and cell is a recorded value (or its recorded
interval); descriptions name the lowest and highest recorded values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bias_ledger.render.report_blocks import group, text
from bias_ledger.render.report_figures import (
    Bar,
    BarChart,
    Chart,
    Curve,
    CurveChart,
    Heatmap,
    Line,
    Series,
)

FOUR_FIFTHS = 0.8
MAX_BARS = 24
"""Intersections with more groups are drawn as heatmaps only."""
MAX_CURVES = 8
"""ROC curves and reliability diagrams draw at most this many groups (the largest)."""


def number(item: Any) -> float | None:
    """A recorded VALUE's number, or None when undefined."""
    if not isinstance(item, Mapping):
        return None
    found = item.get("value")
    return float(found) if isinstance(found, int | float) and not isinstance(found, bool) else None


def bounds(item: Any) -> tuple[float | None, float | None]:
    interval = item.get("interval") if isinstance(item, Mapping) else None
    if not isinstance(interval, Mapping):
        return None, None
    return number({"value": interval.get("low")}), number({"value": interval.get("high")})


def _bar(label: str, item: Any, *, insufficient: bool, flagged: bool = False) -> Bar:
    low, high = bounds(item)
    return Bar(label, number(item), low, high, insufficient=insufficient, flagged=flagged)


def _extremes(bars: Sequence[Bar]) -> str:
    known = [b for b in bars if b.value is not None]
    if not known:
        return "No group has a defined value."
    low = min(known, key=lambda b: b.value or 0.0)
    high = max(known, key=lambda b: b.value or 0.0)
    small = sum(b.insufficient for b in bars)
    words = f"Lowest {low.label} at {low.value:.3f}; highest {high.label} at {high.value:.3f}."
    if small:
        words += f" {small} group(s) have insufficient data (hatched, not judged)."
    return words


def _groups(feature: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [g for g in feature.get("groups", ()) if isinstance(g, Mapping)]


def _bar_charts(feature: Mapping[str, Any], key: str, name: str) -> list[Chart]:
    groups = _groups(feature)
    reference = group(feature.get("reference"))
    charts: list[Chart] = []
    rates = tuple(
        _bar(
            group(g.get("group")),
            g.get("metrics", {}).get("selection_rate"),
            insufficient=not g.get("sufficient", True),
        )
        for g in groups
    )
    reference_rate = next((b.value for b in rates if b.label == reference), None)
    lines = (
        ()
        if reference_rate is None
        else (Line(reference_rate, f"reference group {reference}: {reference_rate:.3f}"),)
    )
    charts.append(
        BarChart(
            f"{key}-sel",
            f"Selection rate per group: {name}",
            f"Share of each {name} group predicted positive, with its confidence interval; "
            f"the dashed line is the reference group ({reference}). " + _extremes(rates),
            "selection rate",
            (Series("selection rate", rates),),
            lines,
        )
    )
    sufficient = {group(g.get("group")): bool(g.get("sufficient", True)) for g in groups}
    ratios = tuple(
        _bar(
            group(i.get("group")),
            i.get("impact_ratio"),
            insufficient=not sufficient.get(group(i.get("group")), True),
            flagged=i.get("below_four_fifths") is True,
        )
        for i in feature.get("impact_ratios", ())
        if isinstance(i, Mapping)
    )
    if ratios:
        below = [b.label for b in ratios if b.flagged]
        charts.append(
            BarChart(
                f"{key}-ir",
                f"Impact ratios: {name}",
                "Selection rate of each group over the most-selected group's; the dashed line "
                f"is the four-fifths bound (0.8). {len(below)} group(s) below it"
                + (
                    f" ({'; '.join(below[:8])}{' and more' if len(below) > 8 else ''})."
                    if below
                    else "."
                )
                + " "
                + _extremes(ratios),
                "impact ratio",
                (Series("impact ratio", ratios),),
                (Line(FOUR_FIFTHS, "four-fifths bound: 0.8"),),
                unit_range=True,
            )
        )
    odds = [
        Series(
            label,
            tuple(
                _bar(
                    group(g.get("group")),
                    g.get("metrics", {}).get(metric),
                    insufficient=not g.get("sufficient", True),
                )
                for g in groups
            ),
        )
        for metric, label in (("true_positive_rate", "TPR"), ("false_positive_rate", "FPR"))
    ]
    charts.append(
        BarChart(
            f"{key}-eo",
            f"True and false positive rates per group: {name}",
            "The equalized-odds picture: true positive rate (TPR) and false positive rate "
            f"(FPR) of each {name} group with their intervals. TPR: "
            + _extremes(odds[0].bars)
            + " FPR: "
            + _extremes(odds[1].bars),
            "rate",
            tuple(odds),
        )
    )
    return charts


def _heatmap(feature: Mapping[str, Any], key: str, name: str, what: str) -> Heatmap | None:
    names = list(feature.get("features", ()))
    if len(names) < 2:
        return None
    groups = _groups(feature)
    cells: dict[tuple[str, str], tuple[float | None, bool]] = {}
    small = {tuple(g.get("group", ())): not g.get("sufficient", True) for g in groups}
    source = (
        [(g.get("group", ()), g.get("metrics", {}).get("selection_rate")) for g in groups]
        if what == "selection_rate"
        else [(i.get("group", ()), i.get("impact_ratio")) for i in feature.get("impact_ratios", ())]
    )
    rows: dict[str, None] = {}
    columns: dict[str, None] = {}
    for names_of_group, item in source:
        parts = [text(p) for p in names_of_group]
        if len(parts) != len(names):
            continue
        row, column = ", ".join(parts[:-1]), parts[-1]
        rows.setdefault(row, None)
        columns.setdefault(column, None)
        cells[(row, column)] = (number(item), small.get(tuple(names_of_group), False))
    if not cells:
        return None
    row_names, column_names = tuple(rows), tuple(columns)
    values = tuple(
        tuple(cells.get((r, c), (None, False))[0] for c in column_names) for r in row_names
    )
    thin = tuple(
        tuple(cells.get((r, c), (None, False))[1] for c in column_names) for r in row_names
    )
    title = "Selection rate" if what == "selection_rate" else "Impact ratio"
    bound = None if what == "selection_rate" else FOUR_FIFTHS
    rows_name = " x ".join(text(n) for n in names[:-1])
    return Heatmap(
        f"{key}-hm-{what}",
        f"{title} by intersection: {name}",
        f"{title} of each intersectional group: rows are {rows_name}, columns "
        f"{text(names[-1])}. Each cell shows its value; hatched cells have insufficient data or "
        "no value" + ("; outlined cells are below the four-fifths bound (0.8)." if bound else "."),
        row_names,
        column_names,
        values,
        thin,
        bound,
    )


def feature_charts(feature: Mapping[str, Any], key: str) -> list[Chart]:
    """Selection rate, impact ratios, TPR and FPR per group; heatmaps for intersections."""
    name = " x ".join(text(f) for f in feature.get("features", ()))
    charts: list[Chart] = []
    if len(feature.get("features", ())) < 2 or len(_groups(feature)) <= MAX_BARS:
        charts.extend(_bar_charts(feature, key, name))
    for what in ("selection_rate", "impact_ratio"):
        heatmap = _heatmap(feature, key, name, what)
        if heatmap is not None:
            charts.append(heatmap)
    return charts


def score_charts(
    feature: Mapping[str, Any], key: str, sufficient: Mapping[str, bool]
) -> list[Chart]:
    """An ROC curve (the recorded threshold sweep) and a reliability diagram per group."""
    name = " x ".join(text(f) for f in feature.get("features", ()))
    groups = [g for g in feature.get("groups", ()) if isinstance(g, Mapping)]
    shown = sorted(groups, key=lambda g: -int(g.get("count") or 0))[:MAX_CURVES]
    shown = [g for g in groups if g in shown]
    left_out = len(groups) - len(shown)
    more = f" The {left_out} smaller group(s) are not drawn (see the table)." if left_out else ""
    roc, reliability = [], []
    for item in shown:
        label = group(item.get("group"))
        small = not sufficient.get(label, True)
        sweep = item.get("sweep") or {}
        points = [
            (number(f), number(t))
            for f, t in zip(
                sweep.get("false_positive_rate", ()),
                sweep.get("true_positive_rate", ()),
                strict=False,
            )
        ]
        known = sorted((f, t) for f, t in points if f is not None and t is not None)
        auc = number(item.get("roc_auc"))
        roc_label = f"{label} (AUC {auc:.3f})" if auc is not None else f"{label} (AUC undefined)"
        roc.append(
            Curve(
                roc_label,
                (0.0, *(f for f, _ in known), 1.0),
                (0.0, *(t for _, t in known), 1.0),
                small,
            )
        )
        bins = [
            (number(b.get("mean_predicted")), number(b.get("observed_rate")))
            for b in item.get("calibration", ())
            if isinstance(b, Mapping)
        ]
        usable = [(x, y) for x, y in bins if x is not None and y is not None]
        ece = number(item.get("expected_calibration_error"))
        reliability.append(
            Curve(
                f"{label} (ECE {ece:.3f})" if ece is not None else label,
                tuple(x for x, _ in usable),
                tuple(y for _, y in usable),
                small,
            )
        )
    if not shown:
        return []
    return [
        CurveChart(
            f"{key}-roc",
            f"ROC curves per group: {name}",
            f"True positive rate against false positive rate of each {name} group at the "
            "recorded thresholds of the score sweep, with each group's ROC AUC in the legend; "
            "the dotted diagonal is chance." + more,
            "false positive rate",
            "true positive rate",
            tuple(roc),
            "chance",
        ),
        CurveChart(
            f"{key}-rel",
            f"Reliability diagram per group: {name}",
            f"Observed positive rate against mean predicted score in each calibration bin, per "
            f"{name} group, with each group's expected calibration error (ECE); the dotted "
            "diagonal is perfect calibration." + more,
            "mean predicted score",
            "observed positive rate",
            tuple(reliability),
            "perfectly calibrated",
        ),
    ]
