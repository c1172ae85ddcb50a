"""Fisher's exact test of a 2x2 table (two-sided), in the standard library.

The p-value is scipy's (``scipy.stats.fisher_exact``, whose import took most of a small
audit's time): the probability, under the hypergeometric law of the table's top-left cell
with its margins fixed, of every table at most ``1 + 1e-14`` times as likely as the observed
one, and exactly 1 when the observed table is (to that tolerance) the most likely. The
probabilities are taken relative to the most likely table, by the ratio of neighbouring ones;
a table whose ratio to the observed one is within 1e-9 of the tolerance is decided in exact
integer arithmetic, so ties (symmetric tables) are never decided by rounding.
"""

from __future__ import annotations

import math
from fractions import Fraction

EPSILON = Fraction(1, 10**14)
"""scipy's relative tolerance: a table this close in probability counts as no more likely."""
NEAR = 1e-9
"""Float ratios within this of a decision's boundary are checked exactly."""


def _product(factors: list[int]) -> int:
    """The product of ``factors`` (a balanced tree: fast for thousands of factors)."""
    if len(factors) <= 8:
        return math.prod(factors)
    middle = len(factors) // 2
    return _product(factors[:middle]) * _product(factors[middle:])


def _exact_ratio(x: int, y: int, rows: int, cols: int, other: int) -> Fraction:
    """P(x) / P(y) exactly, by the hypergeometric recurrence
    P(k + 1) / P(k) = (rows - k)(cols - k) / ((k + 1)(other + k + 1))."""
    low, high = sorted((x, y))
    above = _product([(rows - k) * (cols - k) for k in range(low, high)])
    below = _product([(k + 1) * (other + k + 1) for k in range(low, high)])
    return Fraction(above, below) if x > y else Fraction(below, above)


def odds_ratio(a: int, b: int, c: int, d: int) -> float:
    """The sample odds ratio ``a d / (b c)`` of [[a, b], [c, d]] as scipy gives it: inf when
    ``b c`` is 0, NaN when a row or column is empty."""
    if 0 in (a + b, c + d, a + c, b + d):
        return math.nan
    if b > 0 and c > 0:
        return a * d / (b * c)
    return math.inf


def _weights(low: int, high: int, mode: int, rows: int, cols: int, other: int) -> list[float]:
    """P(x) / P(mode) for x from ``low`` to ``high``, from the mode outwards (they only
    shrink, so the tails underflow to 0 harmlessly)."""
    weights = [0.0] * (high - low + 1)
    weights[mode - low] = 1.0
    for x in range(mode, high):
        step = (rows - x) * (cols - x) / ((x + 1) * (other + x + 1))
        weights[x + 1 - low] = weights[x - low] * step
    for x in range(mode - 1, low - 1, -1):
        back = ((x + 1) * (other + x + 1)) / ((rows - x) * (cols - x))
        weights[x - low] = weights[x + 1 - low] * back
    return weights


def fisher_two_sided(a: int, b: int, c: int, d: int) -> tuple[float, float]:
    """(sample odds ratio, two-sided p-value) of Fisher's exact test of [[a, b], [c, d]]."""
    if min(a, b, c, d) < 0:
        raise ValueError("every cell of the table must be non-negative")
    if 0 in (a + b, c + d, a + c, b + d):
        return math.nan, 1.0
    total = a + b + c + d
    rows, cols, other = a + b, a + c, d - a
    low, high = max(0, -other), min(rows, cols)
    mode = min(high, max(low, (rows + 1) * (cols + 1) // (total + 2)))
    weights = _weights(low, high, mode, rows, cols, other)
    observed = weights[a - low]
    if observed >= 1 - 2 * NEAR and 1 - _exact_ratio(a, mode, rows, cols, other) <= EPSILON:
        return odds_ratio(a, b, c, d), 1.0
    bound = observed * (1 + 1e-14)
    included = []
    for x, weight in enumerate(weights, start=low):
        near = observed > 0 and abs(weight / observed - 1) < NEAR
        exact = near and _exact_ratio(x, a, rows, cols, other) <= 1 + EPSILON
        if exact or (not near and weight <= bound):
            included.append(weight)
    return odds_ratio(a, b, c, d), min(1.0, math.fsum(included) / math.fsum(weights))
