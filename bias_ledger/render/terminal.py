"""Rich renderables of audit results: header, per-group table, disparity and impact-ratio tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from bias_ledger.metrics import registry
from bias_ledger.metrics.model import FOUR_FIFTHS, FeatureResult, MetricResults, Value
from bias_ledger.render.fit import Column, FittedTable
from bias_ledger.render.safe_text import safe as escape
from bias_ledger.render.safe_text import visible

if TYPE_CHECKING:
    from bias_ledger._audit import AuditResult

# Which metrics each table shows, and their headers, are the registry's.
TABLE_METRICS: tuple[tuple[str, str], ...] = tuple(
    (item.key, item.column)
    for item in registry.shown(registry.BINARY, registry.Shown.HEADLINE, registry.Shown.TABLE)
)
DISPARITY_METRICS: tuple[str, ...] = tuple(
    item.key for item in registry.shown(registry.BINARY, registry.Shown.HEADLINE)
)


def fmt(value: Value, *, digits: int = 3) -> Text:
    """A metric value for a table cell; undefined values show as a dim 'n/a'."""
    if value.value is None:
        return Text("n/a", style="dim")
    from bias_ledger.render.terminal_tasks import number_text

    return Text(number_text(value.value, digits))


def header(result: AuditResult) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")  # digests are never cut
    subject = result.subject
    model = " ".join(part for part in (subject.model_name, subject.model_version) if part)
    table.add_row("model", escape(model) or "(unnamed)")
    if subject.artifact:
        table.add_row(
            "artifact", f"{escape(subject.artifact.name)}  blake3:{subject.artifact.blake3}"
        )
    for item in result.input_json():
        table.add_row(
            item["role"],
            f"{escape(item['name'])}  {item['rows']:,} rows  {item['size']:,} bytes  "
            f"blake3:{item['blake3']}",
        )
    params = result.parameters
    prediction = params.get("prediction") or f"{params.get('score')} >= {params.get('threshold')}"
    label = params["label"]
    if params.get("positive_label"):
        label += f" (positive={params['positive_label']})"
    table.add_row(
        "columns",
        escape(
            f"task={params['task']}  label={label}  prediction={prediction}  "
            f"sensitive={', '.join(params['sensitive'])}"
            + (f"  weight={params['weight']}" if params.get("weight") else "")
        ),
    )
    rows = f"{result.rows:,} audited"
    if params.get("weight"):
        rows += f" (weighted by {escape(params['weight'])}; n counts rows; no intervals or tests)"
    if result.dropped_rows:
        rows += f", {result.dropped_rows:,} dropped for missing values"
    table.add_row("rows", rows)
    return table


def group_table(feature: FeatureResult, overall_label: str = "overall") -> FittedTable:
    interval = feature.groups[0].metrics["selection_rate"].interval if feature.groups else None
    columns = [Column("group", "left"), *(Column(short) for _, short in TABLE_METRICS)]
    if interval is not None:
        columns.append(Column(f"selection {interval.level:.0%} CI"))
    table = FittedTable(f"Per group: {escape(feature.name)}", columns)
    for item in feature.groups:
        reference = " (ref)" if item.group == feature.reference else ""
        small = " [dim](insufficient data)[/]" if not item.sufficient else ""
        cells = [fmt(item.metrics[name]) for name, _ in TABLE_METRICS]
        if interval is not None:
            bounds = item.metrics["selection_rate"].interval
            cells.append(
                Text(f"{bounds.low:.3f}-{bounds.high:.3f}") if bounds else Text("n/a", style="dim")
            )
        table.add_row(escape(item.label) + reference + small, *cells)
    return table


def _ratio_text(value: Value) -> Text:
    text = fmt(value)
    if value.value is not None and value.value < FOUR_FIFTHS:
        text.stylize("bold red")
    return text


def disparity_table(feature: FeatureResult) -> FittedTable:
    reference = ", ".join(feature.reference)
    table = FittedTable(
        f"Disparities: {escape(feature.name)} (reference: {escape(reference)})",
        [
            Column("metric", "left"),
            Column("max-min"),
            Column("min/max"),
            Column("worst vs overall"),
            Column("worst ratio vs reference"),
        ],
    )
    for name in DISPARITY_METRICS:
        item = feature.disparity(name)
        vs_reference = [c.ratio for c in item.to_reference if c.ratio.value is not None]
        worst = min(vs_reference, key=lambda v: v.value or 0.0) if vs_reference else None
        table.add_row(
            name,
            fmt(item.between_groups_difference),
            _ratio_text(item.between_groups_ratio),
            fmt(item.to_overall_difference),
            _ratio_text(worst) if worst else Text("n/a", style="dim"),
        )
    return table


def impact_table(feature: FeatureResult) -> FittedTable:
    denominator = feature.impact_ratio_denominator
    over = f" (denominator: {escape(', '.join(denominator))})" if denominator is not None else ""
    table = FittedTable(
        f"Impact ratios (four-fifths rule): {escape(feature.name)}{over}",
        [
            Column("group", "left"),
            Column("selection rate"),
            Column("impact ratio"),
            Column("four-fifths", "left"),
        ],
    )
    for item in feature.impact_ratios:
        if not item.sufficient:
            flag = Text("insufficient data", style="yellow")
        elif item.below_four_fifths is None:
            flag = Text("n/a", style="dim")
        elif item.below_four_fifths:
            flag = Text("FAIL (< 0.8)", style="bold red")
        else:
            flag = Text("pass", style="green")
        # The group every ratio divides by is named on its row, as the reference group is.
        over = " (denominator)" if item.group == feature.impact_ratio_denominator else ""
        table.add_row(
            escape(", ".join(item.group)) + over,
            fmt(item.selection_rate),
            fmt(item.impact_ratio),
            flag,
        )
    return table


def summary_table(results: MetricResults) -> FittedTable:
    names: Sequence[str] = list(results.features[0].summaries) if results.features else []
    table = FittedTable(
        "Summaries (fairlearn definitions)",
        [Column("feature", "left"), *(Column(name.replace("_", " ")) for name in names)],
    )
    for feature in results.features:
        table.add_row(escape(feature.name), *[fmt(feature.summaries[n]) for n in names])
    return table


def binary_report(results: MetricResults) -> list[RenderableType]:
    parts: list[RenderableType] = []
    for feature in results.features:
        parts.extend([group_table(feature), disparity_table(feature), impact_table(feature)])
    parts.append(summary_table(results))
    return parts


def audit_report(result: AuditResult) -> RenderableType:
    from bias_ledger.metrics.multiclass_results import MulticlassResults
    from bias_ledger.metrics.regression_results import RegressionResults
    from bias_ledger.render import terminal_tasks as extra

    parts: list[RenderableType] = [header(result)]
    results = result.results
    if isinstance(results, RegressionResults):
        for regression in results.features:
            parts.extend(extra.regression_tables(regression))
    elif isinstance(results, MulticlassResults):
        parts.extend(extra.multiclass_tables(results))
    else:
        parts.extend(binary_report(results))
    statistics = result.statistics or {}
    parts.extend(extra.significance_table(item) for item in statistics.get("significance") or [])
    scores = statistics.get("scores") or {}
    parts.extend(extra.scores_table(item) for item in scores.get("features", []))
    intervals = statistics.get("intervals")
    if intervals:
        level = intervals.get("level")
        parts.append(
            Text(
                f"intervals: {intervals.get('method')} at level {level} (in --json output)",
                style="dim",
            )
        )
    parts.extend(_notes(results.notes))
    return Group(*parts)


def _notes(notes: Iterable[str]) -> list[RenderableType]:
    return [Text(f"note: {visible(note)}", style="dim") for note in notes]
