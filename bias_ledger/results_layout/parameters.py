"""Results schema 4: the parameters, and an LL144 audit's tables, hold each value once too.

``statistics.intervals`` holds the confidence level, the bootstrap's resamples and its seed, so
the parameters leave out ``ci_level``, ``bootstrap`` and ``seed`` when it is an object (an
audit without intervals keeps them in its parameters). An LL144 audit's ``parameters`` hold its
options once: ``standard`` is the payload's, ``tool_type`` its tables', and the tables leave out
``rate`` (named by the tool type), ``min_group_size``, ``ci_level`` and each rate interval's
level and method (Wilson); with a label, ``metric_parameters`` leave out the columns and
options its ``parameters`` hold. Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bias_ledger.results_layout.fields import Json, drop, put

LL144_SHARED = ("label", "prediction", "score", "pos_label", "id_column", "join")
"""Options an LL144 audit's ``parameters`` hold for its label metrics' ``metric_parameters``
too (``min_group_size``, ``ci_level`` and ``sensitive`` are derived as well)."""

RATES = {"selection": "selection_rate", "scoring": "scoring_rate"}
"""The rate an LL144 table reports, by tool type."""


@dataclass(frozen=True)
class Slot:
    """One value a schema-4 payload derives: where it goes, and what it is derived from."""

    holder: Json
    name: str
    """The holder's JSON path, for messages."""
    key: str
    value: Callable[[], Any]
    """Read when the slot is filled or emptied: from what the payload holds at that step."""
    source: str
    """Where the payload holds it, for messages."""


def interval_parameters(statistics: Any) -> Json | None:
    """The parameters ``statistics.intervals`` holds (None when it is not an object)."""
    intervals = statistics.get("intervals") if isinstance(statistics, Mapping) else None
    if not isinstance(intervals, Mapping):
        return None
    boot = "resamples" in intervals
    return {
        "ci_level": intervals.get("level"),
        "bootstrap": intervals["resamples"] if boot else 0,
        "seed": intervals.get("seed") if boot else None,
    }


def _ll144_slots(document: Json, parameters: Json, metric: Json) -> list[Slot]:
    tables = document["nyc_ll144"]

    def held(key: str) -> Callable[[], Any]:
        return lambda: parameters[key]

    found: list[Slot] = []
    if metric is not parameters:
        found += [
            Slot(metric, "metric_parameters", key, held(key), f"parameters.{key}")
            for key in (*LL144_SHARED, "min_group_size", "ci_level")
        ]
        both = lambda: [parameters["sex"], parameters["race_ethnicity"]]  # noqa: E731
        columns = "parameters.sex and parameters.race_ethnicity"
        found.append(Slot(metric, "metric_parameters", "sensitive", both, columns))

    def tool_type() -> Any:
        return tables["tool_type"]

    found += [
        Slot(parameters, "parameters", "standard", lambda: document["standard"], "standard"),
        Slot(parameters, "parameters", "tool_type", tool_type, "nyc_ll144.tool_type"),
        Slot(tables, "nyc_ll144", "rate", lambda: RATES[tool_type()], "nyc_ll144.tool_type"),
    ]
    found += [
        Slot(tables, "nyc_ll144", key, held(key), f"parameters.{key}")
        for key in ("min_group_size", "ci_level")
    ]
    for at, table in enumerate(tables["tables"]):
        for row_at, row in enumerate(table["rows"]):
            interval = row["rate"].get("interval")
            if isinstance(interval, dict):
                place = f"nyc_ll144.tables[{at}].rows[{row_at}].rate.interval"
                found.append(Slot(interval, place, "level", held("ci_level"), "parameters"))
                wilson = lambda: "wilson"  # noqa: E731
                found.append(Slot(interval, place, "method", wilson, "the LL144 method"))
    return found


def slots(document: Json) -> list[Slot]:
    """Every value schema 4 derives, in the order they are put back (left out in reverse):
    each slot reads only what the payload holds or what an earlier slot put back."""
    parameters = document["parameters"]
    given = document.get("metric_parameters")
    metric = given if isinstance(given, dict) else parameters
    named = "metric_parameters" if metric is not parameters else "parameters"
    found: list[Slot] = []
    shared = interval_parameters(document.get("statistics"))
    if shared is not None:
        where = "statistics.intervals"
        found.append(Slot(parameters, "parameters", "ci_level", lambda: shared["ci_level"], where))
        found.append(Slot(metric, named, "bootstrap", lambda: shared["bootstrap"], where))
        found.append(Slot(metric, named, "seed", lambda: shared["seed"], where))
    if document.get("standard") == "nyc-ll144":
        found += _ll144_slots(document, parameters, metric)
    return found


def compact_parameters(payload: Json) -> None:
    """Leave out of ``payload`` (changed in place) every value schema 4 derives; LayoutError
    when one is not the value it would be derived as."""
    for slot in reversed(slots(payload)):
        drop(slot.holder, slot.key, slot.value(), f"{slot.name} (derived from {slot.source})")


def expand_parameters(document: Json) -> None:
    """Put back into ``document`` (a schema-4 payload, changed in place) every value schema 4
    derives; LayoutError when the payload holds one of them itself."""
    for slot in slots(document):
        put(slot.holder, slot.key, slot.value(), f"{slot.name}.{slot.key}", slot.source)
