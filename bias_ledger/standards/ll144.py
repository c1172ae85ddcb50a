"""The calculations of an NYC LL144 bias audit (6 RCNY § 5-301), from per-row arrays.

The denominator rule is the rule's own: each impact ratio divides by the rate of the most
selected (highest scoring) category among the categories not excluded under the 2% rule; small
categories are flagged but never dropped; unknown categories are counted and left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.metrics.model import Value
from bias_ledger.metrics.significance import compare_selection
from bias_ledger.metrics.wilson import wilson_interval
from bias_ledger.standards.ll144_model import (
    EXCLUSION_LIMIT,
    FOUR_FIFTHS,
    Breakdown,
    BreakdownTable,
    CategoryRow,
    Exclusion,
    LL144Results,
    ToolType,
)

EXCLUDED_REASON = "excluded from impact ratios under the 2% rule (6 RCNY § 5-301(d))"


@dataclass(frozen=True, eq=False)
class CodedColumn:
    """A category column as codes into ``categories``; code -1 is an unknown category."""

    name: str
    codes: npt.NDArray[np.int64]
    categories: tuple[str, ...]


def positives_from_scores(scores: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.bool_], float]:
    """Who scores above the full sample's median (§ 5-300 "scoring rate"), and that median."""
    if scores.size == 0:
        raise InputError("no individuals to audit: the score column is empty")
    median = float(np.median(scores))
    return scores > median, median


def _row_rate(positives: int, applicants: int, ci_level: float | None) -> Value:
    interval = wilson_interval(positives, applicants, level=ci_level) if ci_level else None
    return Value(positives / applicants, interval=interval)


def _coded_breakdown(
    breakdown: Breakdown, sex: CodedColumn, race: CodedColumn
) -> tuple[npt.NDArray[np.int64], list[tuple[str, ...]], tuple[str, ...]]:
    """Per-row codes of the breakdown (-1 unknown), its category names, its columns."""
    if breakdown is Breakdown.SEX:
        return sex.codes, [(name,) for name in sex.categories], (sex.name,)
    if breakdown is Breakdown.RACE_ETHNICITY:
        return race.codes, [(name,) for name in race.categories], (race.name,)
    width = len(race.categories)
    known = (sex.codes >= 0) & (race.codes >= 0)
    codes: npt.NDArray[np.int64] = np.where(known, sex.codes * width + race.codes, -1)
    names: list[tuple[str, ...]] = [(s, r) for s in sex.categories for r in race.categories]
    return codes, names, (sex.name, race.name)


def _table(
    breakdown: Breakdown,
    codes: npt.NDArray[np.int64],
    names: Sequence[tuple[str, ...]],
    columns: tuple[str, ...],
    positives: npt.NDArray[np.bool_],
    *,
    excluded: set[tuple[str, ...]],
    min_group_size: int,
    ci_level: float | None,
) -> BreakdownTable:
    total = len(codes)
    known = codes >= 0
    applicants = np.bincount(codes[known], minlength=len(names))
    selected = np.bincount(codes[known], weights=positives[known], minlength=len(names))
    present = [i for i in range(len(names)) if applicants[i] > 0]
    counted = {i: (int(selected[i]), int(applicants[i])) for i in present}
    eligible = [i for i in present if names[i] not in excluded]
    top = max(eligible, key=lambda i: counted[i][0] / counted[i][1]) if eligible else None
    top_rate = counted[top][0] / counted[top][1] if top is not None else 0.0
    rows = []
    for i in present:
        hits, count = counted[i]
        rows.append(
            _category_row(
                names[i],
                hits,
                count,
                share=count / total,
                excluded=names[i] in excluded,
                top=None if top is None else counted[top],
                is_top=i == top,
                top_rate=top_rate,
                min_group_size=min_group_size,
                ci_level=ci_level,
            )
        )
    return BreakdownTable(
        breakdown=breakdown,
        columns=columns,
        rows=tuple(rows),
        unknown=int(total - known.sum()),
        denominator=names[top] if top is not None else None,
    )


