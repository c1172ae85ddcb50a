"""pandas views of audit results for notebooks: per-group tables shaped like fairlearn's.

:func:`by_group` gives the table fairlearn's ``MetricFrame(...).by_group`` gives for the same
metrics: one row per group (indexed by the feature's name, a MultiIndex for an intersection),
one column per metric. An undefined value is ``pd.NA`` (the column dtype is pandas' nullable
``Float64``), never a silent 0 or NaN: :func:`undefined` says why each one is undefined.
pandas is imported only when a view is asked for.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from bias_ledger.errors import InputError
from bias_ledger.metrics import registry
from bias_ledger.metrics.model import MetricResults, Value

if TYPE_CHECKING:
    import pandas as pd

    from bias_ledger._audit_model import AnyResults, AuditResult

SUMMARY_ROWS_IN_HTML = 12
"""Summaries shown per feature in a notebook's inline view (the rest: ``summaries()``)."""


def _binary_view(results: AnyResults, positive_class: str | None) -> Any:
    from bias_ledger.metrics.multiclass_results import MulticlassResults

    if isinstance(results, MulticlassResults):
        if positive_class is None:
            raise InputError(
                "a multiclass audit has one table per class; expected "
                f"positive_class= one of {', '.join(results.classes)}"
            )
        return results.for_class(positive_class)
    if positive_class is not None:
        raise InputError(f"positive_class applies to multiclass audits, not {results.task.value}")
    return results


def _feature(results: Any, feature: str | Sequence[str] | None) -> Any:
    features = results.features
    if feature is None:
        return features[-1]
    names = (feature,) if isinstance(feature, str) else tuple(feature)
    for item in features:
        if item.features == names:
            return item
    known = "; ".join(repr(" x ".join(item.features)) for item in features)
    raise InputError(f"no results for sensitive feature {' x '.join(names)!r}; known: {known}")


def _number(value: Value) -> Any:
    import pandas as pd

    return value.value if value.value is not None else pd.NA


def _groups_frame(feature: Any, metrics: Sequence[str] | None) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for group in feature.groups:
        values = dict(group.metrics)
        wanted = list(values) if metrics is None else list(metrics)
        unknown = [name for name in wanted if name not in values]
        if unknown:
            raise InputError(f"no metric {unknown[0]!r}; known: {', '.join(values)}")
        rows.append({name: _number(values[name]) for name in wanted})
    names = list(feature.features)
    if len(names) == 1:
        index: Any = pd.Index([group.group[0] for group in feature.groups], name=names[0])
    else:
        index = pd.MultiIndex.from_tuples([group.group for group in feature.groups], names=names)
    frame = pd.DataFrame(rows, index=index)
    counts = {item.key for item in (*registry.BINARY, *registry.REGRESSION) if item.is_count}
    for name in frame.columns:
        if name in counts:
            frame[name] = frame[name].astype("Int64")
        else:
            frame[name] = frame[name].astype("Float64")
    return frame


def by_group(
    result: AuditResult,
    feature: str | Sequence[str] | None = None,
    *,
    metrics: Sequence[str] | None = None,
    positive_class: str | None = None,
) -> pd.DataFrame:
    """One row per group of ``feature`` (default: the intersection of every sensitive feature,
    as ``MetricFrame`` with all of them), one column per metric (default: every one)."""
    results = _binary_view(result.results, positive_class)
    return _groups_frame(_feature(results, feature), metrics)


def summaries(result: AuditResult, *, positive_class: str | None = None) -> pd.DataFrame:
    """fairlearn's summary metrics (and, for regression, each disparity) per feature."""
    import pandas as pd

    from bias_ledger.metrics.multiclass_results import MulticlassResults
    from bias_ledger.metrics.regression_results import RegressionResults

    results = result.results
    rows: dict[str, dict[str, Any]] = {}
    if isinstance(results, RegressionResults):
        for feature in results.features:
            rows[feature.name] = {
                f"{item.metric}_difference": _number(item.between_groups_difference)
                for item in feature.disparities
            }
    elif isinstance(results, MulticlassResults) and positive_class is None:
        for macro in results.macro:
            rows[" x ".join(macro.features)] = {
                name: _number(value) for name, value in macro.summaries.items()
            }
    else:
        binary = _binary_view(results, positive_class)
        for feature in binary.features:
            rows[feature.name] = {name: _number(value) for name, value in feature.summaries.items()}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "feature"
    return frame.astype("Float64")


def undefined(result: AuditResult, feature: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Why each undefined per-group value of :func:`by_group` is undefined."""
    import pandas as pd

    from bias_ledger.metrics.multiclass_results import MulticlassResults

    results = result.results
    if isinstance(results, MulticlassResults):
        results = results.per_class[0].results
    chosen = _feature(results, feature)
    rows = [
        {"group": group.label, "metric": name, "reason": value.reason}
        for group in chosen.groups
        for name, value in group.metrics.items()
        if value.value is None
    ]
    return pd.DataFrame(rows, columns=["group", "metric", "reason"])


def _format(value: Value) -> str:
    if value.value is None:
        return "undefined"
    return f"{value.value:.4g}"


def _summary_lines(result: AuditResult) -> Iterable[tuple[str, str, str]]:
    from bias_ledger.metrics.multiclass_results import MulticlassResults
    from bias_ledger.metrics.regression_results import RegressionResults

    results = result.results
    if isinstance(results, MetricResults):
        for feature in results.features:
            for name, value in list(feature.summaries.items())[:SUMMARY_ROWS_IN_HTML]:
                yield feature.name, name, _format(value)
    elif isinstance(results, RegressionResults):
        for regression in results.features:
            for item in regression.disparities:
                yield (
                    regression.name,
                    f"{item.metric} difference",
                    _format(item.between_groups_difference),
                )
    elif isinstance(results, MulticlassResults):
        for macro in results.macro:
            for name, value in macro.summaries.items():
                yield " x ".join(macro.features), f"macro {name}", _format(value)


def short_repr(result: AuditResult) -> str:
    """One line: task, rows, features, and the demographic parity ratio where there is one."""
    from bias_ledger.metrics.multiclass_results import MulticlassResults

    results = result.results
    listed = (
        results.per_class[0].results.features
        if isinstance(results, MulticlassResults)
        else results.features
    )
    features = ", ".join(" x ".join(item.features) for item in listed)
    model = result.subject.model_name or "unnamed model"
    if result.subject.model_version:
        model += f" v{result.subject.model_version}"
    extra = ""
    if isinstance(results, MetricResults) and results.features:
        ratio = results.features[-1].summaries.get("demographic_parity_ratio")
        if ratio is not None:
            extra = f", demographic_parity_ratio={_format(ratio)} ({results.features[-1].name})"
    return (
        f"<AuditResult {results.task.value} of {model}: {result.rows} rows, "
        f"features [{features}]{extra}>"
    )


def result_html(result: AuditResult) -> str:
    """A small, escaped HTML summary for notebooks (no scripts, no styles from outside)."""
    escape = html.escape
    rows = "".join(
        f"<tr><td>{escape(feature)}</td><td>{escape(name)}</td><td>{escape(value)}</td></tr>"
        for feature, name, value in _summary_lines(result)
    )
    warnings = "".join(f"<li>{escape(line)}</li>" for line in result.warnings)
    return (
        f"<div><p><strong>{escape(short_repr(result))}</strong></p>"
        "<table><thead><tr><th>feature</th><th>summary</th><th>value</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        + (f"<p>Warnings:</p><ul>{warnings}</ul>" if warnings else "")
        + "<p>Per group: <code>result.by_group(feature)</code>.</p></div>"
    )
