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
from bias_ledger.input_options import BY_NAME, DEFAULT_THRESHOLDS, OPTIONS, Kind, defaults
from bias_ledger.io.model import ColumnMapping, JoinMode
from bias_ledger.metrics.model import Task


def _choices(choices: tuple[str, ...]) -> str:
    return ", ".join(choices)


def resolved(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with every option they leave out at its default; TypeError for an unknown
    name, InputError for a value outside a choice option's choices."""
    unknown = sorted(set(values) - set(BY_NAME))
    if unknown:
        raise TypeError(f"unknown input option {unknown[0]!r}")
    merged = {**defaults(), **values}
    for item in OPTIONS:
        value = merged[item.name]
        if item.kind is Kind.CHOICE and value is not None and str(value) not in item.choices:
            raise InputError(
                f"{item.flag} {str(value)!r}: expected one of {_choices(item.choices)}"
            )
    return merged


def mapping_from_options(values: Mapping[str, Any]) -> ColumnMapping:
    """The column mapping of the option values (absent ones at their defaults)."""
    merged = resolved(values)
    if not merged["label"]:
        raise InputError("no label column given; expected label=COLUMN")
    sensitive = merged["sensitive"]
    join = merged["join"]
    return ColumnMapping(
        label=merged["label"],
        prediction=merged["prediction"],
        score=merged["score"],
        threshold=merged["threshold"],
        pos_label=merged["pos_label"],
        sensitive=(sensitive,) if isinstance(sensitive, str) else tuple(sensitive),
        id_column=merged["id_column"],
        join=JoinMode(join) if join else None,
        missing_as_group=bool(merged["missing_as_group"]),
        drop_missing=bool(merged["drop_missing"]),
        max_groups=merged["max_groups"],
        default_na=bool(merged["default_na"]),
        task=Task(merged["task"]),
    )


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
        min_group_size=merged["min_group_size"],
        ci_level=float(ci) if ci and mapping.task is Task.BINARY_CLASSIFICATION else None,
        bootstrap=merged["bootstrap"] or 0,
        seed=merged["seed"],
        thresholds=tuple(thresholds) if thresholds is not None else DEFAULT_THRESHOLDS,
        engine=merged["engine"],
        spark_master=merged["spark_master"],
        table=merged["table"],
    )
