"""Rich tables for what goes beyond binary metrics: intervals, significance tests, score
metrics, and regression and multiclass results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text

from bias_ledger.metrics import registry
from bias_ledger.metrics.model import Value
from bias_ledger.metrics.multiclass_results import MulticlassResults
from bias_ledger.metrics.regression_results import RegressionFeatureResult
from bias_ledger.render.fit import Column, FittedTable, Listing
from bias_ledger.render.safe_text import safe as escape

HUGE = 1e15
"""From this size on a number is written in scientific notation: a regression's mean of 1e200
was a line of 201 digits."""


def number_text(number: float, digits: int = 3) -> str:
    """An integer with thousands separators, else ``digits`` decimals; huge ones as ``1.5e+200``."""
    if abs(number) >= HUGE:
        return f"{number:.{digits + 1}g}"
    if float(number).is_integer() and abs(number) >= 1:
        return f"{int(number):,}"
    return f"{number:.{digits}f}"


def fmt_json(value: Mapping[str, Any] | None, digits: int = 3) -> Text:
    """A recorded VALUE ({"value": x} or {"value": null, "reason": ...}) for a cell."""
    if value is None or value.get("value") is None:
        return Text("n/a", style="dim")
    number = value["value"]
    return Text(f"{number:.{digits + 1}g}" if abs(number) >= HUGE else f"{number:.{digits}f}")


def interval_text(value: Value) -> Text:
    if value.value is None:
        return Text("n/a", style="dim")
    if value.interval is None:
        return Text(number_text(value.value))
    return Text(f"{value.value:.3f} [{value.interval.low:.3f}, {value.interval.high:.3f}]")


def significance_table(feature: Mapping[str, Any]) -> FittedTable:
    reference = ", ".join(feature["reference"])
    table = FittedTable(
        f"Selection rate vs reference ({escape(reference)}): "
        f"{escape(' x '.join(feature['features']))}",
        [
            Column("group", "left"),
            Column("selected / n"),
            Column("test", "left"),
            Column("p-value"),
            Column("p (Holm, all groups)"),
        ],
    )
    for test in feature["tests"]:
        table.add_row(
            escape(", ".join(test["group"])),
            f"{test['selected']:,} / {test['count']:,}",
            test["method"].replace("_", " "),
            _p_text(test["p_value"]),
            _p_text(test.get("p_value_holm")),
        )
    return table


def _p_text(p_value: Mapping[str, Any] | None) -> Text:
    """A p-value, bold below 0.05."""
    text = fmt_json(p_value, 4)
    number = None if p_value is None else p_value.get("value")
    if number is not None and number < 1e-4:
        text = Text("<0.0001")
    if number is not None and number < 0.05:
        text.stylize("bold")
    return text


def scores_table(feature: Mapping[str, Any]) -> FittedTable:
    table = FittedTable(
        f"Scores: {escape(' x '.join(feature['features']))}",
        [Column("group", "left"), Column("n"), Column("positives"),
         *(Column(item.column) for item in registry.SCORE)],
    )  # fmt: skip
    for group in feature["groups"]:
        table.add_row(
            escape(", ".join(group["group"])),
            f"{group['count']:,}",
            f"{group['positives']:,}",
            *(fmt_json(group.get(item.key)) for item in registry.SCORE),
        )
    return table


def regression_tables(feature: RegressionFeatureResult) -> list[FittedTable]:
    groups = FittedTable(
        f"Per group: {escape(feature.name)}",
        [Column("group", "left"), *(Column(item.name) for item in registry.REGRESSION)],
    )
    for item in feature.groups:
        reference = " (ref)" if item.group == feature.reference else ""
        small = " [dim](insufficient data)[/]" if not item.sufficient else ""
        cells = [interval_text(item.metrics[name]) for name in registry.regression_keys()]
        groups.add_row(escape(item.label) + reference + small, *cells)
    disparities = FittedTable(
        f"Disparities: {escape(feature.name)}",
        [Column("metric", "left"), Column("max-min"), Column("min/max"),
         Column("worst vs overall")],
    )  # fmt: skip
    for disparity in feature.disparities:
        if disparity.metric == "count":
            continue
        disparities.add_row(
            disparity.metric,
            interval_text(disparity.between_groups_difference),
            interval_text(disparity.between_groups_ratio),
            interval_text(disparity.to_overall_difference),
        )
    return [groups, disparities]


def multiclass_tables(results: MulticlassResults) -> list[FittedTable]:
    tables: list[FittedTable] = []
    for macro in results.macro:
        table = FittedTable(
            f"Macro summaries (mean over classes): {escape(' x '.join(macro.features))}",
            [Column("summary", "left"), Column("value")],
        )
        for name, value in macro.summaries.items():
            table.add_row(name, interval_text(value))
        tables.append(table)
    per_class = FittedTable(
        "Selection rate per class and group",
        [Column("class", "left"), Column("feature", "left"),
         Column("groups (selection rate)", "left", wraps=True),
         Column("demographic parity ratio")],
        keys=2,
    )  # fmt: skip
    for item in results.per_class:
        for feature in item.results.features:
            rates: Sequence[str] = [
                f"{escape(g.label)}: {g.metrics['selection_rate'].value:.3f}"
                if g.metrics["selection_rate"].value is not None
                else f"{escape(g.label)}: n/a"
                for g in feature.groups
            ]
            per_class.add_row(
                escape(item.label),
                escape(feature.name),
                Listing(tuple(rates)),
                interval_text(feature.summaries["demographic_parity_ratio"]),
            )
    tables.append(per_class)
    return tables
