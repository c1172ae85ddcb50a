"""The NYC Local Law 144 bias audit: its declared facts and its tables, as frozen values.

Definitions (6 RCNY § 5-300): the *selection rate* of a category is the share of its
individuals selected (moved forward or assigned the classification); the *scoring rate* is the
share scoring above the full sample's median score; the *impact ratio* is a category's rate over
the rate of the most selected (highest scoring) category. § 5-301 asks for them for sex,
race/ethnicity and their intersection, with the number of individuals of unknown category, and
allows excluding a category under 2% of the data from the impact ratios with a justification.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bias_ledger.metrics.model import Value

EXCLUSION_LIMIT = 0.02
"""§ 5-301(d): only a category under 2% of the audited data may be excluded from impact ratios."""
FOUR_FIFTHS = 0.8
"""The EEOC's rule of thumb (29 CFR 1607.4(D)); LL144 itself sets no threshold."""
FOUR_FIFTHS_BASIS = "EEOC rule of thumb, 29 CFR 1607.4(D); NYC LL144 sets no threshold"


class ToolType(StrEnum):
    """How the automated employment decision tool (AEDT) reports its output."""

    SELECTION = "selection"
    """It selects individuals (or assigns them a classification): selection rates."""
    SCORING = "scoring"
    """It scores individuals: scoring rates against the full sample's median."""


class DataSource(StrEnum):
    """The data of the audit (§ 5-302)."""

    HISTORICAL = "historical"
    """Historical data of the AEDT's use."""
    TEST = "test"
    """Test data, allowed when historical data is insufficient; the reason must be given."""


class Breakdown(StrEnum):
    """The three separate calculations § 5-301 requires."""

    SEX = "sex"
    RACE_ETHNICITY = "race_ethnicity"
    INTERSECTIONAL = "intersectional"


@dataclass(frozen=True)
class Declaration:
    """The facts of the audit that the data cannot show, declared by the auditor and signed."""

    data_source: DataSource
    """Historical or test data."""
    data_description: str
    """Where the data came from and what it is (the summary's "source and explanation")."""
    test_data_reason: str | None
    """Why historical data was not used, and how the test data was made (test data only)."""
    audit_date: str
    """The date of the bias audit, ``YYYY-MM-DD``."""
    distribution_date: str
    """The date the AEDT was first distributed (or is to be), ``YYYY-MM-DD``."""
    auditor: str
    """The independent auditor (a person or firm)."""
    auditor_key: str | None = None
    """The auditor's key fingerprint (``SHA256:...``) whose ``approve`` countersigns the audit."""

    def to_json(self) -> dict[str, Any]:
        return {
            "data_source": self.data_source.value,
            "data_description": self.data_description,
            "test_data_reason": self.test_data_reason,
            "audit_date": self.audit_date,
            "distribution_date": self.distribution_date,
            "auditor": self.auditor,
            "auditor_key": self.auditor_key,
        }


@dataclass(frozen=True)
class Exclusion:
    """A category left out of a breakdown's impact ratios under the 2% rule."""

    breakdown: Breakdown
    category: tuple[str, ...]
    """One name, or (sex, race/ethnicity) for the intersection."""
    justification: str
    """The auditor's reason, published with the summary."""

    def to_json(self) -> dict[str, Any]:
        return {
            "breakdown": self.breakdown.value,
            "category": list(self.category),
            "justification": self.justification,
        }


@dataclass(frozen=True)
class CategoryRow:
    """One category of one breakdown: counts, rate, impact ratio and flags."""

    category: tuple[str, ...]
    applicants: int
    """Individuals of the category assessed by the AEDT."""
    positives: int
    """Of them, selected (selection tools) or scoring above the median (scoring tools)."""
    rate: Value
    """Selection rate or scoring rate, with its Wilson interval when one was asked for."""
    share: float
    """The category's share of every individual audited (the 2% rule's measure)."""
    impact_ratio: Value
    """Rate over the denominator category's rate; null with a reason when excluded."""
    excluded: bool
    """Left out of the impact ratios under the 2% rule (still shown)."""
    small: bool
    """Fewer individuals than the minimum group size: shown, flagged, still in the ratios."""
    below_four_fifths: bool | None
    """Impact ratio under 0.8 (EEOC rule of thumb); None when the ratio is undefined."""
    p_value: Value
    """Two-sided test of "same rate as the denominator category" (z test, or Fisher's)."""
    test_method: str | None
    """``two_proportion_z`` or ``fisher_exact``; None when not tested."""

    def to_json(self) -> dict[str, Any]:
        return {
            "category": list(self.category),
            "applicants": self.applicants,
            "positives": self.positives,
            "rate": self.rate.to_json(),
            "share": self.share,
            "impact_ratio": self.impact_ratio.to_json(),
            "excluded": self.excluded,
            "small": self.small,
            "below_four_fifths": self.below_four_fifths,
            "p_value": self.p_value.to_json(),
            "test_method": self.test_method,
        }


@dataclass(frozen=True)
class BreakdownTable:
    """One of the three calculations: every known category of sex, race/ethnicity or both."""

    breakdown: Breakdown
    columns: tuple[str, ...]
    """The data columns the categories come from."""
    rows: tuple[CategoryRow, ...]
    unknown: int
    """Individuals of unknown category here, counted and left out of the rates and ratios."""
    denominator: tuple[str, ...] | None
    """The most selected (highest scoring) category among those not excluded; None if none."""

    def to_json(self) -> dict[str, Any]:
        return {
            "breakdown": self.breakdown.value,
            "columns": list(self.columns),
            "rows": [row.to_json() for row in self.rows],
            "unknown": self.unknown,
            "denominator": list(self.denominator) if self.denominator is not None else None,
        }


@dataclass(frozen=True)
class LL144Results:
    """Every table of an LL144 bias audit."""

    tool_type: ToolType
    applicants: int
    """Every individual the AEDT assessed (unknowns included)."""
    median_score: float | None
    """Scoring tools: the median score of the full sample."""
    tables: tuple[BreakdownTable, ...]
    """Sex, race/ethnicity, intersectional: in that order."""
    exclusions: tuple[Exclusion, ...]
    min_group_size: int
    ci_level: float | None

    def table(self, breakdown: Breakdown) -> BreakdownTable:
        return next(item for item in self.tables if item.breakdown is breakdown)

    def to_json(self) -> dict[str, Any]:
        return {
            "tool_type": self.tool_type.value,
            "rate": "scoring_rate" if self.tool_type is ToolType.SCORING else "selection_rate",
            "applicants": self.applicants,
            "median_score": self.median_score,
            "tables": [item.to_json() for item in self.tables],
            "exclusions": [item.to_json() for item in self.exclusions],
            "min_group_size": self.min_group_size,
            "ci_level": self.ci_level,
            "four_fifths": {"threshold": FOUR_FIFTHS, "basis": FOUR_FIFTHS_BASIS},
        }
