"""Audit orchestration: inputs -> counts -> metrics -> (policy) -> a result and a ledger payload.

This is the Python API's entry point: :func:`audit` returns the same frozen :class:`AuditResult`
that the CLI renders and records.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

# The request and result objects live in _audit_model; they are re-exported as this module's
# public face (``bias_ledger.audit`` returns an AuditResult).
from bias_ledger._audit_model import (
    DEFAULT_MIN_GROUP_SIZE,
    DEFAULT_THRESHOLDS,
    RESULTS_SCHEMA_VERSION,
    AnyResults,
    AuditRequest,
    AuditResult,
    ModelArtifact,
    Subject,
)
from bias_ledger._request import request_from_options
from bias_ledger.errors import InputError
from bias_ledger.input_options import (
    BY_NAME,
    DEFAULT_CI_LEVEL,
    DEFAULT_MAX_GROUPS,
    OPTIONS,
    recorded_keys,
)
from bias_ledger.io.config import mapping_from_options
from bias_ledger.io.digest import file_digests
from bias_ledger.io.load import load_audit_data
from bias_ledger.io.model import AuditData, ColumnMapping
from bias_ledger.io.read import Source
from bias_ledger.metrics.counts import count_binary
from bias_ledger.metrics.engine import compute_binary_metrics
from bias_ledger.metrics.model import ImpactDenominator, MetricResults, Task
from bias_ledger.metrics.multiclass_results import MulticlassResults
from bias_ledger.wording import with_article

__all__ = [
    "DEFAULT_MIN_GROUP_SIZE",
    "RESULTS_SCHEMA_VERSION",
    "AuditRequest",
    "AuditResult",
    "audit",
    "mapping_from_parameters",
    "parameters_json",
    "request_from_parameters",
    "run_audit",
]


def _references(results: AnyResults) -> dict[str, str]:
    features = (
        results.per_class[0].results.features
        if isinstance(results, MulticlassResults)
        else results.features
    )
    return {item.features[0]: item.reference[0] for item in features if len(item.features) == 1}


def parameters_json(
    request: AuditRequest, data: AuditData, results: AnyResults, *, seed: int | None
) -> dict[str, Any]:
    """The recorded parameters: every option that shapes a number, references as resolved."""
    mapping = request.mapping
    references = _references(results)
    # Only weighted audits name a weight column: unweighted records stay as they were.
    weight = {"weight": mapping.weight} if mapping.weight is not None else {}
    return {
        **weight,
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
        "default_na": mapping.default_na,
        "min_group_size": request.min_group_size,
        # As requested: the CLI and audit() ask for no level in tasks without intervals, and
        # older records of those tasks hold the 0.95 they were made with (and recompute so).
        "ci_level": request.ci_level,
        "bootstrap": request.bootstrap,
        "seed": seed,
        "thresholds": list(request.thresholds) if mapping.score is not None else None,
        "classes": list(data.classes),
        "impact_ratio_denominator": (
            request.impact_rule.value if results.task is not Task.REGRESSION else None
        ),
        "engine": request.engine,
    }


RECOMPUTE_INPUTS = recorded_keys() | {"impact_ratio_denominator"}
"""The recorded parameters :func:`request_from_parameters` reads: a recomputation takes them
from the record as its input, so they are not compared with its output (a newer version may
record them differently, e.g. ``ci_level`` null for tasks without intervals). The parameters
an audit derives from the data (``positive_label``, ``classes``) are compared."""


_BEFORE_RECORDED: dict[str, Any] = {"min_group_size": 0, "ci": None, "bootstrap": 0}
"""What an older record that lacks the parameter was made with, where that is not today's
default: records of results schema 1 predate intervals and minimum group sizes."""


def _recorded_options(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The input option values a record's parameters hold, by option name."""
    values = {
        item.name: parameters.get(item.recorded, _BEFORE_RECORDED.get(item.name, item.default))
        for item in OPTIONS
        if item.recorded is not None
    }
    values["thresholds"] = values["thresholds"] or None  # none recorded: the default sweep
    return values


