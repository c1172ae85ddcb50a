"""What each chart of the report shows, as plain data (standard library only).

The report builder fills these from the recorded numbers; ``render/charts.py`` draws them with
matplotlib, and the Markdown renderer writes their title and description instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    """One group's bar: a recorded value and its interval, or nothing (undefined)."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    insufficient: bool = False
    """Drawn hollow and hatched: the audit flagged the group as too small to judge."""
    flagged: bool = False
    """Past a bound (an impact ratio below 0.8): drawn in the warning colour."""


@dataclass(frozen=True)
class Series:
    name: str
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Line:
    """A vertical guide line across a bar chart (the reference group's rate, the 0.8 bound)."""

    at: float
    label: str


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars per group; several series are drawn side by side (TPR and FPR)."""

    key: str
    """Unique within the report; seeds the SVG's element ids."""
    title: str
    description: str
    axis: str
    series: tuple[Series, ...]
    lines: tuple[Line, ...] = ()
    unit_range: bool = True
    """The axis runs from 0 to 1 (rates); otherwise from the data."""


@dataclass(frozen=True)
class Curve:
    label: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    insufficient: bool = False


@dataclass(frozen=True)
class CurveChart:
    """Lines per group on a unit square with its diagonal (ROC, reliability diagram)."""

    key: str
    title: str
    description: str
    x_axis: str
    y_axis: str
    curves: tuple[Curve, ...]
    diagonal: str
    """What the diagonal means (chance, perfect calibration)."""


@dataclass(frozen=True)
class Heatmap:
    """Intersectional groups as a grid: rows are the first features, columns the last."""

    key: str
    title: str
    description: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: tuple[tuple[float | None, ...], ...]
    insufficient: tuple[tuple[bool, ...], ...]
    bound: float | None = None
    """Cells below it are marked (the four-fifths bound for impact ratios)."""


Chart = BarChart | CurveChart | Heatmap
