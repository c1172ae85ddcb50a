"""The SQL that builds score histograms and regression sums, for DuckDB and Spark alike.

Only aggregates come back: one row per (groups, label, bin, ...) cell. Float sums are exact,
two ways. Regression sums are first planned from each quantity's range of magnitudes (one scan,
the one counting missing values when unweighted): where the values span at most 187 binary
orders of magnitude, each is a fixed-point integer cut into at most four 60-bit limbs
(:class:`LimbPlan`), and one row per group sums every limb as a 128-bit integer. Otherwise (and
for calibration sums), each value is written ``m * 2**(x - 54)`` with an integer ``m`` (``x =
floor(log2 |v|)``, which may be off by one or two without harm) and the ``m`` are summed per
exponent as 128-bit integers (DuckDB HUGEINT, Spark DECIMAL(38, 0)). Sums return as text;
Python adds them up exactly (:class:`~bias_ledger.metrics.exact_sum.ExactSums`), so every
engine gives the same bits."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bias_ledger.metrics.regression_sums import QUANTITIES
from bias_ledger.metrics.score_bins import calibration_edges

MANTISSA_BITS = 54
"""``m = v * 2**(54 - x)``: an integer below 2**56 for any ``x`` within 2 of the true one."""
NONFINITE = 4096
"""The exponent ``x`` of a regression row's value that is not finite (a squared error that
overflowed): summed as 0, its cell is marked (:meth:`ExactSums.mark_nonfinite`)."""


@dataclass(frozen=True)
class Dialect:
    """How one SQL engine spells what the two engines spell differently."""

    identifier: Callable[[str], str]
    """Quotes a column name."""
    big_sum: Callable[[str], str]
    """The exact sum of a BIGINT expression, as text."""
    nonfinite: Callable[[str], str]
    """True where a DOUBLE expression is NaN or infinite."""
    nan: Callable[[str], str]
    """True where a DOUBLE expression is NaN."""
    unpivot: Callable[[Sequence[str]], str]
    """Select-list items giving one row per expression: ``q`` (its index) and ``v``."""
    trunc: Callable[[str], str]
    """A DOUBLE expression's integer part, toward zero, as a DOUBLE (of any magnitude)."""


def _duckdb_unpivot(values: Sequence[str]) -> str:
    indices = ", ".join(str(i) for i in range(len(values)))
    return f"UNNEST([{indices}]) AS q, UNNEST([{', '.join(values)}]) AS v"


def _spark_unpivot(values: Sequence[str]) -> str:
    pairs = ", ".join(f"{i}, {value}" for i, value in enumerate(values))
    return f"stack({len(values)}, {pairs}) AS (q, v)"


def duckdb_nan(value: str) -> str:
    """DuckDB's NaN test. Not ``isnan``: DuckDB 2.0's statistics propagation folds
    ``isnan(x)`` to false when a Parquet file's min/max of ``x`` are finite (they leave NaN
    out); ``isfinite`` and ``isinf`` are not folded."""
    return f"NOT (isfinite({value}) OR isinf({value}))"


def spark_nan(value: str) -> str:
    """Spark's NaN test."""
    return f"isnan({value})"


def duckdb_dialect(identifier: Callable[[str], str]) -> Dialect:
    return Dialect(
        identifier=identifier,
        big_sum=lambda e: f"CAST(sum({e}) AS VARCHAR)",  # a BIGINT sum is a HUGEINT
        nonfinite=lambda e: f"NOT isfinite({e})",
        nan=duckdb_nan,
        unpivot=_duckdb_unpivot,
        trunc=lambda e: f"trunc({e})",
    )


def spark_dialect(identifier: Callable[[str], str]) -> Dialect:
    return Dialect(
        identifier=identifier,
        big_sum=lambda e: f"CAST(sum(CAST({e} AS DECIMAL(38, 0))) AS STRING)",
        nonfinite=lambda e: f"(isnan({e}) OR abs({e}) = CAST('Infinity' AS DOUBLE))",
        nan=spark_nan,
        unpivot=_spark_unpivot,
        # Spark's floor and ceil return a BIGINT; % on DOUBLEs is Java's exact remainder.
        trunc=lambda e: f"({e} - {e} % {double(1.0)})",
    )


def double(value: float) -> str:
    """An exact DOUBLE literal (the shortest text that reads back as the same double)."""
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def as_double(expression: str) -> str:
    return f"CAST({expression} AS DOUBLE)"


