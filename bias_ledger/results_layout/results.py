"""Results schema 3: each value of ``results`` and ``statistics`` held once.

What the self-describing layout of schemas 1 and 2 repeats (each interval's level and method,
``results.task``, group labels beside every comparison, impact ratios' selection rates, the
counts behind each significance test, each score sweep's thresholds) is derived from the one
place that holds it. Standard library only.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from bias_ledger.results_layout.fields import Json, LayoutError, drop


def _task(payload: Mapping[str, Any]) -> str:
    # LL144 audits record the metric audit's parameters beside their own.
    parameters = payload.get("metric_parameters") or payload.get("parameters") or {}
    return str(parameters.get("task") or "binary_classification")


def _interval_method(statistics: Any) -> tuple[Any, str] | None:
    """Every interval's (level, method), held once in ``statistics.intervals``."""
    intervals = statistics.get("intervals") if isinstance(statistics, Mapping) else None
    if not isinstance(intervals, Mapping):
        return None
    method = "bootstrap" if "resamples" in intervals else intervals.get("method")
    return intervals.get("level"), str(method)


def _intervals(node: Any, visit: Callable[[Json], None]) -> None:
    """Call ``visit`` on every ``interval`` object below ``node``."""
    if isinstance(node, dict):
        for key, item in node.items():
            if key == "interval" and isinstance(item, dict):
                visit(item)
            else:
                _intervals(item, visit)
    elif isinstance(node, list):
        for item in node:
            _intervals(item, visit)


def _labels(feature: Mapping[str, Any]) -> list[Any]:
    return [group["group"] for group in feature["groups"]]


def _impact_pairs(feature: Mapping[str, Any]) -> list[tuple[Json, Json]]:
    """Each impact ratio with its group (regression results have none)."""
    if "impact_ratios" not in feature:
        return []
    return list(zip(feature["impact_ratios"], feature["groups"], strict=True))


def _compact_feature(feature: Json) -> None:
    labels = _labels(feature)
    for disparity in feature.get("disparities", ()):
        for item, label in zip(disparity["to_reference"], labels, strict=True):
            drop(item, "group", label, f"disparity {disparity['metric']}")
    for item, group in _impact_pairs(feature):
        drop(item, "group", group["group"], "impact ratio")
        drop(item, "selection_rate", group["metrics"]["selection_rate"], "impact ratio")
        drop(item, "sufficient", group["sufficient"], "impact ratio")


def _expand_feature(feature: Json) -> None:
    labels = _labels(feature)
    for disparity in feature.get("disparities", ()):
        for item, label in zip(disparity["to_reference"], labels, strict=True):
            item["group"] = label
    for item, group in _impact_pairs(feature):
        item["group"] = group["group"]
        if "selection_rate" in group["metrics"]:  # else a recorded one is reported missing
            item["selection_rate"] = copy.deepcopy(group["metrics"]["selection_rate"])
        item["sufficient"] = group["sufficient"]


def _each_results(results: Json, task: str) -> list[Json]:
    """The binary or regression results objects of a results document (per class too)."""
    if task == "multiclass_classification":
        return [item["results"] for item in results.get("per_class", ())]
    return [results]


def _significance_facts(feature: Mapping[str, Any]) -> tuple[Json, list[Json]]:
    reference = next(g for g in feature["groups"] if g["group"] == feature["reference"])

    def counted(group: Mapping[str, Any]) -> tuple[Any, Any]:
        cells = group["counts"]
        total = sum(cells[key] for key in sorted(cells))
        return cells["true_positives"] + cells["false_positives"], total

    selected, count = counted(reference)
    entry = {
        "features": feature["features"],
        "reference": feature["reference"],
        "reference_selected": selected,
        "reference_count": count,
    }
    tests = []
    for group in feature["groups"]:
        if group["group"] != feature["reference"]:
            chosen, total = counted(group)
            tests.append({"group": group["group"], "selected": chosen, "count": total})
    return entry, tests


def _significance(statistics: Json, results: Json, *, compact: bool) -> None:
    entries = statistics.get("significance")
    if not isinstance(entries, list):
        return
    for entry, feature in zip(entries, results["features"], strict=True):
        facts, tests = _significance_facts(feature)
        for key, value in facts.items():
            if compact:
                drop(entry, key, value, "significance")
            else:
                entry[key] = copy.deepcopy(value)
        for test, derived in zip(entry["tests"], tests, strict=True):
            for key, value in derived.items():
                if compact:
                    drop(test, key, value, "significance test")
                else:
                    test[key] = copy.deepcopy(value)


def _sweeps(statistics: Json, thresholds: Any, *, compact: bool) -> None:
    scores = statistics.get("scores")
    if not isinstance(scores, dict):
        return
    groups = [scores["overall"], *(g for f in scores.get("features", ()) for g in f["groups"])]
    for group in groups:
        sweep = group.get("sweep")
        if isinstance(sweep, dict):
            if compact:
                drop(sweep, "thresholds", thresholds, "score sweep")
            else:
                sweep["thresholds"] = list(thresholds)


def compact_results(payload: Json) -> None:
    """Leave out of ``payload`` (the self-describing document, changed in place) what
    schema 3 derives; LayoutError if a value it leaves out is not the one it is derived from."""
    results, statistics = payload.get("results"), payload.get("statistics")
    if not isinstance(results, dict):
        return  # an LL144 audit without a label: its tables only
    task = _task(payload)
    for part in _each_results(results, task):
        part.pop("task", None)
        for feature in part["features"]:
            _compact_feature(feature)
    results.pop("task", None)
    if task == "multiclass_classification":
        parameters = payload.get("metric_parameters") or payload["parameters"]
        drop(results, "classes", parameters["classes"], "multiclass results")
    if isinstance(statistics, dict):
        if statistics.get("significance") is not None:
            _significance(statistics, results, compact=True)
        _sweeps(statistics, _thresholds(payload), compact=True)
    shared = _interval_method(statistics)

    def strip(interval: Json) -> None:
        if shared is None:
            raise LayoutError("an interval, but statistics.intervals names no level or method")
        drop(interval, "level", shared[0], "interval")
        drop(interval, "method", shared[1], "interval")

    _intervals(results, strip)
    _intervals(statistics, strip)


def _thresholds(payload: Mapping[str, Any]) -> Any:
    parameters = payload.get("metric_parameters") or payload.get("parameters") or {}
    return parameters.get("thresholds")


def expand_results(document: Json) -> None:
    """Put back into ``document`` (a schema-3 or later payload, changed in place) every value
    of its results and statistics that schema 3 derives. Its parameters must be whole (the
    multiclass classes and score thresholds are read from them)."""
    results, statistics = document.get("results"), document.get("statistics")
    if not isinstance(results, dict):
        return
    task = _task(document)
    shared = _interval_method(statistics)

    def add(interval: Json) -> None:
        if shared is not None:
            interval["level"], interval["method"] = shared

    _intervals(results, add)
    _intervals(statistics, add)
    for part in _each_results(results, task):
        for feature in part["features"]:
            _expand_feature(feature)
        if task == "multiclass_classification":
            part["task"] = "binary_classification"
    if isinstance(statistics, dict):
        _significance(statistics, results, compact=False)
        _sweeps(statistics, _thresholds(document), compact=False)
    if task == "multiclass_classification":
        parameters = document.get("metric_parameters") or document["parameters"]
        results["classes"] = list(parameters["classes"])
    document["results"] = {"task": task, **results}
