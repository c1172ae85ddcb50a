"""LL144 tables against hand-computed examples: unknowns, a 2% exclusion, scoring, intersection."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bias_ledger.errors import InputError
from bias_ledger.standards.ll144_audit import (
    LL144Request,
    build_declaration,
    parse_exclusions,
    run_ll144,
)
from bias_ledger.standards.ll144_load import LL144Columns
from bias_ledger.standards.ll144_model import Breakdown, LL144Results, ToolType
from tests.regulatory.ll144_data import write_scoring_csv, write_selection_csv

DECLARATION = build_declaration(
    data_source="historical",
    data_description="applications screened in 2025",
    test_data_reason=None,
    audit_date="2026-01-15",
    distribution_date="2024-03-01",
    auditor="Example Audits LLC",
    auditor_key=None,
    today=date(2026, 1, 15),
)


def _row(results: LL144Results, breakdown: Breakdown, *category: str) -> dict[str, object]:
    table = results.table(breakdown)
    row = next(r for r in table.rows if r.category == category)
    return {
        "n": row.applicants,
        "k": row.positives,
        "rate": row.rate.value,
        "ratio": row.impact_ratio.value,
        "excluded": row.excluded,
        "small": row.small,
        "flag": row.below_four_fifths,
    }


def _selection(tmp_path: Path, exclude: tuple[str, ...] = ()) -> LL144Results:
    data = write_selection_csv(tmp_path / "selection.csv")
    request = LL144Request(
        data=data,
        columns=LL144Columns(sex="sex", race_ethnicity="race_ethnicity", prediction="selected"),
        declaration=DECLARATION,
        exclusions=parse_exclusions(
            exclude, ["under 2% of the data"] if exclude else [], sex="sex", race="race_ethnicity"
        ),
    )
    return run_ll144(request).results


def test_selection_tool_with_unknowns_exclusion_and_intersection(tmp_path: Path) -> None:
    results = _selection(tmp_path, ("race_ethnicity=Asian", "intersectional=female/Asian"))
    assert results.tool_type is ToolType.SELECTION
    assert results.applicants == 100
    sex = results.table(Breakdown.SEX)
    # Sex: 4 of unknown sex. male 30+20+5 = 55 with 15+8+1 = 24 selected; female 25+15+1 = 41
    # with 10+9+1 = 20 selected. Most selected: female (20/41).
    assert sex.unknown == 4
    assert sex.denominator == ("female",)
    male = _row(results, Breakdown.SEX, "male")
    assert (male["n"], male["k"]) == (55, 24)
    assert male["rate"] == pytest.approx(24 / 55)
    assert male["ratio"] == pytest.approx((24 / 55) / (20 / 41))  # 0.8945
    assert male["flag"] is False
    assert _row(results, Breakdown.SEX, "female")["ratio"] == pytest.approx(1.0)
    # Race/ethnicity: 5 unknown. White 30+25+4 = 59 with 27 selected; Black 35 with 17; Asian 1
    # with 1 (rate 1.0, excluded: otherwise it would be the denominator). Most selected of the
    # rest: Black (17/35).
    race = results.table(Breakdown.RACE_ETHNICITY)
    assert race.unknown == 5
    assert race.denominator == ("Black",)
    white = _row(results, Breakdown.RACE_ETHNICITY, "White")
    assert (white["n"], white["k"]) == (59, 27)
    assert white["ratio"] == pytest.approx((27 / 59) / (17 / 35))
    asian = _row(results, Breakdown.RACE_ETHNICITY, "Asian")
    assert (asian["n"], asian["k"], asian["rate"]) == (1, 1, 1.0)  # still shown
    assert asian["excluded"] is True and asian["ratio"] is None
    # Intersection: 4 + 5 = 9 unknown. female/Black 9/15 = 0.6 is the denominator.
    cross = results.table(Breakdown.INTERSECTIONAL)
    assert cross.unknown == 9
    assert cross.denominator == ("female", "Black")
    assert _row(results, Breakdown.INTERSECTIONAL, "male", "White")["ratio"] == pytest.approx(
        0.5 / 0.6
    )
    male_black = _row(results, Breakdown.INTERSECTIONAL, "male", "Black")
    assert male_black["ratio"] == pytest.approx(0.4 / 0.6)
    assert male_black["flag"] is True  # under four fifths: shown as the EEOC rule of thumb
    # Small categories (under the default 30) are flagged, never dropped from the ratios.
    assert male_black["small"] is True and male_black["ratio"] is not None
    assert [r.category for r in cross.rows] == [
        ("female", "Asian"),
        ("female", "Black"),
        ("female", "White"),
        ("male", "Black"),
        ("male", "White"),
    ]


def test_without_the_exclusion_the_small_category_is_the_denominator(tmp_path: Path) -> None:
    results = _selection(tmp_path)
    race = results.table(Breakdown.RACE_ETHNICITY)
    assert race.denominator == ("Asian",)
    assert _row(results, Breakdown.RACE_ETHNICITY, "Black")["ratio"] == pytest.approx(17 / 35)


def test_only_a_category_under_two_percent_may_be_excluded(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"15 of 100 individuals \(15.00%\).*under 2%"):
        _selection(tmp_path, ("intersectional=female/Black",))
    with pytest.raises(InputError, match="no such category"):
        _selection(tmp_path, ("sex=other",))


def test_scoring_tool(tmp_path: Path) -> None:
    request = LL144Request(
        data=write_scoring_csv(tmp_path / "scores.csv"),
        columns=LL144Columns(sex="sex", race_ethnicity="race_ethnicity", score="score"),
        declaration=DECLARATION,
        min_group_size=3,
    )
    results = run_ll144(request).results
    assert results.tool_type is ToolType.SCORING
    # Scores 1..10 over the full sample (unknowns included): median 5.5; above it: 6..10.
    assert results.median_score == 5.5
    # Sex (1 unknown: the 10): male scores 9,7,5,3,1 -> 2 of 5; female 8,6,4,2 -> 2 of 4.
    male = _row(results, Breakdown.SEX, "male")
    assert (male["n"], male["k"], male["rate"]) == (5, 2, 0.4)
    assert male["ratio"] == pytest.approx(0.4 / 0.5)
    assert results.table(Breakdown.SEX).denominator == ("female",)
    # Race (1 unknown: the 1): White 9,7,8,6,10 -> 5 of 5; Black 5,3,4,2 -> 0 of 4.
    black = _row(results, Breakdown.RACE_ETHNICITY, "Black")
    assert (black["n"], black["k"], black["ratio"]) == (4, 0, 0.0)
    assert black["flag"] is True
    # Intersection (2 unknown): every White cell scores 2 of 2, every Black cell 0 of 2.
    cross = results.table(Breakdown.INTERSECTIONAL)
    assert cross.unknown == 2
    assert {r.category: r.rate.value for r in cross.rows} == {
        ("female", "Black"): 0.0,
        ("female", "White"): 1.0,
        ("male", "Black"): 0.0,
        ("male", "White"): 1.0,
    }
    assert _row(results, Breakdown.INTERSECTIONAL, "female", "Black")["small"] is True


def test_declaration_needs_the_reason_for_test_data() -> None:
    with pytest.raises(InputError, match="--test-data-reason"):
        build_declaration(
            data_source="test",
            data_description="synthetic applicants",
            test_data_reason=None,
            audit_date=None,
            distribution_date="2024-03-01",
            auditor="A",
            auditor_key=None,
            today=date(2026, 1, 1),
        )
    with pytest.raises(InputError, match="--auditor NAME"):
        build_declaration(
            data_source="historical",
            data_description="d",
            test_data_reason=None,
            audit_date=None,
            distribution_date="2024-03-01",
            auditor=None,
            auditor_key=None,
            today=date(2026, 1, 1),
        )