def exponent(v: str) -> str:
    return f"CASE WHEN {v} = 0 THEN 0 ELSE CAST(floor(log2(abs({v}))) AS INT) END"


def mantissa(v: str, x: str) -> str:
    # Two factors: 2**(54 - x) alone overflows a double for subnormal v.
    shift = f"({MANTISSA_BITS} - {x})"
    return (
        f"CASE WHEN {v} = 0 THEN CAST(0 AS BIGINT) ELSE CAST({v} * power(2.0, floor({shift} / 2.0))"
        f" * power(2.0, ceil({shift} / 2.0)) AS BIGINT) END"
    )


def calibration_bin(score: str, bins: int) -> str:
    """sklearn's calibration bin: how many inner edges lie below the score."""
    terms = [
        f"CASE WHEN {score} > {double(edge)} THEN 1 ELSE 0 END" for edge in calibration_edges(bins)
    ]
    return "(" + " + ".join(terms or ["0"]) + ")"


def thresholds_reached(score: str, thresholds: np.ndarray) -> str:
    terms = [f"CASE WHEN {score} >= {double(t)} THEN 1 ELSE 0 END" for t in thresholds.tolist()]
    return "(" + " + ".join(terms or ["0"]) + ")"


def fine_key(score: str, distinct: bool, exponent_: int) -> str:
    """The fine bin: the score itself (distinct values) or ``floor(score / 2**e)``."""
    if distinct:
        return score
    return f"CAST(floor({score} * {double(2.0**-exponent_)}) AS BIGINT)"


def _calibration_rows(
    keyed: str, source: str, score: str, bins: int, where: str, value: str
) -> str:
    """The rows the calibration sums add up: sensitive values, calibration bin ``c`` and the
    summed ``value`` as ``v``."""
    binned = calibration_bin(score, bins)
    return f"SELECT {keyed}, {binned} AS c, {value} AS v FROM {source} {where}"


def calibration_sums(
    dialect: Dialect,
    source: str,
    sensitive: Sequence[str],
    score: str,
    bins: int,
    where: str,
    weight: str | None = None,
) -> str:
    """Per sensitive values, calibration bin ``c`` and exponent ``x``: the exact score sum
    (with a ``weight``: of score times weight, as numpy multiplies them)."""
    keyed = ", ".join(dialect.identifier(name) for name in sensitive)
    value = score if weight is None else f"({score}) * {as_double(weight)}"
    inner = _calibration_rows(keyed, source, score, bins, where, value)
    middle = f"SELECT {keyed}, c, v, {exponent('v')} AS x FROM ({inner}) AS i"
    return (
        f"SELECT {keyed}, c, x, {dialect.big_sum(mantissa('v', 'x'))} AS m "
        f"FROM ({middle}) AS e GROUP BY {keyed}, c, x"
    )


def calibration_limb_sums(
    dialect: Dialect,
    source: str,
    sensitive: Sequence[str],
    score: str,
    bins: int,
    where: str,
    plan: LimbPlan,
) -> str:
    """Per sensitive values and calibration bin ``c``: the exact score sum as the limb sums
    ``m_i`` of ``plan`` (:class:`LimbPlan`; unweighted)."""
    keyed = ", ".join(dialect.identifier(name) for name in sensitive)
    inner = _calibration_rows(keyed, source, score, bins, where, score)
    sums = [f"{dialect.big_sum(plan.limb(dialect, 'v', i))} AS m_{i}" for i in range(plan.limbs)]
    return f"SELECT {keyed}, {', '.join(['c', *sums])} FROM ({inner}) AS i GROUP BY {keyed}, c"


def score_cells(
    source: str,
    columns: Sequence[str],
    extra: Sequence[tuple[str, str]],
    rows_column: str,
    where: str,
    weight: tuple[str, str, str] | None = None,
) -> str:
    """Rows per distinct (columns, extra expressions): the histogram cells. With ``weight``
    (the select items of a weight's exponent and mantissa, and the two columns' names), cells
    are also keyed by the exponent and the mantissas summed exactly, as text."""
    selected = [*columns, *(f"{expression} AS {alias}" for expression, alias in extra)]
    if weight is not None:
        parts, exponent, mantissa = weight
        selected.append(exponent)
        source = f"(SELECT *, {parts} FROM {source} {where}) AS w"
        where = ""
    ordinals = ", ".join(str(i + 1) for i in range(len(selected)))
    summed = ""
    if weight is not None:
        summed = f", CAST(sum(CAST({mantissa} AS DECIMAL(38, 0))) AS DECIMAL(38, 0)) AS {mantissa}"
    return (
        f"SELECT {', '.join(selected)}, CAST(count(*) AS BIGINT) AS {rows_column}{summed} "
        f"FROM {source} {where} GROUP BY {ordinals}"
    )


