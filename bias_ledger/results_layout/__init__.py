"""The audit payload's layouts, and the one way to read any of them (docs/FORMAT.md section 8).

Results schemas 1 and 2 are self-describing: values are repeated where they are used. Schema 3
holds each value of ``results`` and ``statistics`` once (:mod:`.results`); schema 4 holds the
parameters, and an LL144 audit's tables, once too (:mod:`.parameters`). Writers build the
self-describing document and :func:`compacted` it; every reader goes through :func:`expanded`,
which returns any version's payload in the self-describing layout and refuses a schema newer
than this version knows. Standard library only (and the error types).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from bias_ledger._version import RESULTS_SCHEMA_VERSION, unknown_results_schema
from bias_ledger.errors import LedgerError, VerificationError
from bias_ledger.results_layout.fields import Json, LayoutError
from bias_ledger.results_layout.parameters import compact_parameters, expand_parameters
from bias_ledger.results_layout.results import compact_results, expand_results

__all__ = [
    "COMPACT_SCHEMA_VERSION",
    "PARAMETERS_SCHEMA_VERSION",
    "RESULTS_SCHEMA_VERSION",
    "Json",
    "LayoutError",
    "as_recorded",
    "compacted",
    "expanded",
    "readable",
    "schema_version",
]

COMPACT_SCHEMA_VERSION = 3
"""The first results schema that holds each value of results and statistics once."""
PARAMETERS_SCHEMA_VERSION = 4
"""The first whose parameters (and LL144 tables) hold nothing held elsewhere."""


def schema_version(payload: Mapping[str, Any]) -> int:
    """The payload's results schema (records before schema 2 said 1 or nothing)."""
    version = payload.get("schema_version", 1)
    return version if type(version) is int else 1


def compacted(document: Mapping[str, Any], version: int = RESULTS_SCHEMA_VERSION) -> Json:
    """The self-describing audit document (results schema 2 layout) in the layout of results
    schema ``version`` (the newest by default; before 3 it is returned as it is); LayoutError
    if a value it leaves out is not the one it would be derived from."""
    payload = copy.deepcopy(dict(document))
    if version < COMPACT_SCHEMA_VERSION:
        return payload
    payload["schema_version"] = version
    compact_results(payload)
    if version >= PARAMETERS_SCHEMA_VERSION:
        compact_parameters(payload)
    return payload


def expanded(payload: Mapping[str, Any], *, where: str = "audit payload") -> Json:
    """An audit payload of any results schema in the self-describing layout (schemas 1 and 2
    are returned as they are): what every reader of a record reads. LedgerError (exit 2)
    for a schema newer than this version knows; VerificationError when a payload lacks what
    its values are derived from, or holds one of them twice (a malformed record)."""
    refused = unknown_results_schema(payload, where)
    if refused is not None:
        raise LedgerError(refused)
    version = schema_version(payload)
    if version < COMPACT_SCHEMA_VERSION:
        return dict(payload)
    document = copy.deepcopy(dict(payload))
    try:
        if version >= PARAMETERS_SCHEMA_VERSION:
            expand_parameters(document)
            _sorted(document)
        expand_results(document)
    except (KeyError, TypeError, ValueError, AttributeError, StopIteration) as exc:
        raise VerificationError(
            f"{where} of results schema {version}: cannot derive its values "
            f"({type(exc).__name__}: {exc})"
        ) from None
    return document


def _sorted(document: Json) -> None:
    """Keys in canonical order, as a stored record has them (``show`` lists parameters)."""
    for key in ("parameters", "metric_parameters", "nyc_ll144"):
        if isinstance(document.get(key), dict):
            document[key] = dict(sorted(document[key].items()))


def as_recorded(fresh: Mapping[str, Any], recorded: Mapping[str, Any]) -> Json:
    """A freshly computed payload (this version's layout) in the layout of ``recorded``, so a
    recomputation compares exactly the values the record holds, where it holds them."""
    version = schema_version(recorded)
    if version == schema_version(fresh):
        return dict(fresh)
    return compacted(expanded(fresh), version)


def readable(record: Mapping[str, Any]) -> Json:
    """A record as readers see it: an audit payload in the self-describing layout."""
    payload = record.get("audit")
    if record.get("kind") != "audit" or not isinstance(payload, Mapping):
        return dict(record)
    return {**record, "audit": expanded(payload, where=f"record {record.get('index')}")}
