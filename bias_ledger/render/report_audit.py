"""Report blocks for one audit record: the first screen (verdict, facts, rules), then per feature
its charts and per-group tables, scores, notes, and the audit's inputs and parameters."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bias_ledger.render.report_blocks import (
    Block,
    Bullets,
    Figure,
    Heading,
    Paragraph,
    ReportRecord,
    Table,
    group,
    text,
    value,
)
from bias_ledger.render.report_first import facts_table, rules_table, verdict_callout
from bias_ledger.render.report_groups import (
    binary_group_tables,
    generic_group_table,
    scores_table,
    significance_index,
)
from bias_ledger.render.report_plots import feature_charts, score_charts


def _param(item: Any) -> str:
    if isinstance(item, str):
        return text(item)
    return text(json.dumps(item, sort_keys=True, ensure_ascii=False))


def _four_fifths(item: Mapping[str, Any]) -> str:
    flag = item.get("below_four_fifths")
    return "BELOW 4/5" if flag is True else "ok" if flag is False else "not judged (undefined)"


def _name(feature: Mapping[str, Any]) -> str:
    return " x ".join(text(f) for f in feature.get("features", ()))


def below_four_fifths(results: Mapping[str, Any]) -> list[str]:
    """Every group the audit flagged below the four-fifths bound, as "feature: group"."""
    return [
        f"{_name(feature)}: {group(i.get('group'))}"
        for feature in results.get("features", ())
        for i in feature.get("impact_ratios", ())
        if i.get("below_four_fifths") is True
    ]


def _summaries(feature: Mapping[str, Any]) -> list[Block]:
    blocks: list[Block] = []
    summaries = feature.get("summaries", {})
    if summaries:
        blocks.append(
            Table(("summary", "value"), tuple((text(k), value(v)) for k, v in summaries.items()))
        )
    disparities = feature.get("disparities", ())
    if disparities:
        blocks.append(
            Table(
                ("metric", "max-min", "min/max", "max vs overall", "min ratio to overall"),
                tuple(
                    (
                        text(d.get("metric")),
                        value(d.get("between_groups_difference")),
                        value(d.get("between_groups_ratio")),
                        value(d.get("to_overall_difference")),
                        value(d.get("to_overall_ratio")),
                    )
                    for d in disparities
                ),
            )
        )
    return blocks


def _impact_table(feature: Mapping[str, Any]) -> list[Block]:
    impact = [i for i in feature.get("impact_ratios", ()) if isinstance(i, Mapping)]
    if not impact:
        return []
    rows = tuple(
        (
            group(i.get("group")),
            value(i.get("selection_rate")),
            value(i.get("impact_ratio")),
            _four_fifths(i),
        )
        for i in impact
    )
    tones = tuple("fail" if i.get("below_four_fifths") is True else "" for i in impact)
    return [
        Paragraph(f"Impact ratios and the four-fifths rule ({_name(feature)}):"),
        Table(("group", "selection rate", "impact ratio", "four-fifths"), rows, tones),
    ]


def binary_feature_blocks(
    feature: Mapping[str, Any],
    key: str,
    statistics: Any,
    minimum: Any,
    level: int = 3,
    *,
    charts: bool = True,
) -> list[Block]:
    name = _name(feature)
    blocks: list[Block] = [
        Heading(level, f"{name} (reference group: {group(feature.get('reference'))})")
    ]
    if charts:
        blocks.extend(Figure(chart) for chart in feature_charts(feature, key))
    blocks.extend(binary_group_tables(feature, significance_index(statistics), minimum))
    blocks.extend(_impact_table(feature))
    blocks.extend(_summaries(feature))
    return blocks


def _score_blocks(
    statistics: Any, results: Mapping[str, Any], key: str, charts: bool
) -> list[Block]:
    scores = (statistics or {}).get("scores") if isinstance(statistics, Mapping) else None
    if not isinstance(scores, Mapping):
        return []
    sufficient = {
        group(g.get("group")): bool(g.get("sufficient", True))
        for feature in results.get("features", ())
        for g in feature.get("groups", ())
    }
    blocks: list[Block] = [Heading(3, "Scores: ROC curves and calibration")]
    for n, feature in enumerate(scores.get("features", ())):
        blocks.append(Heading(4, f"Scores: {_name(feature)}"))
        if charts:
            blocks.extend(Figure(c) for c in score_charts(feature, f"{key}-s{n}", sufficient))
        blocks.append(scores_table(feature))
    return blocks


def _results_blocks(payload: Mapping[str, Any], key: str, charts: bool) -> list[Block]:
    results = payload.get("results", {})
    statistics = payload.get("statistics")
    minimum = payload.get("parameters", {}).get("min_group_size")
    task = results.get("task")
    blocks: list[Block] = []
    if task == "multiclass_classification":
        for item in results.get("per_class", ()):
            label = text(item.get("label"))
            for feature in item.get("results", {}).get("features", ()):
                blocks.append(Heading(3, f"Class {label} (one vs rest): {_name(feature)}"))
                blocks.extend(binary_group_tables(feature, {}, minimum))
                blocks.extend(_impact_table(feature))
        for macro in results.get("macro", ()):
            blocks.append(Heading(3, f"Macro summaries (mean over classes): {_name(macro)}"))
            blocks.extend(_summaries(macro))
    elif task == "regression":
        for feature in results.get("features", ()):
            blocks.append(
                Heading(3, f"{_name(feature)} (reference: {group(feature.get('reference'))})")
            )
            blocks.extend(generic_group_table(feature, minimum))
            blocks.extend(_summaries(feature))
    else:
        for n, feature in enumerate(results.get("features", ())):
            blocks.extend(
                binary_feature_blocks(feature, f"{key}-f{n}", statistics, minimum, charts=charts)
            )
        blocks.extend(_score_blocks(statistics, results, key, charts))
    return blocks


def _details(payload: Mapping[str, Any]) -> list[Block]:
    blocks: list[Block] = [Heading(3, "Inputs and parameters")]
    blocks.append(
        Table(
            ("role", "file", "format", "bytes", "rows", "BLAKE3"),
            tuple(
                tuple(text(i.get(k)) for k in ("role", "name", "format", "size", "rows", "blake3"))
                for i in payload.get("inputs", ())
            ),
        )
    )
    # A table of its own: a second 64-digit column would not fit a printed page.
    blocks.append(
        Table(
            ("role", "SHA-256"),
            tuple(
                (text(i.get("role")), text(i["sha256"]) if i.get("sha256") else "not recorded")
                for i in payload.get("inputs", ())
            ),
        )
    )
    params = payload.get("parameters", {})
    blocks.append(
        Table(("parameter", "value"), tuple((text(k), _param(v)) for k, v in params.items()))
    )
    env = payload.get("environment") or {}
    blocks.append(Paragraph("Environment: " + ", ".join(f"{k} {text(v)}" for k, v in env.items())))
    return blocks


def _rows_paragraph(payload: Mapping[str, Any]) -> Paragraph:
    data = payload.get("data") or {}
    results = payload.get("results", {})
    overall = results.get("overall", {})
    rows = data.get("rows") if isinstance(data, Mapping) else None
    dropped = data.get("dropped_rows") if isinstance(data, Mapping) else None
    audited = rows if rows is not None else overall.get("count")
    words = f"Rows audited: {audited:,}" if isinstance(audited, int) else "Rows audited: -"
    if isinstance(dropped, int) and dropped:
        words += f"; {dropped:,} dropped for a missing label or prediction"
    metrics = overall.get("metrics", {})
    if "selection_rate" in metrics:
        words += f". Overall selection rate {value(metrics.get('selection_rate'))}"
    if "accuracy_score" in metrics:
        words += f", accuracy {value(metrics.get('accuracy_score'))}"
    return Paragraph(words + ".")


def audit_blocks(item: ReportRecord, key: str, *, charts: bool = True) -> list[Block]:
    """The whole section of one audit record, first screen first (its charts if ``charts``)."""
    payload = item.record.get("audit", {})
    results = payload.get("results", {})
    policy = payload.get("policy")
    blocks: list[Block] = [
        verdict_callout(policy, below_four_fifths(results)),
        facts_table(item.record, item.record_hash),
        *(rules_table(policy) if isinstance(policy, Mapping) else []),
        _rows_paragraph(payload),
    ]
    blocks.extend(_results_blocks(payload, key, charts))
    notes = [*payload.get("warnings", ()), *results.get("notes", ())]
    if notes:
        blocks.append(Heading(3, "Notes recorded by the audit"))
        blocks.append(Bullets(tuple(text(n) for n in notes)))
    blocks.extend(_details(payload))
    return blocks


def policy_blocks(policy: Mapping[str, Any]) -> list[Block]:
    """A gate record's policy: its verdict and each rule's, failing first."""
    return [verdict_callout(policy, ()), *rules_table(policy)]