def regression_values(p: str, y: str, w: str | None) -> list[str]:
    """The value expression of each summed quantity, in cell order, given the prediction, the
    label and the weight (None: unweighted) as DOUBLE expressions."""
    e = f"({p} - {y})"
    values = [p, y, e, f"abs({e})", f"{e} * {e}"]
    assert len(values) == len(QUANTITIES)
    if w is not None:
        values = [f"({value}) * {w}" for value in values] + [w]
    return values


def _regression_rows(
    dialect: Dialect,
    source: str,
    sensitive: Sequence[str],
    label: str,
    prediction: str,
    where: str,
    weight: str | None,
) -> tuple[str, list[str]]:
    """The rows a regression audit sums (sensitive values, ``p``, ``y``, ``w``) and the value
    expression of each summed quantity over them, in cell order."""
    selected = [dialect.identifier(name) for name in sensitive]
    selected += [f"{as_double(prediction)} AS p", f"{as_double(label)} AS y"]
    if weight is not None:
        selected.append(f"{as_double(weight)} AS w")
    values = regression_values("p", "y", None if weight is None else "w")
    return f"SELECT {', '.join(selected)} FROM {source} {where}", values


def regression_sums(
    dialect: Dialect,
    source: str,
    sensitive: Sequence[str],
    label: str,
    prediction: str,
    where: str,
    weight: str | None = None,
) -> str:
    """Per sensitive values, quantity ``q`` (:data:`QUANTITIES`) and exponent: rows and sums.

    With a ``weight`` column every quantity is times the row's weight (as numpy multiplies
    them, value first), and ``q = len(QUANTITIES)`` sums the weights themselves. This query
    takes any values; :func:`regression_limb_sums` is faster where the values allow it.
    """
    inner, values = _regression_rows(dialect, source, sensitive, label, prediction, where, weight)
    keyed = ", ".join(dialect.identifier(name) for name in sensitive)
    rows = f"SELECT {keyed}, {dialect.unpivot(values)} FROM ({inner}) AS r"
    bad = dialect.nonfinite("v")
    finite = (
        f"SELECT {keyed}, q, CASE WHEN {bad} THEN 0.0 ELSE v END AS v, {bad} AS bad "
        f"FROM ({rows}) AS u"
    )
    x = f"CASE WHEN bad THEN {NONFINITE} ELSE {exponent('v')} END"
    middle = f"SELECT {keyed}, q, v, {x} AS x FROM ({finite}) AS f"
    return (
        f"SELECT {keyed}, q, x, CAST(count(*) AS BIGINT) AS n, "
        f"{dialect.big_sum(mantissa('v', 'x'))} AS m FROM ({middle}) AS e "
        f"GROUP BY {keyed}, q, x"
    )


LIMB_BITS = 60
"""Bits of a limb (:class:`LimbPlan`): a limb is a BIGINT, and the sum of 2**66 of them still
fits a 128-bit integer."""
MAX_LIMBS = 4
"""Most limbs per quantity: values spanning more binary orders of magnitude than
``MAX_LIMBS * LIMB_BITS - 53`` (187) are summed by :func:`regression_sums` instead."""


