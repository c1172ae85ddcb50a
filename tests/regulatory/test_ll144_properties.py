"""LL144 tables against a naive reference computation on random data (hypothesis)."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bias_ledger.standards.ll144 import CodedColumn, ll144_results
from bias_ledger.standards.ll144_model import Breakdown, ToolType

SEXES = ("female", "male")
RACES = ("Asian", "Black", "White")

rows = st.lists(
    st.tuples(st.integers(-1, 1), st.integers(-1, 2), st.integers(0, 9)), min_size=1, max_size=60
)


def _reference(
    data: list[tuple[int, int, int]], scoring: bool
) -> dict[Breakdown, dict[tuple[str, ...], tuple[int, int]]]:
    """Per breakdown and category: (individuals, positives), counted one row at a time."""
    scores = sorted(score for _, _, score in data)
    middle = len(scores) // 2
    median = scores[middle] if len(scores) % 2 else (scores[middle - 1] + scores[middle]) / 2
    tables: dict[Breakdown, dict[tuple[str, ...], tuple[int, int]]] = {}
    for breakdown in Breakdown:
        counts: Counter[tuple[str, ...]] = Counter()
        hits: Counter[tuple[str, ...]] = Counter()
        for sex, race, score in data:
            positive = score > median if scoring else score >= 5
            if breakdown is Breakdown.SEX and sex >= 0:
                key: tuple[str, ...] = (SEXES[sex],)
            elif breakdown is Breakdown.RACE_ETHNICITY and race >= 0:
                key = (RACES[race],)
            elif breakdown is Breakdown.INTERSECTIONAL and sex >= 0 and race >= 0:
                key = (SEXES[sex], RACES[race])
            else:
                continue
            counts[key] += 1
            hits[key] += int(positive)
        tables[breakdown] = {key: (counts[key], hits[key]) for key in counts}
    return tables


@settings(max_examples=60, deadline=None)
@given(rows, st.booleans())
def test_tables_match_a_naive_count(data: list[tuple[int, int, int]], scoring: bool) -> None:
    sex = CodedColumn("sex", np.array([r[0] for r in data], dtype=np.int64), SEXES)
    race = CodedColumn("race", np.array([r[1] for r in data], dtype=np.int64), RACES)
    scores = np.array([r[2] for r in data], dtype=np.float64)
    results = ll144_results(
        tool_type=ToolType.SCORING if scoring else ToolType.SELECTION,
        sex=sex,
        race=race,
        scores=scores,
        selected=scores >= 5,
        ci_level=None,
    )
    expected = _reference(data, scoring)
    for table in results.tables:
        found = {row.category: (row.applicants, row.positives) for row in table.rows}
        assert found == expected[table.breakdown]
        assert table.unknown == len(data) - sum(n for n, _ in found.values())
        top = max((k / n for n, k in found.values()), default=0.0)
        for row in table.rows:
            if top == 0:
                assert row.impact_ratio.value is None
            else:
                assert row.impact_ratio.value == (row.positives / row.applicants) / top
