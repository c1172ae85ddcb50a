"""An NYC LL144 bias audit end to end: read the columns, compute the tables, build the record.

The record payload is an ``audit`` payload marked ``"standard": "nyc-ll144"``: the tables under
``nyc_ll144``, the declared facts under ``declaration``; with a label, the usual metrics too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bias_ledger._audit_model import RESULTS_SCHEMA_VERSION, AuditResult, Subject
from bias_ledger.errors import InputError
from bias_ledger.io.model import InputFile
from bias_ledger.results_layout import compacted
from bias_ledger.standards import Standard
from bias_ledger.standards.ll144 import ll144_results
from bias_ledger.standards.ll144_load import LL144Columns, load_ll144_data
from bias_ledger.standards.ll144_model import (
    Breakdown,
    DataSource,
    Declaration,
    Exclusion,
    LL144Results,
    ToolType,
)

_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_FINGERPRINT = re.compile(r"SHA256:[A-Za-z0-9+/]{43}")


@dataclass(frozen=True)
class LL144Request:
    """Everything an LL144 audit needs."""

    data: Path
    columns: LL144Columns
    declaration: Declaration
    predictions: Path | None = None
    exclusions: tuple[Exclusion, ...] = ()
    min_group_size: int = 30
    """Smaller categories are flagged (never dropped: only an exclusion removes one)."""
    ci_level: float | None = 0.95
    model: Path | None = None
    model_name: str | None = None
    model_version: str | None = None
    label: str | None = None
    """When given, the usual fairness metrics are computed and recorded too."""
    threshold: float | None = None


@dataclass(frozen=True)
class LL144Audit:
    """The outcome: the tables, what was read, and (with a label) the usual results."""

    request: LL144Request
    subject: Subject
    inputs: tuple[InputFile, ...]
    rows: int
    results: LL144Results
    metrics: AuditResult | None = None
    warnings: tuple[str, ...] = field(default=())

    def parameters(self) -> dict[str, Any]:
        columns = self.request.columns
        return {
            "standard": Standard.NYC_LL144.value,
            "tool_type": self.results.tool_type.value,
            "prediction": columns.prediction,
            "score": columns.score,
            "pos_label": columns.pos_label,
            "sex": columns.sex,
            "race_ethnicity": columns.race_ethnicity,
            "unknown_values": list(columns.unknown_values),
            "id_column": columns.id_column,
            "join": columns.join.value if columns.join else None,
            "label": self.request.label,
            "min_group_size": self.request.min_group_size,
            "ci_level": self.request.ci_level,
        }

    def to_json(self) -> dict[str, Any]:
        """The record payload (the ``audit`` object of the ledger record): each value held
        once (results schema 4, docs/FORMAT.md section 8)."""
        return compacted(self.document())

    def document(self) -> dict[str, Any]:
        """The payload in the self-describing layout, as
        :func:`bias_ledger.results_layout.expanded` reads any LL144 record."""
        roles = ("data", "predictions")
        payload: dict[str, Any] = {
            "schema_version": RESULTS_SCHEMA_VERSION,
            "standard": Standard.NYC_LL144.value,
            "subject": self.subject.to_json(),
            "inputs": [
                {
                    "role": role,
                    "name": item.name,
                    "format": item.format.value,
                    "size": item.size,
                    "blake3": item.blake3,
                    "rows": item.rows,
                    **({"sha256": item.sha256} if item.sha256 is not None else {}),
                }
                for role, item in zip(roles, self.inputs, strict=False)
            ],
            "parameters": self.parameters(),
            "data": {"rows": self.rows, "dropped_rows": 0},
            "declaration": self.request.declaration.to_json(),
            "nyc_ll144": self.results.to_json(),
            "warnings": list(self.warnings),
        }
        if self.metrics is not None:
            extra = self.metrics.document()
            payload["results"] = extra["results"]
            payload["statistics"] = extra["statistics"]
            payload["metric_parameters"] = extra["parameters"]
        return payload


def check_date(value: str, option: str) -> str:
    """``value`` when it is a real YYYY-MM-DD date; InputError otherwise."""
    try:
        if not _DATE.fullmatch(value):
            raise ValueError
        date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {value!r}: expected a date YYYY-MM-DD") from None
    return value


def build_declaration(
    *,
    data_source: str | None,
    data_description: str | None,
    test_data_reason: str | None,
    audit_date: str | None,
    distribution_date: str | None,
    auditor: str | None,
    auditor_key: str | None,
    today: date,
) -> Declaration:
    """The declared facts, each checked; InputError naming the missing or bad one."""
    missing = [
        option
        for option, value in (
            ("--data-source historical|test", data_source),
            ("--data-description TEXT", data_description),
            ("--distribution-date YYYY-MM-DD", distribution_date),
            ("--auditor NAME", auditor),
        )
        if not value
    ]
    if missing:
        raise InputError(
            "--standard nyc-ll144 records the facts the published summary must state; missing "
            + ", ".join(missing)
        )
    assert data_source and data_description and distribution_date and auditor
    try:
        source = DataSource(data_source)
    except ValueError:
        raise InputError(
            f"--data-source {data_source!r}: expected 'historical' or 'test'"
        ) from None
    if source is DataSource.TEST and not test_data_reason:
        raise InputError(
            "--data-source test needs --test-data-reason TEXT: why historical data was not "
            "used and how the test data was made (6 RCNY § 5-302(b))"
        )
    if source is DataSource.HISTORICAL and test_data_reason:
        raise InputError("--test-data-reason applies to --data-source test only")
    if auditor_key is not None and not _FINGERPRINT.fullmatch(auditor_key):
        raise InputError(f"--auditor-key {auditor_key!r}: expected a SHA256:... key fingerprint")
    return Declaration(
        data_source=source,
        data_description=data_description,
        test_data_reason=test_data_reason,
        audit_date=check_date(audit_date or today.isoformat(), "--audit-date"),
        distribution_date=check_date(distribution_date, "--distribution-date"),
        auditor=auditor,
        auditor_key=auditor_key,
    )


def parse_exclusions(
    values: Sequence[str], justifications: Sequence[str], *, sex: str, race: str
) -> tuple[Exclusion, ...]:
    """``--exclude FEATURE=CATEGORY`` with ``--justification TEXT`` (one for all, or one each).

    FEATURE is ``sex``, ``race_ethnicity`` or ``intersectional`` (or the sex or race column's
    name); an intersectional CATEGORY is ``SEX/RACE``.
    """
    if not values:
        if justifications:
            raise InputError("--justification was given without --exclude FEATURE=CATEGORY")
        return ()
    if len(justifications) not in (1, len(values)):
        raise InputError(
            f"{len(values)} --exclude options need one --justification for all or one each; "
            f"got {len(justifications)}"
        )
    names = {"sex": Breakdown.SEX, sex: Breakdown.SEX, "race_ethnicity": Breakdown.RACE_ETHNICITY}
    names |= {race: Breakdown.RACE_ETHNICITY, "intersectional": Breakdown.INTERSECTIONAL}
    exclusions = []
    for position, value in enumerate(values):
        feature, sep, category = value.partition("=")
        if not sep or not category or feature not in names:
            raise InputError(
                f"--exclude {value!r}: expected FEATURE=CATEGORY with FEATURE one of sex, "
                "race_ethnicity, intersectional (CATEGORY SEX/RACE for the intersection)"
            )
        breakdown = names[feature]
        parts: tuple[str, ...] = (category,)
        if breakdown is Breakdown.INTERSECTIONAL:
            first, slash, second = category.partition("/")
            if not slash:
                raise InputError(f"--exclude {value!r}: an intersectional category is SEX/RACE")
            parts = (first, second)
        reason = justifications[0 if len(justifications) == 1 else position]
        exclusions.append(Exclusion(breakdown, parts, reason))
    return tuple(exclusions)


def run_ll144(request: LL144Request) -> LL144Audit:
    """Read the inputs and compute every LL144 table (and the usual metrics with a label)."""
    from bias_ledger._audit import model_artifact

    if request.min_group_size < 0:
        raise InputError(f"--min-group-size must be >= 0; got {request.min_group_size}")
    data = load_ll144_data(request.data, request.predictions, request.columns)
    tool_type = ToolType.SCORING if request.columns.score is not None else ToolType.SELECTION
    results = ll144_results(
        tool_type=tool_type,
        sex=data.sex,
        race=data.race,
        selected=data.selected,
        scores=data.scores,
        exclusions=request.exclusions,
        min_group_size=request.min_group_size,
        ci_level=request.ci_level,
    )
    warnings = tuple(
        f"{table.breakdown.value}: {table.unknown} individuals of unknown category, counted "
        "and left out of the rates and impact ratios"
        for table in results.tables
        if table.unknown
    )
    metrics = _label_metrics(request) if request.label is not None else None
    subject = Subject(request.model_name, request.model_version, model_artifact(request.model))
    return LL144Audit(request, subject, data.inputs, data.rows, results, metrics, warnings)


def _label_metrics(request: LL144Request) -> AuditResult:
    """With a label, the usual binary metrics over the same columns (unknowns as a group)."""
    from bias_ledger._audit import AuditRequest, run_audit
    from bias_ledger.io.model import ColumnMapping

    columns = request.columns
    assert request.label is not None
    mapping = ColumnMapping(
        label=request.label,
        prediction=columns.prediction,
        score=columns.score,
        threshold=request.threshold,
        pos_label=columns.pos_label,
        sensitive=(columns.sex, columns.race_ethnicity),
        id_column=columns.id_column,
        join=columns.join,
        missing_as_group=True,
        max_groups=columns.max_groups,
    )
    return run_audit(
        AuditRequest(
            data=request.data,
            mapping=mapping,
            predictions=request.predictions,
            min_group_size=request.min_group_size,
            ci_level=request.ci_level,
        )
    )
