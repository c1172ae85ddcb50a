"""The JSON Schema of the audit document (``audit --json``, and the ``audit`` record payload).

Built from the metric registry (every metric and summary key) and the input options
declaration (every recorded parameter), so it cannot fall behind either. It describes what this
version writes: each metrics object holds exactly the registry's keys. A reader of an older
record compares the values that record holds (see :mod:`bias_ledger.bundle.compare`): a key a
later version adds is never a difference. ``docs/results.schema.json`` is this schema, written
by ``python -m bias_ledger.results_schema`` (a test checks the file is current).
"""

from __future__ import annotations

import json
from typing import Any

from bias_ledger import input_options
from bias_ledger._audit_model import RESULTS_SCHEMA_VERSION
from bias_ledger.metrics import registry

SCHEMA_ID = "https://bias-ledger.dev/schemas/audit-results-v3.json"

Schema = dict[str, Any]


def _object(properties: Schema, *, closed: bool = True, optional: tuple[str, ...] = ()) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": not closed,
    }


def _array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


_STRINGS = _array({"type": "string"})
_NUMBER = {"type": "number"}
_COUNT = {"type": "integer", "minimum": 0}


def _value_defs() -> dict[str, Schema]:
    # Results schema 3: the level and method of every interval are statistics.intervals'.
    interval = _object({"low": _NUMBER, "high": _NUMBER})
    defined = _object({"value": _NUMBER, "interval": _ref("interval")}, optional=("interval",))
    undefined = _object({"value": {"type": "null"}, "reason": {"type": "string", "minLength": 1}})
    return {
        "interval": interval,
        "value": {
            "description": "A number, or null with the reason it is undefined (never NaN).",
            "oneOf": [defined, undefined],
        },
    }


def _metrics(metrics: tuple[registry.Metric, ...]) -> Schema:
    properties = {
        item.key: {**_ref("value"), "description": f"{item.name}; undefined: {item.undefined}"}
        for item in metrics
    }
    return _object(properties)


def _disparity(keys: tuple[str, ...]) -> Schema:
    # One per group, in the order of the feature's groups (which name them).
    comparison = _object({"difference": _ref("value"), "ratio": _ref("value")})
    return _object(
        {
            "metric": {"enum": list(keys)},
            "between_groups_difference": _ref("value"),
            "between_groups_ratio": _ref("value"),
            "to_overall_difference": _ref("value"),
            "to_overall_ratio": _ref("value"),
            "to_reference": _array(comparison),
            "excluded_groups": _array(_STRINGS),
        }
    )


def _binary_defs() -> dict[str, Schema]:
    # Numbers, not integers: weighted audits count weights (fairlearn's sample_weight).
    cell = {"type": "number", "minimum": 0}
    counts = _object(
        {
            "true_positives": cell,
            "false_positives": cell,
            "true_negatives": cell,
            "false_negatives": cell,
        }
    )
    group = _object(
        {
            "group": _STRINGS,
            "counts": counts,
            "metrics": _metrics(registry.BINARY),
            "sufficient": {"type": "boolean"},
        }
    )
    summaries = _object(
        {item.key: {**_ref("value"), "description": item.name} for item in registry.SUMMARIES}
    )
    # One per group, in group order: its selection rate and sufficiency are the group's.
    impact = _object(
        {"impact_ratio": _ref("value"), "below_four_fifths": {"type": ["boolean", "null"]}}
    )
    feature = _object(
        {
            "features": _STRINGS,
            "reference": _STRINGS,
            "groups": _array(_ref("binary_group")),
            "disparities": _array(_disparity(registry.binary_keys())),
            "summaries": _ref("binary_summaries"),
            "impact_ratios": _array(impact),
            "impact_ratio_denominator": {"oneOf": [_STRINGS, {"type": "null"}]},
        }
    )
    results = _object(
        {
            "overall": _ref("binary_group"),
            "features": _array(feature),
            "notes": _STRINGS,
        }
    )
    return {"binary_group": group, "binary_summaries": summaries, "binary_results": results}


def _other_defs() -> dict[str, Schema]:
    group = _object(
        {
            "group": _STRINGS,
            "count": _COUNT,
            "metrics": _metrics(registry.REGRESSION),
            "sufficient": {"type": "boolean"},
        }
    )
    feature = _object(
        {
            "features": _STRINGS,
            "reference": _STRINGS,
            "groups": _array(group),
            "disparities": _array(_disparity(registry.regression_keys())),
        }
    )
    regression = _object(
        {
            "overall": group,
            "features": _array(feature),
            "notes": _STRINGS,
        }
    )
    per_class = _object({"label": {"type": "string"}, "results": _ref("binary_results")})
    macro = _object({"features": _STRINGS, "summaries": _ref("binary_summaries")})
    multiclass = _object(
        {
            "per_class": _array(per_class),
            "macro": _array(macro),
            "notes": _STRINGS,
        }
    )
    return {"regression_results": regression, "multiclass_results": multiclass}


def _parameters() -> Schema:
    properties: Schema = {
        item.recorded: {"description": item.help}
        for item in input_options.OPTIONS
        if item.recorded is not None
    }
    properties.update(
        {key: {"description": text} for key, text in input_options.DERIVED_PARAMETERS.items()}
    )
    # `weight` is recorded only by weighted audits: unweighted records stay as they were.
    # The interval options are held by `statistics.intervals` when it is an object (schema 4).
    return _object(properties, optional=("weight", "ci_level", "bootstrap", "seed"))


def results_schema() -> Schema:
    """The JSON Schema (draft 2020-12) of the audit document this version writes."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "bias-ledger audit results",
        "type": "object",
        "properties": {
            "schema_version": {"const": RESULTS_SCHEMA_VERSION},
            "subject": {"type": "object"},
            "inputs": _array({"type": "object"}),
            "parameters": _parameters(),
            "data": _object({"rows": _COUNT, "dropped_rows": _COUNT}),
            "results": {
                "oneOf": [
                    _ref("binary_results"),
                    _ref("regression_results"),
                    _ref("multiclass_results"),
                ]
            },
            "statistics": {"type": ["object", "null"]},
            "warnings": _STRINGS,
        },
        "required": ["schema_version", "subject", "inputs", "parameters", "data", "results"],
        "$defs": {**_value_defs(), **_binary_defs(), **_other_defs()},
    }


def schema_text() -> str:
    """The schema as ``docs/results.schema.json`` holds it."""
    return json.dumps(results_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(schema_text(), end="")
