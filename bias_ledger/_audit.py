"""Audit orchestration: inputs -> counts -> metrics -> (policy) -> a result and a ledger payload.

This is the Python API's entry point: :func:`audit` returns the same frozen :class:`AuditResult`
that the CLI renders and records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bias_ledger.errors import InputError
from bias_ledger.io.digest import digest_file
from bias_ledger.io.load import load_audit_data
from bias_ledger.io.model import AuditData, ColumnMapping, InputFile, JoinMode
from bias_ledger.metrics.counts import count_binary
from bias_ledger.metrics.engine import compute_binary_metrics
from bias_ledger.metrics.model import MetricResults

RESULTS_SCHEMA_VERSION = 1
"""Version of the audit JSON output and of the ``audit`` record payload."""


@dataclass(frozen=True)
class ModelArtifact:
    """A model file fingerprinted for the record (its bytes are never stored)."""

    name: str
    size: int
    blake3: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "blake3": self.blake3}


@dataclass(frozen=True)
class Subject:
    """What was audited."""

    model_name: str | None
    model_version: str | None
    artifact: ModelArtifact | None
    """The model file's fingerprint, when ``--model FILE`` was given."""

    def to_json(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "model_version": self.model_version,
            "artifact": self.artifact.to_json() if self.artifact else None,
        }


@dataclass(frozen=True)
class AuditRequest:
    """Everything an audit needs: the inputs and every parameter that shapes its numbers."""

    data: Path
    """The dataset file (and predictions, when ``predictions`` is None)."""
    mapping: ColumnMapping
    predictions: Path | None = None
    """A separate predictions file, joined on ``mapping.id_column`` or by row order."""
    references: Mapping[str, str] = field(default_factory=dict)
    """Reference group per sensitive feature; default: each feature's largest group."""
    model: Path | None = None
    model_name: str | None = None
    model_version: str | None = None
    min_group_size: int | None = None
    """Groups smaller than this are flagged as insufficient data (None: the engine default)."""
    cross_check: bool = False
    """Recompute every metric fairlearn defines with MetricFrame and fail on any difference."""


@dataclass(frozen=True)
class AuditResult:
    """The outcome of one audit: what was read, with which parameters, and every number."""

    subject: Subject
    inputs: tuple[InputFile, ...]
    parameters: Mapping[str, Any]
    """Every parameter needed to recompute the results (JSON-able)."""
    rows: int
    dropped_rows: int
    results: MetricResults
    warnings: tuple[str, ...]

    def input_json(self) -> list[dict[str, Any]]:
        roles = ("data", "predictions")
        return [
            {
                "role": role,
                "name": item.name,
                "format": item.format.value,
                "size": item.size,
                "blake3": item.blake3,
                "rows": item.rows,
            }
            for role, item in zip(roles, self.inputs, strict=False)
        ]

    def to_json(self) -> dict[str, Any]:
        """The documented audit JSON (``schema_version`` 1), also the ledger record payload."""
        return {
            "schema_version": RESULTS_SCHEMA_VERSION,
            "subject": self.subject.to_json(),
            "inputs": self.input_json(),
            "parameters": dict(self.parameters),
            "data": {"rows": self.rows, "dropped_rows": self.dropped_rows},
            "results": self.results.to_json(),
            "warnings": list(self.warnings),
        }


def parameters_json(
    mapping: ColumnMapping, data: AuditData, results: MetricResults
) -> dict[str, Any]:
    """The recorded parameters: the mapping as given and the reference groups as resolved."""
    references = {
        item.features[0]: item.reference[0] for item in results.features if len(item.features) == 1
    }
    return {
        "task": results.task.value,
        "label": mapping.label,
        "prediction": mapping.prediction,
        "score": mapping.score,
        "threshold": mapping.threshold,
        "pos_label": mapping.pos_label,
        "positive_label": data.positive_label,
        "sensitive": list(mapping.sensitive),
        "references": references,
        "id_column": mapping.id_column,
        "join": mapping.join.value if mapping.join else None,
        "missing_as_group": mapping.missing_as_group,
        "drop_missing": mapping.drop_missing,
        "max_groups": mapping.max_groups,
    }


