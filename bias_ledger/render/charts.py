"""The report's charts as inline SVG, drawn with matplotlib (imported here, only when drawing).

Deterministic output: a fixed hash salt per chart (element ids), no date or creator metadata,
text kept as text (``svg.fonttype: none``) so it is searchable, accessible and escaped by
matplotlib's SVG writer. Colours are Okabe-Ito (colour-blind safe); every value is also written.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from html import escape
from typing import TYPE_CHECKING, Any

from bias_ledger.render.report_figures import BarChart, Chart, CurveChart, Heatmap

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442")
FLAGGED = "#D55E00"
"""Vermillion: a value past its bound."""
STYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LABEL_CHARS = 38
INCH_PER_CHAR = 0.072
"""Roughly the width of one character of an 8.5 pt label."""
_TAG = re.compile(r"<[^>]*>")
_CONTENT = re.compile(r">([^<]+)<")
_ID = re.compile(r'((?:\sid="|url\(#|xlink:href="#))')
_LONG = re.compile(r"(\d\.\d\d)\d+")
_SPACE = re.compile(r"\s*\n\s*")
COLOUR_STEPS = 20
"""A heatmap's colour scale in steps: its legend is that many vector cells (every value is
also written in its cell)."""


def _short(label: str) -> str:
    # matplotlib hides legend entries starting with "_"; a space keeps them.
    label = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
    return " " + label if label.startswith("_") else label


@contextmanager
def _figure(key: str, width: float, height: float) -> Iterator[Figure]:
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    settings: dict[str, Any] = {
        "svg.fonttype": "none",
        "svg.hashsalt": f"bias-ledger-{key}",
        "text.parse_math": False,
        "font.size": 8.5,
        "font.family": "DejaVu Sans",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 10,
        "axes.titlelocation": "left",
        # A fixed title position: placing it above the tick labels measures every text again.
        "axes.titley": 1.02,
    }
    with matplotlib.rc_context(settings):  # type: ignore[arg-type]
        figure = Figure(figsize=(width, height))
        FigureCanvasAgg(figure)
        yield figure


def _svg(figure: Figure, chart: Chart) -> str:
    buffer = io.StringIO()
    figure.savefig(
        buffer,
        format="svg",
        metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
    )
    raw = buffer.getvalue()
    svg = raw[raw.index("<svg") :]
    svg = re.sub(r'\s(width|height)="[0-9.]+pt"', "", svg, count=2)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, count=1, flags=re.S)
    # Inline in HTML the parser knows the SVG and xlink namespaces: no URL left in the page.
    svg = re.sub(r'\sxmlns(:xlink)?="[^"]*"', "", svg[:300], count=2) + svg[300:]
    # Several charts share one page: their element ids (and references to them) get the chart's
    # key as a prefix. Only tags are rewritten: escaped text cannot contain '<' or '>'.
    # Inside tags, coordinates keep two decimals (of a point) and line breaks become spaces.
    svg = _TAG.sub(lambda tag: _compact(_ID.sub(rf"\1{chart.key}-", tag.group(0))), svg)
    svg = re.sub(r">\n *", ">", svg)
    # matplotlib escapes <, > and & in text; quotes too, so no data quote is ever raw.
    svg = _CONTENT.sub(lambda m: ">" + m.group(1).replace('"', "&quot;").replace("'", "&#x27;")
                       + "<", svg)  # fmt: skip
    title, description = escape(chart.title), escape(chart.description)
    head_end = svg.index(">") + 1
    return (
        svg[: head_end - 1]
        + f' role="img" aria-label="{title}" class="chart">'
        + f"<title>{title}</title><desc>{description}</desc>"
        + svg[head_end:].strip()
    )


def _compact(tag: str) -> str:
    return _SPACE.sub(" ", _LONG.sub(r"\1", tag)).replace(' "', '"')


def _number(value: float) -> str:
    return f"{value:.3f}"


def _bar_text(bar: Any) -> str:
    if bar.value is None:
        return "undefined" + (" (insufficient data)" if bar.insufficient else "")
    text = _number(bar.value)
    if bar.low is not None and bar.high is not None:
        text += f" [{_number(bar.low)}, {_number(bar.high)}]"
    if bar.flagged:
        text += " below the bound"
    return text + (" insufficient data" if bar.insufficient else "")


def _margins(
    figure: Figure, *, left: float, bottom: float, top: float = 0.35, right: float = 0.15
) -> None:
    """Fixed margins in inches (a layout engine would measure every text twice)."""
    width, height = figure.get_size_inches()
    figure.subplots_adjust(
        left=min(left / width, 0.6),
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
    )


def _row_labels(figure: Figure, axes: Axes, at: Sequence[float], labels: Sequence[str]) -> None:
    """Group names left of their rows, as plain texts: a tick per group (two lines, two texts,
    a grid line each) costs twice as much to draw."""
    from matplotlib.transforms import offset_copy

    axes.set_yticks([])
    place = offset_copy(axes.get_yaxis_transform(), fig=figure, x=-4, units="points")
    for y, label in zip(at, labels, strict=True):
        axes.text(0, y, _short(label), transform=place, ha="right", va="center")


def _label_inches(labels: Sequence[str]) -> float:
    return 0.15 + INCH_PER_CHAR * max((len(_short(label)) for label in labels), default=4)


def _series(axes: Axes, chart: BarChart, k: int, span: float) -> None:
    series, kinds = chart.series[k], len(chart.series)
    colour = OKABE_ITO[k % len(OKABE_ITO)]
    thickness = 0.8 / kinds
    ys = [i + (k - (kinds - 1) / 2) * thickness for i in range(len(series.bars))]
    # One call per kind of bar (ordinary, flagged, insufficient): few artists, fast to draw.
    for kind in ("plain", "flagged", "small"):
        chosen = [
            (y, bar)
            for y, bar in zip(ys, series.bars, strict=True)
            if bar.value is not None
            and kind == ("small" if bar.insufficient else "flagged" if bar.flagged else "plain")
        ]
        if not chosen:
            continue
        face = FLAGGED if kind == "flagged" else colour
        axes.barh(
            [y for y, _ in chosen],
            [bar.value or 0.0 for _, bar in chosen],
            height=thickness * 0.9,
            color="white" if kind == "small" else face,
            edgecolor=face,
            hatch="///" if kind == "small" else None,
            linewidth=1,
            label=series.name if kind == "plain" and kinds > 1 else None,
        )
    ranged = [
        (y, bar)
        for y, bar in zip(ys, series.bars, strict=True)
        if bar.value is not None and bar.low is not None and bar.high is not None
    ]
    if ranged:
        axes.errorbar(
            [bar.value or 0.0 for _, bar in ranged],
            [y for y, _ in ranged],
            # A bootstrap percentile interval need not contain its estimate, and a recorded Wilson
            # bound may sit a rounding error beyond it: such an arm is drawn as zero, not refused.
            xerr=[
                [max(0.0, (bar.value or 0.0) - (bar.low or 0.0)) for _, bar in ranged],
                [max(0.0, (bar.high or 0.0) - (bar.value or 0.0)) for _, bar in ranged],
            ],
            fmt="none",
            ecolor="#333333",
            capsize=2,
            linewidth=0.8,
        )
    prefix = f"{series.name}: " if kinds > 1 else ""
    for y, bar in zip(ys, series.bars, strict=True):
        end = max(bar.value or 0.0, bar.high or 0.0)
        axes.text(end + span * 0.015, y, prefix + _bar_text(bar), va="center", fontsize=7)


def _bars(chart: BarChart) -> str:
    labels = [bar.label for bar in chart.series[0].bars]
    count, kinds = len(labels), len(chart.series)
    tops = [
        max(b.high if b.high is not None else b.value or 0.0, b.value or 0.0)
        for s in chart.series
        for b in s.bars
    ]
    top = max([1.0, *tops, *(line.at for line in chart.lines)])
    span = top if chart.unit_range else max(tops or [1.0])
    legend = len(chart.lines) + (kinds if kinds > 1 else 0)
    bottom = 0.5 + 0.2 * ((legend + 1) // 2)
    height = bottom + 0.35 + 0.22 * count * kinds + 0.1
    with _figure(chart.key, 7.2, height) as figure:
        axes: Axes = figure.subplots()
        _margins(figure, left=_label_inches(labels), bottom=bottom)
        for k in range(kinds):
            _series(axes, chart, k, span)
        for n, line in enumerate(chart.lines):
            axes.axvline(
                line.at,
                color="#000000",
                linestyle=STYLES[(n + 1) % 4],
                linewidth=1,
                label=line.label,
            )
        _row_labels(figure, axes, range(count), labels)
        axes.set_ylim(count - 0.5, -0.5)
        axes.set_xlim(0, span * 1.55)
        axes.set_xticks([t / 5 * span for t in range(6)])
        axes.set_xlabel(chart.axis)
        axes.set_title(chart.title)
        if legend:
            figure.legend(loc="lower center", ncols=2, frameon=False, fontsize=7.5)
        return _svg(figure, chart)


def _curves(chart: CurveChart) -> str:
    bottom = 0.6 + 0.19 * ((len(chart.curves) + 2) // 2)
    with _figure(chart.key, 5.4, 4.6 + bottom) as figure:
        axes: Axes = figure.subplots()
        _margins(figure, left=0.6, bottom=bottom)
        axes.plot([0, 1], [0, 1], color="#999999", linestyle=":", linewidth=1, label=chart.diagonal)
        for n, curve in enumerate(chart.curves):
            axes.plot(
                curve.xs,
                curve.ys,
                color=OKABE_ITO[n % len(OKABE_ITO)],
                linestyle=":" if curve.insufficient else STYLES[n % len(STYLES)],
                marker=MARKERS[n % len(MARKERS)],
                markersize=3.5,
                markerfacecolor="white" if curve.insufficient else None,
                linewidth=1.3,
                label=_short(curve.label),
            )
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        axes.set_aspect("equal")
        axes.set_xlabel(chart.x_axis)
        axes.set_ylabel(chart.y_axis)
        axes.set_title(chart.title)
        axes.grid(color="#dddddd", linewidth=0.5)
        figure.legend(loc="lower center", ncols=2, frameon=False, fontsize=7.5)
        return _svg(figure, chart)


def _heatmap(chart: Heatmap) -> str:
    import matplotlib
    import numpy as np

    grid = np.array(
        [[np.nan if v is None else v for v in row] for row in chart.values], dtype=float
    )
    rows, columns = grid.shape
    width = min(10.0, _label_inches(chart.rows) + 0.9 * columns + 0.9)
    bottom = 0.35 + 0.5 * INCH_PER_CHAR * max((len(_short(c)) for c in chart.columns), default=4)
    with _figure(chart.key, width, bottom + 0.45 + 0.42 * rows) as figure:
        axes: Axes = figure.subplots()
        _margins(figure, left=_label_inches(chart.rows), bottom=bottom, right=0.5)
        # Vector cells (pcolormesh), not an embedded bitmap: the page's CSP refuses images.
        image = axes.pcolormesh(
            np.ma.masked_invalid(grid),
            cmap=matplotlib.colormaps["cividis"].resampled(COLOUR_STEPS),
            vmin=0.0,
            vmax=max(1.0, float(np.nanmax(grid)) if np.isfinite(grid).any() else 1.0),
        )
        axes.set_xlim(0, columns)
        axes.set_ylim(rows, 0)
        for r in range(rows):
            for c in range(columns):
                value, small = chart.values[r][c], chart.insufficient[r][c]
                below = chart.bound is not None and value is not None and value < chart.bound
                text = "-" if value is None else f"{value:.2f}"
                if small:
                    text += "\nsmall n"
                elif below:
                    text += f"\n< {chart.bound:g}"
                dark = value is not None and value < 0.55
                axes.text(
                    c + 0.5,
                    r + 0.5,
                    text,
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color="white" if dark and not small else "black",
                )
                if small or value is None:
                    axes.add_patch(_cell(c, r, hatch="///", face="white", edge="#777777"))
                elif below:
                    axes.add_patch(_cell(c, r, hatch=None, face="none", edge=FLAGGED, width=2))
        axes.set_xticks(
            [c + 0.5 for c in range(columns)],
            [_short(c) for c in chart.columns],
            rotation=30,
            ha="right",
        )
        _row_labels(figure, axes, [r + 0.5 for r in range(rows)], chart.rows)
        axes.set_title(chart.title)
        legend = figure.colorbar(image, ax=axes, shrink=0.8, fraction=0.05, pad=0.02)
        if legend.solids is not None:
            legend.solids.set_rasterized(False)  # vector, as above
            legend.solids.set_edgecolor("face")
        return _svg(figure, chart)


def _cell(c: int, r: int, *, hatch: str | None, face: str, edge: str, width: float = 0.8) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle(
        (c, r),
        1,
        1,
        facecolor=face,
        edgecolor=edge,
        hatch=hatch,
        linewidth=width,
        zorder=1.5 if face == "white" else 2,
    )


def chart_svg(chart: Chart) -> str:
    """One chart as an ``<svg role="img">`` element with its ``<title>`` and ``<desc>``."""
    if isinstance(chart, BarChart):
        return _bars(chart)
    if isinstance(chart, CurveChart):
        return _curves(chart)
    return _heatmap(chart)