def request_from_parameters(
    parameters: Mapping[str, Any], *, data: Path, predictions: Path | None
) -> AuditRequest:
    """The request that recomputes a recorded audit from the same files: the options the
    record's parameters hold (:mod:`bias_ledger.input_options` names their keys), read from
    the expanded payload (:func:`bias_ledger.results_layout.expanded`: results schema 4
    holds the interval options in ``statistics.intervals``, not in ``parameters``)."""
    if "label" not in parameters or "sensitive" not in parameters:
        raise InputError("the recorded parameters name no label or no sensitive feature")
    request = request_from_options(
        {**_recorded_options(parameters), "data": data, "predictions": predictions}
    )
    return dataclasses.replace(
        request,
        # As recorded: tasks without intervals recorded 0.95 before 0.2 and null since.
        ci_level=parameters.get("ci_level"),
        # Records without the key divided by the most-selected group however small.
        impact_rule=ImpactDenominator(
            parameters.get("impact_ratio_denominator") or ImpactDenominator.MOST_SELECTED.value
        ),
    )


def mapping_from_parameters(parameters: Mapping[str, Any]) -> ColumnMapping:
    """Rebuild the column mapping recorded by :func:`parameters_json` (for recomputation)."""
    return mapping_from_options(_recorded_options(parameters))


def model_artifact(path: Path | None) -> ModelArtifact | None:
    if path is None:
        return None
    if not path.is_file():
        raise InputError(f"{path}: model artifact not found (expected a file to fingerprint)")
    digests = file_digests(path)
    return ModelArtifact(
        name=path.name, size=digests.size, blake3=digests.blake3, sha256=digests.sha256
    )


MAX_SEED = 2**53 - 1
"""The largest seed a record can hold exactly (RFC 8785 numbers are IEEE doubles)."""


def _check_request(request: AuditRequest) -> None:
    if request.mapping.weight is not None:
        from bias_ledger.metrics.weighted import check_weighted_request

        check_weighted_request(request)
    if request.min_group_size < 0:
        raise InputError(f"--min-group-size must be >= 0; got {request.min_group_size}")
    if request.ci_level is not None and not 0 < request.ci_level < 1:
        raise InputError(
            f"--ci must be a level between 0 and 1 (e.g. 0.95); got {request.ci_level}"
        )
    if request.bootstrap < 0:
        raise InputError(f"--bootstrap must be >= 0 resamples; got {request.bootstrap}")
    if request.bootstrap and request.ci_level is None:
        raise InputError("--bootstrap needs a confidence level (--ci)")
    if request.bootstrap and request.mapping.task is not Task.BINARY_CLASSIFICATION:
        raise InputError(
            "--bootstrap applies to binary classification; "
            f"{with_article(request.mapping.task.value)} "
            "audit has no bootstrap intervals"
        )
    if request.seed is not None and not request.bootstrap:
        raise InputError("--seed sets the bootstrap's draws: it needs --bootstrap N")
    _check_thresholds(request.thresholds)
    # The seed is recorded, and a record holds only integers JSON numbers keep exact.
    if request.seed is not None and not 0 <= request.seed <= MAX_SEED:
        raise InputError(f"--seed must be an integer from 0 to {MAX_SEED}; got {request.seed}")


MAX_THRESHOLDS = 1000


def _check_thresholds(thresholds: Sequence[float]) -> None:
    if not thresholds:
        raise InputError("--thresholds: expected at least one threshold")
    if len(thresholds) > MAX_THRESHOLDS:
        raise InputError(f"--thresholds: expected at most {MAX_THRESHOLDS}, got {len(thresholds)}")
    for value in thresholds:
        if not math.isfinite(value):
            raise InputError(f"--thresholds: expected finite numbers, got {value}")
    if len(set(thresholds)) != len(thresholds):
        raise InputError("--thresholds: a threshold is given more than once")


CROSS_CHECK_MAX_ROWS = 5_000_000
"""``--cross-check`` recomputes with fairlearn from the rows held in memory: at most this many."""


def _rows_for_cross_check(request: AuditRequest, data: AuditData) -> AuditData:
    """The rows themselves, read whole after the streamed audit counted them (bounded)."""
    if data.weights is None:
        return data
    if request.engine != "arrow":
        raise InputError(
            f"--cross-check needs the rows themselves; the {request.engine} engine "
            "aggregates them (use --engine arrow)"
        )
    read = data.rows + data.dropped_rows
    if read > CROSS_CHECK_MAX_ROWS:
        raise InputError(
            f"--cross-check recomputes every metric with fairlearn from the rows held in "
            f"memory, at most {CROSS_CHECK_MAX_ROWS} rows; {data.inputs[0].name} has {read} "
            "(the audit itself streams: leave out --cross-check)"
        )
    return load_audit_data(request.data, predictions=request.predictions, mapping=request.mapping)


