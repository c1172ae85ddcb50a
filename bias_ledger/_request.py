"""The audit request that a set of input option values describes.

The CLI (options merged with the config file) and :func:`bias_ledger.audit` (keyword arguments)
both build their :class:`AuditRequest` here, from values named as :mod:`bias_ledger.input_options`
declares them, so the two faces cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bias_ledger._audit_model import AuditRequest
from bias_ledger.errors import InputError
from bias_ledger.input_options import DEFAULT_CI_LEVEL, DEFAULT_THRESHOLDS, resolved
from bias_ledger.io.config import mapping_from_options
from bias_ledger.metrics.model import Task


def request_from_options(values: Mapping[str, Any]) -> AuditRequest:
    """The request of the option values; ``data`` and ``predictions`` are already sources
    (paths or tables). ``ci`` of 0 or None asks for no intervals; tasks without intervals get
    none."""
    merged = resolved(values)
    mapping = mapping_from_options(merged)
    data = merged["data"]
    if data is None:
        if merged["table"] is None:
            raise InputError("no dataset given")
        data = Path(f"table:{merged['table']}")
    ci = merged["ci"]
    if mapping.weight is not None and (
        values.get("ci") is None or values["ci"] is DEFAULT_CI_LEVEL
    ):
        ci = None  # a weighted audit has no intervals; an explicit ci is refused
    thresholds = merged["thresholds"]
    model = merged["model"]
    return AuditRequest(
        data=data,
        mapping=mapping,
        predictions=merged["predictions"],
        references=dict(merged["references"] or {}),
        model=Path(model) if model is not None else None,
        model_name=merged["model_name"],
        model_version=merged["model_version"],
        min_group_size=int(merged["min_group_size"]),
        ci_level=float(ci) if ci and mapping.task is Task.BINARY_CLASSIFICATION else None,
        bootstrap=int(merged["bootstrap"] or 0),
        seed=merged["seed"],
        thresholds=tuple(thresholds) if thresholds is not None else DEFAULT_THRESHOLDS,
        engine=str(merged["engine"]),
        spark_master=merged["spark_master"],
        table=merged["table"],
    )
