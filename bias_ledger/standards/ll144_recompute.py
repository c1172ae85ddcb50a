"""Recompute a recorded LL144 audit from the same files (``verify BUNDLE --recompute``).

The declared facts (data source, dates, auditor) and the exclusions with their justifications
are inputs, taken from the record; every number is derived again from the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bias_ledger.io.model import JoinMode
from bias_ledger.ledger import canonical
from bias_ledger.results_layout import as_recorded, expanded
from bias_ledger.standards.ll144_audit import LL144Request, run_ll144
from bias_ledger.standards.ll144_load import LL144Columns
from bias_ledger.standards.ll144_model import Breakdown, DataSource, Declaration, Exclusion

COMPARED = ("parameters", "metric_parameters", "data", "nyc_ll144", "results", "statistics")
"""The parts of an LL144 audit payload that recomputation re-derives."""


def request_from_record(
    payload: Mapping[str, Any], *, data: Path, predictions: Path | None
) -> LL144Request:
    """The request that made ``payload``, reading ``data`` (and ``predictions``)."""
    payload = expanded(payload)  # any results schema, every parameter in its place
    parameters = payload["parameters"]
    # With a label and a score column, the metrics' threshold is recorded with them only.
    metric = payload.get("metric_parameters") or {}
    declared = payload["declaration"]
    join = parameters.get("join")
    columns = LL144Columns(
        sex=parameters["sex"],
        race_ethnicity=parameters["race_ethnicity"],
        prediction=parameters.get("prediction"),
        score=parameters.get("score"),
        pos_label=parameters.get("pos_label"),
        id_column=parameters.get("id_column"),
        join=JoinMode(join) if join else None,
        unknown_values=tuple(parameters.get("unknown_values") or ()),
    )
    declaration = Declaration(
        data_source=DataSource(declared["data_source"]),
        data_description=declared["data_description"],
        test_data_reason=declared.get("test_data_reason"),
        audit_date=declared["audit_date"],
        distribution_date=declared["distribution_date"],
        auditor=declared["auditor"],
        auditor_key=declared.get("auditor_key"),
    )
    exclusions = tuple(
        Exclusion(Breakdown(item["breakdown"]), tuple(item["category"]), item["justification"])
        for item in payload["nyc_ll144"].get("exclusions") or ()
    )
    return LL144Request(
        data=data,
        columns=columns,
        declaration=declaration,
        predictions=predictions,
        exclusions=exclusions,
        min_group_size=int(parameters["min_group_size"]),
        ci_level=parameters.get("ci_level"),
        label=parameters.get("label"),
        threshold=metric.get("threshold"),
    )


def recompute_ll144(
    payload: Mapping[str, Any], data: Path, predictions: Path | None
) -> dict[str, Any]:
    """The recomputed parts of ``payload`` (those in :data:`COMPARED` it has), canonical."""
    fresh = run_ll144(request_from_record(payload, data=data, predictions=predictions)).to_json()
    fresh = as_recorded(fresh, payload)  # compared where the record holds each value
    present = {key: fresh[key] for key in COMPARED if key in payload and key in fresh}
    return dict(canonical.decode(canonical.encode(present)))