def _binary(
    request: AuditRequest, data: AuditData
) -> tuple[MetricResults, dict[str, Any], int | None]:
    """Binary metrics with intervals, significance tests and score metrics."""
    from bias_ledger.metrics.significance import selection_rate_tests

    table = count_binary(
        data.y_true,
        data.y_pred,
        data.sensitive,
        weights=data.weights,
        sample_weight=data.sample_weight,
    )
    results = compute_binary_metrics(
        table,
        references=request.references,
        min_group_size=request.min_group_size,
        impact_rule=request.impact_rule,
    )
    if request.cross_check:
        from bias_ledger.metrics.crosscheck import cross_check

        rows = _rows_for_cross_check(request, data)
        sensitive = {
            column.name: np.asarray(column.categories, dtype=object)[column.codes]
            for column in rows.sensitive
        }
        cross_check(rows.y_true, rows.y_pred, sensitive, results)
    if table.weighted is not None:
        from bias_ledger.metrics.weighted import weighted_statistics

        assert request.mapping.weight is not None
        scored = data.statistics is not None and data.statistics.scores is not None
        weighted = weighted_statistics(
            request.mapping.weight, table, scores=scored, exact_scores=request.exact_weights
        )
        if scored:
            weighted["scores"] = _scores(request, data)
        return results, weighted, None
    statistics: dict[str, Any] = {"intervals": None}
    seed = None
    if request.ci_level is not None and request.bootstrap:
        from bias_ledger.metrics.bootstrap import bootstrap_intervals, with_intervals

        boot = bootstrap_intervals(
            table,
            resamples=request.bootstrap,
            level=request.ci_level,
            seed=request.seed,
            references=request.references,
            min_group_size=request.min_group_size,
            results=results,
        )
        results = with_intervals(results, boot)
        seed = boot.seed
        statistics["intervals"] = boot.summary_json()
    elif request.ci_level is not None:
        from bias_ledger.metrics.wilson import with_wilson_intervals

        results = with_wilson_intervals(results, level=request.ci_level)
        statistics["intervals"] = {
            "method": "wilson",
            "level": request.ci_level,
            "applies_to": "per-group rates",
        }
    statistics["significance"] = [item.to_json() for item in selection_rate_tests(results)]
    statistics["scores"] = None
    if data.statistics is not None and data.statistics.scores is not None:
        statistics["scores"] = _scores(request, data)
    elif data.score is not None:
        from bias_ledger.metrics.scores import score_metrics

        scores = score_metrics(
            data.y_true,
            data.score,
            data.sensitive,
            thresholds=request.thresholds,
            min_group_size=request.min_group_size,
        )
        statistics["scores"] = scores.to_json()
    return results, statistics, seed


def _scores(request: AuditRequest, data: AuditData) -> dict[str, Any]:
    """Score metrics from an engine's score histograms."""
    from bias_ledger.metrics.scores import WeightSums, score_results

    assert data.statistics is not None and data.statistics.scores is not None
    return score_results(
        data.statistics.scores,
        data.sensitive,
        data.statistics.groups,
        thresholds=request.thresholds,
        min_group_size=request.min_group_size,
        weight_sums=WeightSums.EXACT if request.exact_weights else WeightSums.FLOAT,
    ).to_json()