def mapping_from_parameters(parameters: Mapping[str, Any]) -> ColumnMapping:
    """Rebuild the column mapping recorded by :func:`parameters_json` (for recomputation)."""
    join = parameters.get("join")
    return ColumnMapping(
        label=parameters["label"],
        prediction=parameters.get("prediction"),
        score=parameters.get("score"),
        threshold=parameters.get("threshold"),
        pos_label=parameters.get("pos_label"),
        sensitive=tuple(parameters["sensitive"]),
        id_column=parameters.get("id_column"),
        join=JoinMode(join) if join else None,
        missing_as_group=bool(parameters.get("missing_as_group", False)),
        drop_missing=bool(parameters.get("drop_missing", False)),
        max_groups=int(parameters.get("max_groups", 1000)),
    )


def _artifact(path: Path | None) -> ModelArtifact | None:
    if path is None:
        return None
    if not path.is_file():
        raise InputError(f"{path}: model artifact not found (expected a file to fingerprint)")
    digest, size = digest_file(path)
    return ModelArtifact(name=path.name, size=size, blake3=digest)


def run_audit(
    request: AuditRequest, *, progress: Callable[[int], None] | None = None
) -> AuditResult:
    """Read the inputs, count, and compute every metric; raise InputError on bad input."""
    data = load_audit_data(
        request.data, predictions=request.predictions, mapping=request.mapping, progress=progress
    )
    table = count_binary(data.y_true, data.y_pred, data.sensitive)
    results = compute_binary_metrics(table, references=request.references)
    if request.cross_check:
        from bias_ledger.metrics.crosscheck import cross_check

        sensitive = {
            column.name: np.asarray(column.categories, dtype=object)[column.codes]
            for column in data.sensitive
        }
        cross_check(data.y_true, data.y_pred, sensitive, results)
    subject = Subject(
        model_name=request.model_name,
        model_version=request.model_version,
        artifact=_artifact(request.model),
    )
    return AuditResult(
        subject=subject,
        inputs=data.inputs,
        parameters=parameters_json(request.mapping, data, results),
        rows=data.rows,
        dropped_rows=data.dropped_rows,
        results=results,
        warnings=data.warnings,
    )


def audit(
    data: str | Path,
    *,
    label: str,
    sensitive: Sequence[str],
    prediction: str | None = None,
    score: str | None = None,
    threshold: float | None = None,
    pos_label: str | None = None,
    predictions: str | Path | None = None,
    id_column: str | None = None,
    join: str | None = None,
    references: Mapping[str, str] | None = None,
    missing_as_group: bool = False,
    drop_missing: bool = False,
    max_groups: int = 1000,
    model: str | Path | None = None,
    model_name: str | None = None,
    model_version: str | None = None,
) -> AuditResult:
    """Audit a model's predictions for fairness; the Python face of ``bias-ledger audit``.

    Nothing is recorded: pass the result to :func:`bias_ledger.record.record_audit` for that.
    """
    mapping = ColumnMapping(
        label=label,
        prediction=prediction,
        score=score,
        threshold=threshold,
        pos_label=pos_label,
        sensitive=tuple(sensitive),
        id_column=id_column,
        join=JoinMode(join) if join else None,
        missing_as_group=missing_as_group,
        drop_missing=drop_missing,
        max_groups=max_groups,
    )
    request = AuditRequest(
        data=Path(data),
        mapping=mapping,
        predictions=Path(predictions) if predictions is not None else None,
        references=dict(references or {}),
        model=Path(model) if model is not None else None,
        model_name=model_name,
        model_version=model_version,
    )
    return run_audit(request)
