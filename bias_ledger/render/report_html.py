"""Self-contained HTML rendering of the bundle report: inline CSS, no script, no network."""

from __future__ import annotations

from html import escape as _escape

from bias_ledger.bundle.report import Block, Bullets, Code, Heading, Paragraph, ReportData, Table
from bias_ledger.bundle.report import build_report as _build

_CSS = """
body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1rem}
th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;font-variant-numeric:tabular-nums}
th{background:#f3f3f3}
pre{background:#f6f6f6;padding:.75rem;overflow-x:auto}
td.flag{color:#a00;font-weight:bold}
"""
# Belt and braces: even if something slipped through escaping, nothing could load or run.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'"


def escape(value: str) -> str:
    return _escape(value, quote=True)


def _cell(tag: str, value: str) -> str:
    flagged = value.startswith(("BELOW", "NO ", "FAIL", "fail"))
    attribute = ' class="flag"' if flagged and tag == "td" else ""
    return f"<{tag}{attribute}>{escape(value)}</{tag}>"


def render_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{escape(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        return f"<p>{escape(block.text)}</p>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Table):
        head = "<tr>" + "".join(_cell("th", h) for h in block.headers) + "</tr>"
        body = "".join(
            "<tr>" + "".join(_cell("td", c) for c in row) + "</tr>\n" for row in block.rows
        )
        return f"<table>\n<thead>{head}</thead>\n<tbody>\n{body}</tbody>\n</table>"
    if isinstance(block, Code):
        return f"<pre><code>{escape(block.text)}</code></pre>"
    raise TypeError(f"unknown block {block!r}")


def render_html(data: ReportData) -> str:
    """The report as one HTML page; a pure function of ``data``."""
    body = "\n".join(render_block(block) for block in _build(data))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        f"<title>bias-ledger bundle: {escape(data.origin)}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