def _load(request: AuditRequest, progress: Callable[[int], None] | None) -> AuditData:
    """The validated input rows, counted by the requested engine."""
    from bias_ledger.engines import Engine

    engines = ", ".join(item.value for item in Engine)
    try:
        engine = Engine(request.engine)
    except ValueError:
        raise InputError(f"--engine {request.engine!r}: expected one of {engines}") from None
    if engine is Engine.ARROW:
        if request.table is not None:
            raise InputError("--table names a catalog table: it needs --engine spark")
        from bias_ledger.engines import arrow_engine

        if arrow_engine.streams(request.mapping, predictions=request.predictions):
            return arrow_engine.load(
                request.data,
                predictions=request.predictions,
                mapping=request.mapping,
                progress=progress,
                thresholds=request.thresholds,
            )
        return load_audit_data(
            request.data,
            predictions=request.predictions,
            mapping=request.mapping,
            progress=progress,
        )
    from bias_ledger.io.load import check_mapping

    check_mapping(request.mapping)
    for source in (request.data, request.predictions):
        if source is not None and not isinstance(source, Path):
            raise InputError(
                f"the {engine.value} engine reads files, directories and tables; an in-memory "
                "table is audited with engine='arrow'"
            )
    if engine is Engine.DUCKDB:
        from bias_ledger.engines import duckdb_engine

        if request.table is not None:
            raise InputError("--table names a Spark catalog table: it needs --engine spark")
        return duckdb_engine.load(
            request.data,
            predictions=request.predictions,
            mapping=request.mapping,
            thresholds=request.thresholds,
        )
    from bias_ledger.engines import spark_engine

    return spark_engine.load(
        request.data if request.table is None else None,
        predictions=request.predictions,
        mapping=request.mapping,
        table=request.table,
        master=request.spark_master,
        thresholds=request.thresholds,
    )


def run_audit(
    request: AuditRequest, *, progress: Callable[[int], None] | None = None
) -> AuditResult:
    """Read the inputs, count, and compute every metric; raise InputError on bad input."""
    _check_request(request)
    data = _load(request, progress)
    statistics: dict[str, Any] | None = None
    seed: int | None = None
    results: AnyResults
    if data.task is Task.REGRESSION and data.statistics is not None:
        from bias_ledger.metrics.regression import regression_results

        assert data.statistics.regression is not None
        results = regression_results(
            data.statistics.regression,
            data.sensitive,
            data.statistics.groups,
            references=request.references,
            min_group_size=request.min_group_size,
        )
    elif data.task is Task.REGRESSION:
        from bias_ledger.metrics.regression import regression_metrics

        weights = data.sample_weight.values if data.sample_weight is not None else None
        results = regression_metrics(
            data.y_true,
            data.y_pred,
            data.sensitive,
            references=request.references,
            min_group_size=request.min_group_size,
            sample_weight=weights,
        )
    elif data.task is Task.MULTICLASS_CLASSIFICATION:
        from bias_ledger.metrics.multiclass import multiclass_from_codes

        # The readers code classes from Arrow dictionaries: no per-row text from here on.
        results = multiclass_from_codes(
            data.y_true,
            data.y_pred,
            data.classes,
            data.sensitive,
            references=request.references,
            min_group_size=request.min_group_size,
            impact_rule=request.impact_rule,
            weights=data.weights,
            sample_weight=data.sample_weight,
        )
    else:
        results, statistics, seed = _binary(request, data)
    if request.mapping.weight is not None and data.task is not Task.BINARY_CLASSIFICATION:
        from bias_ledger.metrics.weighted import weighted_statistics

        regression = data.task is Task.REGRESSION
        statistics = weighted_statistics(request.mapping.weight, None, regression=regression)
    subject = Subject(
        model_name=request.model_name,
        model_version=request.model_version,
        artifact=model_artifact(request.model),
    )
    return AuditResult(
        subject=subject,
        inputs=data.inputs,
        parameters=parameters_json(request, data, results, seed=seed),
        rows=data.rows,
        dropped_rows=data.dropped_rows,
        results=results,
        warnings=data.warnings,
        statistics=statistics,
    )


class _DefaultLevel(float):
    """The type of :data:`DEFAULT_CI`: ``audit()`` tells its default from an explicit 0.95."""


DEFAULT_CI = _DefaultLevel(0.95)
SAMPLE_WEIGHT_COLUMN = "sample_weight"


