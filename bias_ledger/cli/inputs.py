"""The input options that ``audit`` and ``gate`` share, and how they become an AuditRequest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bias_ledger.errors import InputError

if TYPE_CHECKING:
    from bias_ledger._audit import AuditRequest

DataArg = Annotated[
    Path | None,
    typer.Argument(
        help="Dataset file: CSV (.csv, .csv.gz), Parquet or JSON Lines.", show_default=False
    ),
]
# Lists, so that a repeated --data or --predictions is an error rather than the last one winning.
DataOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--data",
        help="Dataset file, as an option (instead of the DATA argument).",
        show_default=False,
    ),
]
PredictionsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--predictions", help="Separate predictions file, joined on --id.", show_default=False
    ),
]
IdOpt = Annotated[str | None, typer.Option("--id", help="Id column joining the two files.")]
JoinOpt = Annotated[
    str | None,
    typer.Option("--join", help="'id' (with --id) or 'row-order' (same row counts required)."),
]
LabelOpt = Annotated[str | None, typer.Option("--label", help="True label column (binary).")]
PredictionOpt = Annotated[
    str | None, typer.Option("--prediction", help="Predicted label column (binary).")
]
PosLabelOpt = Annotated[
    str | None, typer.Option("--pos-label", help="Label value counted as positive.")
]
ScoreOpt = Annotated[str | None, typer.Option("--score", help="Model score column.")]
ThresholdOpt = Annotated[
    float | None, typer.Option("--threshold", help="Predict positive when score >= threshold.")
]
SensitiveOpt = Annotated[
    list[str] | None,
    typer.Option("--sensitive", help="Sensitive feature column; repeat for intersections."),
]
ReferenceOpt = Annotated[
    list[str] | None,
    typer.Option("--reference", help="Reference group, FEATURE=GROUP (default: largest)."),
]
ModelOpt = Annotated[
    Path | None, typer.Option("--model", help="Model artifact file to fingerprint.")
]
ModelNameOpt = Annotated[str | None, typer.Option("--model-name", help="Model name.")]
ModelVersionOpt = Annotated[str | None, typer.Option("--model-version", help="Model version.")]
MissingAsGroupOpt = Annotated[
    bool | None,
    typer.Option(
        "--missing-as-group", help="A missing sensitive value is its own group.", show_default=False
    ),
]
DropMissingOpt = Annotated[
    bool | None,
    typer.Option(
        "--drop-missing",
        help="Drop rows missing label/prediction (reports count).",
        show_default=False,
    ),
]
NoDefaultNaOpt = Annotated[
    bool | None,
    typer.Option(
        "--no-default-na",
        help='Only empty CSV cells are missing; "NA", "N/A", "null", "NaN" ... are values '
        "(a group may be named NA).",
        show_default=False,
    ),
]
MaxGroupsOpt = Annotated[
    int | None, typer.Option("--max-groups", help="Max groups per feature (default 1000).")
]
TaskOpt = Annotated[
    str | None,
    typer.Option(
        "--task",
        help="binary_classification (default), regression or multiclass_classification.",
        show_default=False,
    ),
]
MinGroupSizeOpt = Annotated[
    int | None,
    typer.Option(
        "--min-group-size",
        help="Smaller groups are 'insufficient data' and left out "
        "of disparities and summaries (default 30).",
        show_default=False,
    ),
]
CiOpt = Annotated[
    float | None,
    typer.Option(
        "--ci", help="Confidence level of intervals (default 0.95; 0 for none).", show_default=False
    ),
]
BootstrapOpt = Annotated[
    int | None,
    typer.Option(
        "--bootstrap",
        help="Bootstrap resamples for intervals on every metric, "
        "disparity and summary (default 0: Wilson intervals on per-group rates).",
        show_default=False,
    ),
]
SeedOpt = Annotated[
    int | None, typer.Option("--seed", help="Bootstrap seed (default: drawn and recorded).")
]
ThresholdsOpt = Annotated[
    str | None,
    typer.Option(
        "--thresholds",
        help="Thresholds of the per-group sweep over --score, comma-separated "
        "(default 0.1,0.2,...,0.9).",
        show_default=False,
    ),
]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="Where rows are counted: arrow (default), duckdb (files, directories, globs, "
        "hive-partitioned Parquet) or spark.",
        show_default=False,
    ),
]
SparkMasterOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="Spark master URL for --engine spark (default local[*], or $SPARK_REMOTE).",
        show_default=False,
    ),
]
TableOpt = Annotated[
    str | None,
    typer.Option(
        "--table", help="A Spark catalog table to audit (--engine spark).", show_default=False
    ),
]
WeightOpt = Annotated[
    str | None,
    typer.Option(
        "--weight",
        help="Sample-weight column (fairlearn's sample_weight): counts and rates are weighted; "
        "no intervals or significance tests.",
        show_default=False,
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Config file (default: ./bias-ledger.toml or [tool.bias-ledger] in ./pyproject.toml).",
        show_default=False,
    ),
]


@dataclass(frozen=True)
class InputOptions:
    """The raw values of the shared input options."""

    data: Path | None
    predictions: Path | None
    id_column: str | None
    join: str | None
    label: str | None
    prediction: str | None
    pos_label: str | None
    score: str | None
    threshold: float | None
    sensitive: Sequence[str]
    reference: Sequence[str]
    model: Path | None
    model_name: str | None
    model_version: str | None
    missing_as_group: bool | None
    drop_missing: bool | None
    max_groups: int | None
    config: Path | None
    task: str | None = None
    min_group_size: int | None = None
    ci: float | None = None
    bootstrap: int | None = None
    seed: int | None = None
    thresholds: str | None = None
    no_default_na: bool | None = None
    engine: str | None = None
    spark_master: str | None = None
    table: str | None = None
    weight: str | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> InputOptions:
        """From a command's parsed parameters (``ctx.params``) named as these fields; DATA may
        come as the argument or as ``--data`` (``data_file``)."""
        names = {field.name for field in fields(cls)}
        values = {name: params[name] for name in names if name in params}
        values["data"] = pick_data(params.get("data"), once("--data", params.get("data_file")))
        values["predictions"] = once("--predictions", params.get("predictions"))
        values["sensitive"] = params.get("sensitive") or []
        values["reference"] = params.get("reference") or []
        return cls(**values)


def once(option: str, values: Sequence[Path] | Path | None) -> Path | None:
    """The one file an option names; InputError when it is repeated (typer keeps the last)."""
    if values is None or isinstance(values, Path):
        return values
    if len(values) > 1:
        given = " ".join(f"{option} {value}" for value in values)
        raise InputError(f"{option} is given {len(values)} times ({given}); give it once")
    return values[0] if values else None


def pick_data(argument: Path | None, option: Path | None) -> Path | None:
    """DATA may be given as the argument or as --data, not both."""
    if argument is not None and option is not None and argument != option:
        raise InputError(f"two datasets given: DATA {argument} and --data {option}; give one")
    return argument or option


def parse_references(values: Sequence[str]) -> dict[str, str]:
    references: dict[str, str] = {}
    for value in values:
        feature, sep, group = value.partition("=")
        if not sep or not feature or not group:
            raise InputError(f"--reference {value!r}: expected FEATURE=GROUP")
        references[feature] = group
    return references


def build_request(options: InputOptions) -> tuple[AuditRequest, Path | None]:
    """The AuditRequest, and the policy file named in the config (if any)."""
    from bias_ledger._audit_model import DEFAULT_MIN_GROUP_SIZE, DEFAULT_THRESHOLDS, AuditRequest
    from bias_ledger.io.config import load_config
    from bias_ledger.metrics.model import Task

    if options.join not in (None, "id", "row-order"):
        raise InputError(f"--join {options.join!r}: expected 'id' or 'row-order'")
    tasks = [task.value for task in Task]
    if options.task is not None and options.task not in tasks:
        raise InputError(f"--task {options.task!r}: expected one of {', '.join(tasks)}")
    config = load_config(options.config, cwd=Path.cwd()).with_options(
        data=options.data,
        predictions=options.predictions,
        id=options.id_column,
        join=options.join,
        label=options.label,
        prediction=options.prediction,
        pos_label=options.pos_label,
        score=options.score,
        threshold=options.threshold,
        sensitive=tuple(options.sensitive),
        reference=parse_references(options.reference),
        model=options.model,
        model_name=options.model_name,
        model_version=options.model_version,
        missing_as_group=options.missing_as_group,
        drop_missing=options.drop_missing,
        max_groups=options.max_groups,
        default_na=False if options.no_default_na else None,
        task=options.task,
        min_group_size=options.min_group_size,
        weight=options.weight,
    )
    if config.data is None and options.table is None:
        raise InputError(
            "no dataset given: expected a DATA argument, `data` in bias-ledger.toml, or "
            "--table NAME with --engine spark"
        )
    task = config.task or Task.BINARY_CLASSIFICATION
    if task is not Task.BINARY_CLASSIFICATION:
        # Intervals exist for binary classification only: refuse rather than record options
        # that changed nothing.
        given = [
            name
            for name, value in (
                ("--ci", options.ci not in (None, 0)),
                ("--bootstrap", bool(options.bootstrap)),
                ("--seed", options.seed is not None),
                ("--thresholds", options.thresholds is not None),
            )
            if value
        ]
        if given:
            raise InputError(
                f"{given[0]} applies to binary classification; a {task.value} audit has no "
                "confidence intervals or threshold sweep (leave it out)"
            )
    ci_level = None if options.ci == 0 else (0.95 if options.ci is None else options.ci)
    if config.weight is not None and options.ci is None:
        ci_level = None  # a weighted audit has no intervals; an explicit --ci is refused
    request = AuditRequest(
        data=config.data if config.data is not None else Path(f"table:{options.table}"),
        mapping=config.column_mapping(),
        predictions=config.predictions,
        references=dict(config.reference),
        model=config.model,
        model_name=config.model_name,
        model_version=config.model_version,
        min_group_size=(
            DEFAULT_MIN_GROUP_SIZE if config.min_group_size is None else config.min_group_size
        ),
        ci_level=ci_level if task is Task.BINARY_CLASSIFICATION else None,
        bootstrap=options.bootstrap or 0,
        seed=options.seed,
        thresholds=(
            parse_thresholds(options.thresholds) if options.thresholds else DEFAULT_THRESHOLDS
        ),
        engine=options.engine or "arrow",
        spark_master=options.spark_master,
        table=options.table,
    )
    return request, config.policy


def parse_thresholds(text: str) -> tuple[float, ...]:
    """``--thresholds 0.2,0.5,0.8`` as numbers (their checks are the core's)."""
    values = []
    for item in text.split(","):
        try:
            values.append(float(item))
        except ValueError:
            raise InputError(
                f"--thresholds {text!r}: expected numbers separated by commas, got {item!r}"
            ) from None
    return tuple(values)