def _category_row(
    category: tuple[str, ...],
    hits: int,
    count: int,
    *,
    share: float,
    excluded: bool,
    top: tuple[int, int] | None,
    is_top: bool,
    top_rate: float,
    min_group_size: int,
    ci_level: float | None,
) -> CategoryRow:
    rate = hits / count
    if excluded:
        ratio = Value(None, reason=EXCLUDED_REASON)
    elif top is None or top_rate == 0:
        ratio = Value(None, reason="0/0: no category in the impact ratios has a positive rate")
    else:
        ratio = Value(rate / top_rate)
    p_value, method = Value(None, reason="not tested: excluded under the 2% rule"), None
    if is_top:
        p_value = Value(None, reason="the denominator category itself")
    elif not excluded and top is not None:
        test, _, p_value, _ = compare_selection(hits, count, top[0], top[1])
        method = test.value
    return CategoryRow(
        category=category,
        applicants=count,
        positives=hits,
        rate=_row_rate(hits, count, ci_level),
        share=share,
        impact_ratio=ratio,
        excluded=excluded,
        small=count < min_group_size,
        below_four_fifths=None if ratio.value is None else ratio.value < FOUR_FIFTHS,
        p_value=p_value,
        test_method=method,
    )


def _check_exclusions(
    exclusions: Sequence[Exclusion], tables: Sequence[BreakdownTable], total: int
) -> None:
    for item in exclusions:
        table = next(t for t in tables if t.breakdown is item.breakdown)
        row = next((r for r in table.rows if r.category == item.category), None)
        shown = "/".join(item.category)
        if row is None:
            known = ", ".join("/".join(r.category) for r in table.rows)
            raise InputError(
                f"--exclude {item.breakdown.value}={shown}: no such category in the "
                f"{item.breakdown.value} breakdown; categories are {known}"
            )
        if row.applicants >= EXCLUSION_LIMIT * total:
            raise InputError(
                f"--exclude {item.breakdown.value}={shown}: the category holds {row.applicants} "
                f"of {total} individuals ({row.applicants / total:.2%}); only a category under "
                "2% of the data may be excluded (6 RCNY § 5-301(d))"
            )
        if not item.justification.strip():
            raise InputError(f"--exclude {item.breakdown.value}={shown}: needs a --justification")


def ll144_results(
    *,
    tool_type: ToolType,
    sex: CodedColumn,
    race: CodedColumn,
    selected: npt.NDArray[np.bool_] | None = None,
    scores: npt.NDArray[np.float64] | None = None,
    exclusions: Sequence[Exclusion] = (),
    min_group_size: int = 0,
    ci_level: float | None = 0.95,
) -> LL144Results:
    """The three tables of § 5-301 for a selection tool (``selected``) or a scoring tool."""
    median: float | None = None
    if tool_type is ToolType.SCORING:
        if scores is None:
            raise InputError("a scoring-type audit needs scores (--score COLUMN)")
        positives, median = positives_from_scores(scores)
    else:
        if selected is None:
            raise InputError("a selection-type audit needs selections (--prediction COLUMN)")
        positives = selected
    total = len(positives)
    if total == 0:
        raise InputError("no individuals to audit")
    if len(sex.codes) != total or len(race.codes) != total:
        raise InputError("the sex and race/ethnicity columns must have one value per individual")
    tables: list[BreakdownTable] = []
    for breakdown in Breakdown:
        codes, names, columns = _coded_breakdown(breakdown, sex, race)
        excluded = {e.category for e in exclusions if e.breakdown is breakdown}
        tables.append(
            _table(
                breakdown,
                codes,
                names,
                columns,
                positives,
                excluded=excluded,
                min_group_size=min_group_size,
                ci_level=ci_level,
            )
        )
    _check_exclusions(exclusions, tables, total)
    return LL144Results(
        tool_type=tool_type,
        applicants=total,
        median_score=median,
        tables=tuple(tables),
        exclusions=tuple(exclusions),
        min_group_size=min_group_size,
        ci_level=ci_level,
    )