def with_sample_weight(source: Source, values: object) -> Source:
    """The table ``source`` with ``values`` as its column :data:`SAMPLE_WEIGHT_COLUMN`."""
    from dataclasses import replace

    import pyarrow as pa

    from bias_ledger.io.tables import InMemoryTable

    if not isinstance(source, InMemoryTable):
        raise InputError(
            f"sample_weight= an array needs data as a table; {source} is a file: name its "
            "weight column with weight=COLUMN"
        )
    if SAMPLE_WEIGHT_COLUMN in source.table.column_names:
        raise InputError(
            f"{source}: already has a column {SAMPLE_WEIGHT_COLUMN!r}; pass weight="
            f"{SAMPLE_WEIGHT_COLUMN!r} instead of sample_weight="
        )
    array = np.asarray(values).reshape(-1)
    if len(array) != source.table.num_rows:
        raise InputError(
            f"sample_weight has {len(array)} values; expected one per row of {source} "
            f"({source.table.num_rows})"
        )
    try:
        column = pa.array(array.tolist() if array.dtype == object else array)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise InputError(f"sample_weight: expected numbers, cannot convert ({exc})") from None
    return replace(source, table=source.table.append_column(SAMPLE_WEIGHT_COLUMN, column))


def _source(obj: object, *, role: str, name: str | None) -> Source:
    """A file path or an in-memory table; InputError naming what is accepted otherwise."""
    from bias_ledger.io.tables import TABLE_KINDS, to_input

    if isinstance(obj, (str, Path)):
        return Path(obj)
    table = to_input(obj, name=name or f"<{type(obj).__name__} {role}>")
    if table is None:
        raise InputError(
            f"{role}: expected a path or {TABLE_KINDS}; got {type(obj).__module__}."
            f"{type(obj).__qualname__}"
        )
    return table


def audit(
    data: object,
    *,
    label: str | None = None,
    sensitive: str | Sequence[str],
    prediction: str | None = None,
    score: str | None = None,
    threshold: float | None = None,
    pos_label: str | None = None,
    predictions: object | None = None,
    id_column: str | None = None,
    join: str | None = None,
    references: Mapping[str, str] | None = None,
    missing_as_group: bool = False,
    drop_missing: bool = False,
    max_groups: int = DEFAULT_MAX_GROUPS,
    default_na: bool = True,
    task: str = Task.BINARY_CLASSIFICATION.value,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    ci: float | None = DEFAULT_CI_LEVEL,
    bootstrap: int = 0,
    seed: int | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    model: str | Path | None = None,
    model_name: str | None = None,
    model_version: str | None = None,
    data_name: str | None = None,
    predictions_name: str | None = None,
    engine: str = "arrow",
    spark_master: str | None = None,
    table: str | None = None,
    weight: str | None = None,
    sample_weight: object | None = None,
) -> AuditResult:
    """Audit a model's predictions for fairness; the Python face of ``bias-ledger audit``.

    ``data`` (and ``predictions``) is a path to a CSV, Parquet or JSON Lines file, or a pandas
    DataFrame, a polars DataFrame or LazyFrame, or a pyarrow Table. A table is fingerprinted by
    the BLAKE3 of a canonical Arrow IPC stream of the audited columns (docs/FORMAT.md);
    ``data_name`` names it in the record. ``engine`` is ``"arrow"`` (default), ``"duckdb"``
    (files, directories, globs) or ``"spark"`` (also ``table=`` a catalog table, on
    ``spark_master``). ``weight`` names a column of sample weights, or ``sample_weight``
    gives them as an array aligned with the rows of a table ``data`` (fairlearn's
    ``sample_weight``; recorded as the column ``sample_weight``); a weighted audit has no
    intervals (``ci`` must be left out). Every other argument is keyword-only and means what
    the CLI option of the same name means (``bias-ledger audit --help``).

    Nothing is recorded: ``bias_ledger.Ledger.open(path).append(result)`` signs and appends it.
    """
    if label is None:
        raise InputError("no label column given; expected label=COLUMN")
    if data is None and table is None:
        raise InputError("no data given: expected a path, a table, or table=NAME (Spark)")
    # Every keyword is an input option (bias_ledger.input_options), as the CLI's are.
    values = {name: value for name, value in locals().items() if name in BY_NAME}
    source = _source(data, role="data", name=data_name) if data is not None else None
    if sample_weight is not None:
        if weight is not None:
            raise InputError("give weight=COLUMN or sample_weight=ARRAY, not both")
        if source is None:
            raise InputError("sample_weight= an array needs data as a table")
        values["weight"] = SAMPLE_WEIGHT_COLUMN
        source = with_sample_weight(source, sample_weight)
    values.pop("sample_weight", None)
    values["data"] = source
    values["predictions"] = (
        _source(predictions, role="predictions", name=predictions_name)
        if predictions is not None
        else None
    )
    return run_audit(request_from_options(values))
