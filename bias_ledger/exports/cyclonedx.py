"""An audit record's per-group metrics as a CycloneDX 1.6 ML-BOM model card.

The model is one ``machine-learning-model`` component; every defined per-group metric (with its
confidence interval when one was computed) and every impact ratio becomes one entry of
``modelCard.quantitativeAnalysis.performanceMetrics``, its ``slice`` naming the group. The
component's properties tie it to the ledger record it was read from.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from bias_ledger.errors import InputError, LedgerError
from bias_ledger.results_layout import expanded

SPEC_VERSION = "1.6"
PROPERTY_PREFIX = "bias-ledger:"


def _number(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _metric(kind: str, cell: Any, slice_: str) -> dict[str, Any] | None:
    if not isinstance(cell, Mapping) or cell.get("value") is None:
        return None  # undefined values (0/0) have no number to report
    metric: dict[str, Any] = {"type": kind, "value": _number(cell["value"]), "slice": slice_}
    interval = cell.get("interval")
    if isinstance(interval, Mapping):
        metric["confidenceInterval"] = {
            "lowerBound": _number(interval["low"]),
            "upperBound": _number(interval["high"]),
        }
    return metric


def _slice(features: Any, group: Any, prefix: str = "") -> str:
    pairs = ", ".join(f"{f}={g}" for f, g in zip(features, group, strict=False))
    return f"{prefix}{pairs}" if pairs else f"{prefix}overall".rstrip(", ")


def _feature_metrics(feature: Mapping[str, Any], prefix: str) -> Iterator[dict[str, Any]]:
    names = feature.get("features") or ()
    for group in feature.get("groups") or ():
        where = _slice(names, group.get("group") or (), prefix)
        for kind, cell in (group.get("metrics") or {}).items():
            found = _metric(kind, cell, where)
            if found is not None:
                yield found
    for item in feature.get("impact_ratios") or ():
        found = _metric(
            "impact_ratio", item.get("impact_ratio"), _slice(names, item["group"], prefix)
        )
        if found is not None:
            yield found


def _ll144_metrics(results: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    rate = str(results.get("rate"))
    for table in results.get("tables") or ():
        columns = table.get("columns") or ()
        for row in table.get("rows") or ():
            where = _slice(columns, row["category"])
            for kind, cell in ((rate, row["rate"]), ("impact_ratio", row["impact_ratio"])):
                found = _metric(kind, cell, where)
                if found is not None:
                    yield found


def performance_metrics(audit: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every defined per-group value of an audit payload, as CycloneDX performanceMetrics."""
    metrics: list[dict[str, Any]] = []
    audit = expanded(audit)
    results = audit.get("results")
    if isinstance(results, Mapping):
        for feature in results.get("features") or ():
            metrics.extend(_feature_metrics(feature, ""))
        for item in results.get("per_class") or ():
            for feature in item["results"]["features"]:
                metrics.extend(_feature_metrics(feature, f"class={item.get('class')}, "))
    if isinstance(audit.get("nyc_ll144"), Mapping):
        metrics.extend(_ll144_metrics(audit["nyc_ll144"]))
    return metrics


def model_bom(record: Mapping[str, Any], *, record_hash: str, version: str) -> dict[str, Any]:
    """The CycloneDX 1.6 BOM of the model audited in ``record`` (an audit record's JSON)."""
    audit = record["audit"]
    subject = audit.get("subject") or {}
    artifact = subject.get("artifact") or {}
    name = subject.get("model_name") or artifact.get("name") or "model"
    component: dict[str, Any] = {
        "type": "machine-learning-model",
        "bom-ref": f"model:{record_hash[:16]}",
        "name": name,
    }
    if subject.get("model_version"):
        component["version"] = str(subject["model_version"])
    hashes = [{"alg": "SHA-256", "content": artifact["sha256"]}] if artifact.get("sha256") else []
    if artifact.get("blake3"):
        hashes.append({"alg": "BLAKE3", "content": artifact["blake3"]})
    if hashes:
        component["hashes"] = hashes
    component["modelCard"] = {
        "quantitativeAnalysis": {"performanceMetrics": performance_metrics(audit)}
    }
    component["properties"] = [
        {"name": f"{PROPERTY_PREFIX}{key}", "value": str(value)}
        for key, value in (
            ("origin", record["origin"]),
            ("record_index", record["index"]),
            ("record_hash", record_hash),
            ("audited_at", record["timestamp"]),
            ("standard", audit.get("standard") or "none"),
        )
    ]
    return {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        # One serial number per record: exporting the same record again gives the same BOM.
        "serialNumber": uuid.uuid5(uuid.NAMESPACE_URL, f"bias-ledger:{record_hash}").urn,
        "version": 1,
        "metadata": {
            "timestamp": record["timestamp"],
            "tools": {
                "components": [{"type": "application", "name": "bias-ledger", "version": version}]
            },
        },
        "components": [component],
    }


def export_cyclonedx(path: Path, index: int | None, *, model: str | None) -> dict[str, Any]:
    """The BOM of audit record ``index`` (default: the latest audit, of ``model`` if named).

    The ledger is verified (integrity) first; nothing unverified is exported.
    """
    from bias_ledger._version import __version__
    from bias_ledger.verify.records import open_verified

    # Integrity first (format 1 or 2); trust is the reader's decision.
    ledger = open_verified(path, None)
    if index is not None:
        item = ledger.record(index) if 0 <= index < ledger.size else None
        if item is None or item.record().get("kind") != "audit":
            raise InputError(f"record {index}: expected an audit record of {path}")
        chosen, digest = item.record(), item.record_hash
    else:
        latest = None  # one record held at a time: a ledger can be larger than memory
        for item in ledger.records():
            record = item.record()
            subject = (record.get("audit") or {}).get("subject") or {}
            if record.get("kind") == "audit" and model in (None, subject.get("model_name")):
                latest = (record, item.record_hash)
        if latest is None:
            raise LedgerError(
                f"{path}: no audit record" + (f" of model {model!r}" if model else "")
            )
        chosen, digest = latest
    return model_bom(chosen, record_hash=digest, version=__version__)
