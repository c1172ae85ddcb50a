"""Report blocks for one audit record: inputs, parameters, per-group tables, four-fifths flags,
disparities, the policy verdict (standard library only)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bias_ledger.bundle.report_blocks import (
    GROUP_COLUMNS,
    Block,
    Bullets,
    Heading,
    Paragraph,
    Table,
    group,
    number,
    text,
    value,
)


def _param(item: Any) -> str:
    if isinstance(item, str):
        return text(item)
    return text(json.dumps(item, sort_keys=True, ensure_ascii=False))


def _four_fifths(item: Mapping[str, Any]) -> str:
    flag = item.get("below_four_fifths")
    return "BELOW 4/5" if flag is True else "ok" if flag is False else "undefined"


def _feature(feature: Mapping[str, Any]) -> list[Block]:
    name = " x ".join(text(f) for f in feature.get("features", ()))
    blocks: list[Block] = [
        Heading(4, f"{name} (reference group: {group(feature.get('reference'))})")
    ]
    rows = []
    for item in feature.get("groups", ()):
        counts, metrics = item.get("counts", {}), item.get("metrics", {})
        rows.append(
            (
                group(item.get("group")),
                *(
                    number(counts.get(key))
                    for key in ("true_positives", "false_positives", "true_negatives")
                ),
                number(counts.get("false_negatives")),
                *(value(metrics.get(key)) for key, _ in GROUP_COLUMNS),
                "yes" if item.get("sufficient", True) else "NO (insufficient data)",
            )
        )
    headers = ("group", "TP", "FP", "TN", "FN", *(label for _, label in GROUP_COLUMNS))
    blocks.append(Table((*headers, "sufficient"), tuple(rows)))
    impact = feature.get("impact_ratios", ())
    if impact:
        blocks.append(Paragraph(f"Impact ratios and the four-fifths rule ({name}):"))
        blocks.append(
            Table(
                ("group", "selection rate", "impact ratio", "four-fifths"),
                tuple(
                    (
                        group(i.get("group")),
                        value(i.get("selection_rate")),
                        value(i.get("impact_ratio")),
                        _four_fifths(i),
                    )
                    for i in impact
                ),
            )
        )
    summaries = feature.get("summaries", {})
    disparities = feature.get("disparities", ())
    if summaries:
        blocks.append(
            Table(("summary", "value"), tuple((text(k), value(v)) for k, v in summaries.items()))
        )
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


def policy_blocks(policy: Mapping[str, Any]) -> list[Block]:
    meta = policy.get("policy", {})
    title = f"Policy {text(meta.get('name'))} {text(meta.get('version'))}"
    rows = tuple(
        (text(o.get("rule")), text(o.get("status")), text(o.get("message")))
        for o in policy.get("outcomes", ())
    )
    return [
        Heading(4, f"{title}: verdict {text(policy.get('verdict', '-')).upper()}"),
        Table(("rule", "status", "message"), rows),
    ]


def audit_blocks(payload: Mapping[str, Any]) -> list[Block]:
    blocks: list[Block] = [Heading(4, "Inputs")]
    blocks.append(
        Table(
            ("role", "file", "format", "bytes", "rows", "BLAKE3"),
            tuple(
                tuple(text(i.get(k)) for k in ("role", "name", "format", "size", "rows", "blake3"))
                for i in payload.get("inputs", ())
            ),
        )
    )
    params = payload.get("parameters", {})
    blocks.append(
        Table(("parameter", "value"), tuple((text(k), _param(v)) for k, v in params.items()))
    )
    results = payload.get("results", {})
    overall = results.get("overall", {})
    counts = overall.get("counts", {})
    blocks.append(
        Paragraph(
            f"Overall: {sum(v for v in counts.values() if isinstance(v, int))} rows, "
            f"selection rate {value(overall.get('metrics', {}).get('selection_rate'))}, "
            f"accuracy {value(overall.get('metrics', {}).get('accuracy_score'))}."
        )
    )
    for feature in results.get("features", ()):
        blocks.extend(_feature(feature))
    if payload.get("policy"):
        blocks.extend(policy_blocks(payload["policy"]))
    notes = [*payload.get("warnings", ()), *results.get("notes", ())]
    if notes:
        blocks.append(Bullets(tuple(text(n) for n in notes)))
    env = payload.get("environment") or {}
    blocks.append(Paragraph("Environment: " + ", ".join(f"{k} {text(v)}" for k, v in env.items())))
    return blocks
