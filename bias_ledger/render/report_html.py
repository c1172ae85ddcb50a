"""Self-contained HTML rendering of the report: inline CSS and inline SVG charts, no script,
no network, a strict Content-Security-Policy; prints on A4 and Letter."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from html import escape as _escape

from bias_ledger.render.report import (
    Block,
    Bullets,
    Callout,
    Code,
    Figure,
    Heading,
    PageBreak,
    Paragraph,
    ReportData,
    Table,
    report_blocks,
)

_CSS = """
:root{--fail:#b3261e;--warn:#8a5a00;--pass:#1b6e3a;--ink:#1d1d1f;--rule:#c9c9cf}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60rem;margin:1.5rem auto;
padding:0 1rem;color:var(--ink);line-height:1.35;font-size:15px}
h1{font-size:1.6rem;margin:.2rem 0 .4rem}h2{font-size:1.3rem;margin-top:1.6rem}
h3{font-size:1.1rem;margin-top:1.4rem}h4{font-size:1rem}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.85rem;max-width:100%}
th,td{border:1px solid var(--rule);padding:.2rem .4rem;text-align:left;vertical-align:top;
font-variant-numeric:tabular-nums;white-space:pre-line}
td:first-child{overflow-wrap:anywhere;min-width:6rem}td:last-child{min-width:10rem}
th{background:#f0f0f3}
tr.fail td{background:#fde8e6}tr.warn td{background:#fff4d6}
tr.small td{background:repeating-linear-gradient(135deg,#fff,#fff 6px,#f1f1f1 6px,#f1f1f1 8px)}
td.flag{color:var(--fail);font-weight:bold}
pre{background:#f4f4f6;padding:.75rem;overflow-x:auto;white-space:pre-wrap;font-size:.8rem}
.verdict{border:3px solid;border-radius:6px;padding:.5rem .9rem;margin:.6rem 0}
.verdict p{margin:.2rem 0}.verdict .title{font-size:1.25rem;font-weight:bold}
.verdict.fail{border-color:var(--fail)}.verdict.fail .title{color:var(--fail)}
.verdict.warn{border-color:var(--warn)}.verdict.warn .title{color:var(--warn)}
.verdict.pass{border-color:var(--pass)}.verdict.pass .title{color:var(--pass)}
.verdict.info{border-color:var(--rule)}
figure{margin:.8rem 0 1.2rem;break-inside:avoid}
figure svg{display:block;width:100%;max-width:46rem;height:auto}
figcaption{font-size:.8rem;color:#444;max-width:46rem}
table,tr,.verdict,pre{break-inside:avoid}
h2,h3,h4{break-after:avoid}
hr.page{border:0;border-top:1px solid var(--rule);margin:2rem 0}
@page{margin:14mm 12mm}
@media print{
body{max-width:none;margin:0;padding:0;font-size:10.5pt}
table{font-size:7.5pt}th,td{padding:.1rem .2rem}
td:first-child{min-width:0}td:last-child{min-width:5rem}
hr.page{break-after:page;border:0;margin:0}
figure svg{max-width:100%}
table{break-inside:auto}
}
"""
# Belt and braces: nothing could load or run even if something slipped through escaping.
# Styles are inline (the page's and matplotlib's <style> in each SVG); images, fonts, scripts,
# frames, forms and base URLs are all refused.
_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; font-src 'none'; "
    "script-src 'none'; base-uri 'none'; form-action 'none'"
)


def escape(value: str) -> str:
    return _escape(value, quote=True)


def _cell(tag: str, value: str) -> str:
    flagged = value.startswith(("BELOW", "NO ", "FAIL", "fail"))
    attribute = ' class="flag"' if flagged and tag == "td" else ""
    return f"<{tag}{attribute}>{escape(value)}</{tag}>"


def _table(block: Table) -> Iterator[str]:
    """Row by row: a summary table holds a row per record."""
    head = "<tr>" + "".join(_cell("th", h) for h in block.headers) + "</tr>"
    yield (
        f"<table>\n<thead>{head}</thead>\n<tbody>\n"
        if any(block.headers)
        else ("<table>\n<tbody>\n")
    )
    for n, row in enumerate(block.rows):
        tone = block.tones[n] if n < len(block.tones) else ""
        opening = f'<tr class="{escape(tone)}">' if tone else "<tr>"
        yield opening + "".join(_cell("td", c) for c in row) + "</tr>\n"
    yield "</tbody>\n</table>"


def _figure(block: Figure) -> str:
    from bias_ledger.render.charts import chart_svg

    caption = escape(block.chart.description)
    return f"<figure>\n{chart_svg(block.chart)}\n<figcaption>{caption}</figcaption>\n</figure>"


def render_block(block: Block) -> str:
    return "".join(block_html(block))


def block_html(block: Block) -> Iterator[str]:
    """One block's HTML, piece by piece."""
    if isinstance(block, Table):
        return _table(block)
    return iter((_html(block),))


def _html(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{escape(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        return f"<p>{escape(block.text)}</p>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Code):
        return f"<pre><code>{escape(block.text)}</code></pre>"
    if isinstance(block, Callout):
        lines = "".join(f"<p>{escape(line)}</p>" for line in block.lines)
        return (
            f'<section class="verdict {escape(block.tone)}">'
            f'<p class="title">{escape(block.title)}</p>{lines}</section>'
        )
    if isinstance(block, Figure):
        return _figure(block)
    if isinstance(block, PageBreak):
        return '<hr class="page">'
    raise TypeError(f"unknown block {block!r}")


def head(data: ReportData) -> str:
    """The page up to its body's first block."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>bias-ledger report: {escape(data.origin)}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n"
    )


END = "\n</body>\n</html>\n"


def block_text(position: int, block: Block) -> Iterator[str]:
    """The HTML of the report's block at ``position`` (blocks are newline separated)."""
    if position:
        yield "\n"
    yield from block_html(block)


def html_text(data: ReportData, blocks: Iterable[Block]) -> Iterator[str]:
    """The report's page, piece by piece."""
    yield head(data)
    for position, block in enumerate(blocks):
        yield from block_text(position, block)
    yield END


def render_html(data: ReportData) -> str:
    """The report as one HTML page; a pure function of ``data``."""
    return "".join(html_text(data, report_blocks(data)))