@dataclass(frozen=True)
class LimbPlan:
    """How one quantity's values are summed exactly as fixed-point integers.

    Every value ``v`` of the quantity is an integer ``M = v * 2**scale`` (its last mantissa
    bit is no finer than the smallest non-zero value's, ``2**-scale``), below
    ``2**(limbs * LIMB_BITS)`` in magnitude. ``M`` is cut into ``limbs`` integers of at most
    :data:`LIMB_BITS` bits, each with ``M``'s sign: with ``t(k) = trunc(M / 2**(60 k))``,
    limb ``i`` is ``t(i) - t(i + 1) * 2**60`` (the last, ``t(limbs - 1)``). Each is computed
    exactly in DOUBLE arithmetic (scaling by a power of two, truncation, and a subtraction
    whose result is some of the value's own mantissa bits) and summed as a 128-bit integer,
    so ``sum(v) = sum over i of (sum of limb i) * 2**(60 i - scale)``, exactly.
    """

    scale: int
    limbs: int

    def limb(self, dialect: Dialect, value: str, index: int) -> str:
        """Limb ``index`` of a DOUBLE expression, as a BIGINT expression."""

        def truncated(k: int) -> str:
            return dialect.trunc(f"{value} * {double(2.0 ** (self.scale - LIMB_BITS * k))}")

        limb = truncated(index)
        if index < self.limbs - 1:
            limb = f"{limb} - {truncated(index + 1)} * {double(2.0**LIMB_BITS)}"
        return f"CAST({limb} AS BIGINT)"

    def exponent(self, index: int) -> int:
        """Limb ``index``'s sum counts units of ``2**exponent``."""
        return LIMB_BITS * index - self.scale


SAME_MAGNITUDE = (QUANTITIES.index("absolute_error"), QUANTITIES.index("error"))
"""``|e|`` (times the weight) has the magnitudes of ``e`` (times the weight), bit for bit: IEEE
multiplication is symmetric in sign. :func:`regression_ranges` measures the second only."""


def limb_plan(smallest: float | None, largest: float) -> LimbPlan | None:
    """The plan for a quantity whose non-zero values lie between ``smallest`` and ``largest``
    in magnitude (``smallest`` None: every value is zero), or None when its values span too
    many orders of magnitude (or are too small or large for the scale factors to be normal
    DOUBLEs): :func:`regression_sums` then sums them."""
    if smallest is None:
        return LimbPlan(scale=0, limbs=0)
    low = math.frexp(smallest)[1] - 1  # floor(log2 |v|) of the smallest value
    high = math.frexp(largest)[1] - 1
    scale = 52 - low
    limbs = -(-(high - low + 53) // LIMB_BITS)
    if limbs > MAX_LIMBS or scale > 1023 or scale - LIMB_BITS * (limbs - 1) < -1022:
        return None
    return LimbPlan(scale=scale, limbs=limbs)


def regression_ranges(
    label: str, prediction: str, weight: str | None = None
) -> list[tuple[str, str]]:
    """(alias, aggregate)s: per quantity ``k`` (with a weight, ``k = len(QUANTITIES)`` is the
    weight), the smallest non-zero magnitude ``lo_k`` (NULL if every value is 0) and the
    largest, ``hi_k``: what :func:`limb_plan` reads.

    Over any rows that include the summed ones (NULLs are left out), since a plan only needs
    bounds. The summed labels and predictions are finite, so a summed value that is not finite
    (an overflow) is infinite, and ``hi_k`` is too. The absolute error is left out: it has
    the residual's magnitudes (:data:`SAME_MAGNITUDE`)."""
    w = None if weight is None else as_double(weight)
    values = regression_values(as_double(prediction), as_double(label), w)
    items = []
    for k, value in enumerate(values):
        if k != SAME_MAGNITUDE[0]:
            items += [
                (f"lo_{k}", f"min(CASE WHEN {value} <> 0 THEN abs({value}) END)"),
                (f"hi_{k}", f"max(abs({value}))"),
            ]
    return items


def regression_limb_sums(
    dialect: Dialect,
    source: str,
    sensitive: Sequence[str],
    label: str,
    prediction: str,
    where: str,
    plans: Sequence[LimbPlan],
    weight: str | None = None,
) -> str:
    """Per sensitive values: rows ``n`` and, per quantity ``k`` and limb ``i`` of its plan, the
    limb's exact sum as text, ``m_k_i`` (:class:`LimbPlan`): one row per group, no unpivot."""
    inner, values = _regression_rows(dialect, source, sensitive, label, prediction, where, weight)
    assert len(plans) == len(values)
    keyed = ", ".join(dialect.identifier(name) for name in sensitive)
    sums = [
        f"{dialect.big_sum(plan.limb(dialect, value, i))} AS m_{k}_{i}"
        for k, (value, plan) in enumerate(zip(values, plans, strict=True))
        for i in range(plan.limbs)
    ]
    return (
        f"SELECT {keyed}, {', '.join(['CAST(count(*) AS BIGINT) AS n', *sums])} "
        f"FROM ({inner}) AS r GROUP BY {keyed}"
    )
