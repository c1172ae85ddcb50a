"""What a weighted audit (``--weight``) computes, what it refuses, and what it records.

Counts and rates are weighted as fairlearn's ``sample_weight`` weighs them. Confidence
intervals (Wilson, bootstrap) and the selection-rate tests (z, Fisher) model counts of
independent rows; a sum of weights is not one (weights may be fractional, and neither the
effective sample size nor the design is known), so a weighted audit computes none of them,
refuses the options that ask for them, and says so in its statistics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bias_ledger.errors import InputError

if TYPE_CHECKING:
    from bias_ledger._audit_model import AuditRequest
    from bias_ledger.metrics.counts import CountTable

NOT_COMPUTED = (
    "confidence intervals and selection-rate significance tests model counts of independent "
    "rows; sums of sample weights are not, so a weighted audit computes neither"
)
COUNTS = (
    "confusion counts are exact sums of the weights, rounded once to float64; every rate is "
    "their quotient (fairlearn's sample_weight); count and min_group_size count rows"
)


SCORES = (
    "score metrics weigh each row by its weight (scikit-learn's sample_weight): ROC AUC, "
    "calibration means and rates and the threshold sweep are computed from the exact sums of "
    "the weights per histogram bin, each rounded once to float64 (the same bits on every "
    "engine); counts count rows"
)
SCORES_FLOAT = (
    "score metrics weigh each row by its weight (scikit-learn's sample_weight): ROC AUC, "
    "calibration means and rates and the threshold sweep are quotients of float64 sums of "
    "the weights per histogram bin; counts count rows"
)
"""What records made by earlier versions say (their histograms summed the weights in float64, on the
arrow engine only; they recompute so, see :class:`~bias_ledger.metrics.scores.WeightSums`)."""
REGRESSION = (
    "every mean (prediction, residual, absolute and squared error) is the exact weighted sum "
    "over the exact sum of the weights, rounded once (sklearn's sample_weight); count and "
    "min_group_size count rows"
)


def check_weighted_request(request: AuditRequest) -> None:
    """InputError for an option a weighted audit cannot honour (one line each)."""
    mapping = request.mapping
    column = mapping.weight
    if mapping.score is not None and request.engine != "arrow" and not request.exact_weights:
        raise InputError(
            f"--weight {column} with --score {mapping.score}: this record's weighted score "
            "metrics summed the weights in float64, which the arrow engine alone recomputes; "
            f"not --engine {request.engine}"
        )
    if request.bootstrap:
        raise InputError(f"--bootstrap with --weight {column}: {NOT_COMPUTED}")
    if request.ci_level is not None:
        raise InputError(f"--ci with --weight {column}: {NOT_COMPUTED} (leave out --ci)")
    if request.cross_check:
        raise InputError(
            f"--cross-check with --weight {column}: the fairlearn cross-check runs unweighted; "
            "leave out one of them"
        )


def weighted_statistics(
    column: str,
    table: CountTable | None,
    *,
    regression: bool = False,
    scores: bool = False,
    exact_scores: bool = True,
) -> dict[str, Any]:
    """The ``statistics`` of a weighted audit: nothing that needs row counts, and why."""
    weights: dict[str, Any] = {
        "column": column,
        "counts": REGRESSION if regression else COUNTS,
        "not_computed": NOT_COMPUTED,
    }
    if scores:
        weights["scores"] = SCORES if exact_scores else SCORES_FLOAT
    overall = table.overall().weighted if table is not None else None
    if overall is not None:
        from bias_ledger.metrics.weights import to_float

        weights["total"] = to_float(sum(int(n) for n in overall.numerators.ravel()), overall.scale)
    return {"intervals": None, "significance": None, "scores": None, "weights": weights}
