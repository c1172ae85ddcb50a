"""Escaping properties: any group name renders as exactly itself, in Markdown and in HTML."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bias_ledger.render.report_blocks import text
from bias_ledger.render.report_html import escape as html_escape
from bias_ledger.render.report_md import escape as md_escape

markdown_it = pytest.importorskip("markdown_it")

SPECIALS = "\\`*_{}[]()<>#|!~&=+-@\"' :/.\t\n\r\u202e"
names = st.text(
    alphabet=st.one_of(st.sampled_from(SPECIALS), st.characters(exclude_categories=["Cs"])),
    max_size=40,
)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _rendered(markup: str) -> tuple[str, list[str]]:
    parser = _Text()
    parser.feed(markup)
    return "".join(parser.parts), parser.tags


def test_text_neutralises_formulas_and_controls() -> None:
    assert text('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    assert [text(v)[0] for v in ("+1", "-1", "@A1")] == ["'"] * 3
    assert text("\tx") == " x"
    assert text("a\nb\u202ec") == "a b c"
    assert text("plain") == "plain"


@settings(max_examples=300, deadline=None)
@given(names)
def test_markdown_table_cell_renders_literally(name: str) -> None:
    shown = text(name)
    source = f"| h |\n|---|\n| {md_escape(shown)} |\n"
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(source)
    body, tags = _rendered(rendered)
    assert [t for t in tags if t not in {"table", "thead", "tbody", "tr", "th", "td"}] == []
    assert body.split("h", 1)[1].strip() == shown.strip()


@settings(max_examples=300, deadline=None)
@given(names)
def test_markdown_paragraph_renders_literally(name: str) -> None:
    shown = "name: " + text(name)
    rendered = markdown_it.MarkdownIt("commonmark").render(md_escape(shown) + "\n")
    body, tags = _rendered(rendered)
    assert tags == ["p"]
    assert body.strip() == shown.strip()


@settings(max_examples=300, deadline=None)
@given(names)
def test_html_renders_literally(name: str) -> None:
    shown = text(name)
    body, tags = _rendered(f"<td>{html_escape(shown)}</td>")
    assert tags == ["td"]
    assert body == shown
    assert html.unescape(html_escape(shown)) == shown
