"""Rich rendering of one ledger record (``bias-ledger show N``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table

from bias_ledger.render.fit import Column, FittedTable
from bias_ledger.render.safe_text import safe as escape
from bias_ledger.render.terminal import disparity_table, group_table, impact_table, summary_table
from bias_ledger.results_json import results_from_json
from bias_ledger.results_layout import readable


def _grid(rows: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")  # keys and digests are never cut
    for name, value in rows:
        table.add_row(name, escape(value))
    return table


NONE = "—"
"""How a missing value (JSON null, an empty list or note) is shown."""


def shown(value: Any) -> str:
    """A record's value as a person reads it: no Python ``None``, ``True`` or reprs."""
    if value is None or value == "" or value == [] or value == {}:
        return NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={shown(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(shown(item) for item in value)
    return str(value)


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _value(cell: Mapping[str, Any]) -> str:
    number = cell.get("value")
    return "n/a" if number is None else f"{number:.4g}"


def _feature_table(title: str, feature: Mapping[str, Any]) -> FittedTable:
    from bias_ledger.metrics import registry

    found = set(feature["groups"][0]["metrics"]) if feature["groups"] else set()
    # Records store members sorted by name (RFC 8785); show them in the usual order.
    declared = (*registry.regression_keys(), *registry.binary_keys())
    known = [n for n in declared if n in found]
    names = known + sorted(found - set(known))
    table = FittedTable(
        escape(title), [Column("group", "left"), *(Column(n.replace("_", " ")) for n in names)]
    )
    for group in feature["groups"]:
        table.add_row(
            escape(", ".join(group["group"])), *[_value(group["metrics"][n]) for n in names]
        )
    return table


def _generic_groups(results: Mapping[str, Any]) -> list[RenderableType]:
    """Per-group tables of regression and multiclass results, straight from their JSON."""
    tables: list[RenderableType] = [
        _feature_table(f"Per group: {' x '.join(feature['features'])}", feature)
        for feature in results.get("features", [])
    ]
    for item in results.get("per_class", []):
        for feature in item["results"]["features"]:
            names = " x ".join(feature["features"])
            tables.append(_feature_table(f"Class {item['label']}: {names}", feature))
    return tables


def record_report(record: Mapping[str, Any]) -> RenderableType:
    from bias_ledger.ledger.key_records import computed_fingerprint

    record = readable(record)
    kind = record["kind"]
    signer = record["signer"]
    rows = [
        ("record", str(record["index"])),
        ("kind", kind),
        ("time (UTC)", record["timestamp"]),
        ("previous hash", shown(record["previous_hash"])),
        ("origin", record["origin"]),
        ("signer", f"{computed_fingerprint(signer['public_key'])}  {signer['public_key']}"),
        ("format version", str(record["format_version"])),
    ]
    rows += [(f"label {name}", shown(value)) for name, value in record.get("labels", {}).items()]
    payload = record[kind]
    parts: list[RenderableType] = [_grid(rows)]
    if kind == "audit":
        subject = payload["subject"]
        details = [
            ("model", " ".join(p for p in (subject["model_name"], subject["model_version"]) if p)),
        ]
        if subject.get("artifact"):
            artifact = subject["artifact"]
            details.append(("artifact", f"{artifact['name']} blake3:{artifact['blake3']}"))
        details += [
            (
                item["role"],
                f"{item['name']} {_rows(item['rows'])} {item['size']} bytes "
                f"blake3:{item['blake3']} "
                + (f"sha256:{item['sha256']}" if item.get("sha256") else "SHA-256 not recorded"),
            )
            for item in payload["inputs"]
        ]
        details += [(f"param {k}", shown(v)) for k, v in payload["parameters"].items()]
        details += [(f"env {k}", shown(v)) for k, v in payload.get("environment", {}).items()]
        parts.append(_grid(details))
        if payload.get("standard") == "nyc-ll144":
            from bias_ledger.standards.ll144_terminal import ll144_report

            parts.append(ll144_report(payload))
        if "results" not in payload:  # an LL144 audit without a label has only its tables
            pass
        elif payload["results"].get("task") == "binary_classification":
            results = results_from_json(payload["results"])
            for feature in results.features:
                parts += [group_table(feature), disparity_table(feature), impact_table(feature)]
            parts.append(summary_table(results))
        else:
            parts.extend(_generic_groups(payload["results"]))
    else:
        fields: dict[str, Any] = {}
        for name, value in payload.items():
            fields[name] = value
            if name in ("new_public_key", "revoked_public_key"):  # key records
                # Shown beside its key, computed from it (format 2 may not hold it).
                fields[name.replace("public_key", "fingerprint")] = computed_fingerprint(value)
        parts.append(_grid([(key, shown(value)) for key, value in fields.items()]))
    policy = payload.get("policy") if isinstance(payload, dict) else None
    if policy:
        from bias_ledger.policy.report import PolicyReport
        from bias_ledger.render.policy_terminal import policy_summary

        parts.append(policy_summary(PolicyReport.from_json(policy)))
    return Group(*parts)
