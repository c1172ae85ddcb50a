"""The audit's request and result objects: what an audit is asked, and what it found."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bias_ledger.errors import InputError
from bias_ledger.input_options import DEFAULT_MIN_GROUP_SIZE as DEFAULT_MIN_GROUP_SIZE
from bias_ledger.input_options import DEFAULT_THRESHOLDS as DEFAULT_THRESHOLDS
from bias_ledger.io.model import ColumnMapping, InputFile
from bias_ledger.io.read import Source
from bias_ledger.metrics.model import ImpactDenominator, MetricResults
from bias_ledger.metrics.multiclass_results import MulticlassResults
from bias_ledger.metrics.regression_results import RegressionResults
from bias_ledger.results_layout import RESULTS_SCHEMA_VERSION as RESULTS_SCHEMA_VERSION
from bias_ledger.results_layout import compacted
from bias_ledger.wording import with_article

if TYPE_CHECKING:
    import pandas as pd

# RESULTS_SCHEMA_VERSION: the audit JSON output's and the ``audit`` record payload's version
# (1: no statistics; 2: statistics; 3: results and statistics hold each value once; 4: so do
# the parameters and LL144 tables; :mod:`bias_ledger.results_layout`).

AnyResults = MetricResults | RegressionResults | MulticlassResults


@dataclass(frozen=True)
class ModelArtifact:
    """A model file fingerprinted for the record (its bytes are never stored)."""

    name: str
    size: int
    blake3: str
    sha256: str | None = None
    """Hex SHA-256 of the artifact, for ecosystems that key on it (in-toto, model signing)."""

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"name": self.name, "size": self.size, "blake3": self.blake3}
        if self.sha256 is not None:
            document["sha256"] = self.sha256
        return document


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

    data: Source
    """The dataset file or in-memory table (and predictions, when ``predictions`` is None)."""
    mapping: ColumnMapping
    predictions: Source | None = None
    """A separate predictions file, joined on ``mapping.id_column`` or by row order."""
    references: Mapping[str, str] = field(default_factory=dict)
    """Reference group per sensitive feature; default: each feature's largest group."""
    model: Path | None = None
    model_name: str | None = None
    model_version: str | None = None
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE
    """Groups smaller than this are "insufficient data": shown, but left out of disparities
    and summaries (with a note)."""
    ci_level: float | None = 0.95
    """Confidence level of the intervals; None for none."""
    bootstrap: int = 0
    """Bootstrap resamples for intervals on every metric, disparity and summary; 0 gives
    Wilson score intervals on the per-group rates only."""
    seed: int | None = None
    """Bootstrap seed; None draws one, which is recorded."""
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    """Thresholds of the per-group sweep over a score column."""
    impact_rule: ImpactDenominator = ImpactDenominator.MOST_SELECTED_SUFFICIENT
    """Which group impact ratios divide by; older records recompute with their own rule."""
    cross_check: bool = False
    """Recompute every metric fairlearn defines with MetricFrame and fail on any difference."""
    engine: str = "arrow"
    """Where rows are counted: ``arrow``, ``duckdb`` or ``spark`` (:mod:`bias_ledger.engines`)."""
    spark_master: str | None = None
    """Spark's master URL for ``engine="spark"`` (default ``local[*]``, or ``$SPARK_REMOTE``)."""
    table: str | None = None
    """A Spark catalog table to audit instead of ``data`` (``engine="spark"``)."""
    exact_weights: bool = True
    """Weighted score audits: sum each histogram bin's weights exactly (False: in float64, as
    records made by earlier versions did; only their recomputation asks for it)."""


@dataclass(frozen=True)
class AuditResult:
    """The outcome of one audit: what was read, with which parameters, and every number."""

    subject: Subject
    inputs: tuple[InputFile, ...]
    parameters: Mapping[str, Any]
    """Every parameter needed to recompute the results (JSON-able)."""
    rows: int
    dropped_rows: int
    results: AnyResults
    """Binary classification: MetricResults; regression and multiclass: their own results."""
    warnings: tuple[str, ...]
    statistics: Mapping[str, Any] | None = None
    """Interval method, significance tests and score metrics (JSON), when computed."""

    def by_group(
        self,
        feature: str | Sequence[str] | None = None,
        *,
        metrics: Sequence[str] | None = None,
        positive_class: str | None = None,
    ) -> pd.DataFrame:
        """Per-group metrics as a pandas DataFrame, as fairlearn's ``MetricFrame.by_group``.

        ``feature`` is a sensitive feature's name, or several for their intersection (default:
        all of them); ``metrics`` limits the columns. Undefined values are ``pd.NA``, and
        :meth:`undefined` says why. Multiclass audits take ``positive_class``.
        """
        from bias_ledger import views

        return views.by_group(self, feature, metrics=metrics, positive_class=positive_class)

    def summaries(self, *, positive_class: str | None = None) -> pd.DataFrame:
        """fairlearn's summary metrics, one row per feature (and intersection)."""
        from bias_ledger import views

        return views.summaries(self, positive_class=positive_class)

    def undefined(self, feature: str | Sequence[str] | None = None) -> pd.DataFrame:
        """The reason for each undefined value of :meth:`by_group`."""
        from bias_ledger import views

        return views.undefined(self, feature)

    def __repr__(self) -> str:
        from bias_ledger import views

        return views.short_repr(self)

    def _repr_html_(self) -> str:
        from bias_ledger import views

        return views.result_html(self)

    @property
    def binary(self) -> MetricResults:
        """The binary classification results; InputError for other tasks."""
        if not isinstance(self.results, MetricResults):
            raise InputError(
                f"this is {with_article(self.results.task.value)} audit; only binary "
                "classification results can be judged by a policy"
            )
        return self.results

    def input_json(self) -> list[dict[str, Any]]:
        roles = ("data", "predictions")
        documents = []
        for role, item in zip(roles, self.inputs, strict=False):
            document: dict[str, Any] = {
                "role": role,
                "name": item.name,
                "format": item.format.value,
                "size": item.size,
                "blake3": item.blake3,
                "rows": item.rows,
                **({"sha256": item.sha256} if item.sha256 is not None else {}),
            }
            if item.manifest is not None:
                document["manifest"] = [entry.to_json() for entry in item.manifest]
            documents.append(document)
        return documents

    def to_json(self) -> dict[str, Any]:
        """The documented audit JSON (``schema_version`` 4), also the ledger record payload:
        each value held once (docs/FORMAT.md section 8)."""
        return compacted(self.document())

    def document(self) -> dict[str, Any]:
        """The audit in the self-describing layout of results schema 2, as
        :func:`bias_ledger.results_layout.expanded` reads any record."""
        return {
            "schema_version": 2,
            "subject": self.subject.to_json(),
            "inputs": self.input_json(),
            "parameters": dict(self.parameters),
            "data": {"rows": self.rows, "dropped_rows": self.dropped_rows},
            "results": self.results.to_json(),
            "statistics": dict(self.statistics) if self.statistics is not None else None,
            "warnings": list(self.warnings),
        }
