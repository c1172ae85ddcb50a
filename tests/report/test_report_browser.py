"""The HTML report in real headless Chromium: it renders, its charts are there and described,
nothing runs, nothing is fetched, hostile names stay text, and it fits A4 and Letter pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
A4_WIDTH_PX = 794 - 2 * 45
"""210 mm at 96 px/inch, less the page's 12 mm margins."""

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


class Opened:
    def __init__(self, browser: Any, path: Path, width: int = 1100) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.console: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url, wait_until="load")

    def evaluate(self, script: str) -> Any:
        return self.page.evaluate(script)


def _open(browser: Any, path: Path, width: int = 1100) -> Opened:
    return Opened(browser, path, width)


@pytest.mark.parametrize("name", ["passing", "failing", "hostile"])
def test_renders_without_errors_or_requests(
    browser: Any, reports: dict[str, Path], name: str
) -> None:
    opened = _open(browser, reports[f"{name}.html"])
    assert opened.console == [] and opened.errors == []
    assert opened.requests == [opened.url]
    assert opened.evaluate("document.scripts.length") == 0
    assert opened.evaluate("document.images.length") == 0
    charts = opened.evaluate(
        """[...document.querySelectorAll('svg[role=img]')].map(s => ({
            label: s.getAttribute('aria-label'), title: s.querySelector('title')?.textContent,
            desc: s.querySelector('desc')?.textContent, width: s.getBoundingClientRect().width,
            texts: s.querySelectorAll('text').length}))"""
    )
    assert charts, "no chart"
    for chart in charts:
        assert chart["label"] and chart["label"] == chart["title"] and chart["desc"]
        assert chart["width"] > 200 and chart["texts"] > 3
    opened.page.close()


def test_charts_of_a_scored_audit(browser: Any, reports: dict[str, Path]) -> None:
    opened = _open(browser, reports["passing.html"])
    titles = opened.evaluate(
        "[...document.querySelectorAll('svg[role=img] > title')].map(t => t.textContent)"
    )
    for expected in (
        "Selection rate per group: sex",
        "Impact ratios: race_ethnicity",
        "True and false positive rates per group: race_ethnicity",
        "ROC curves per group: race_ethnicity",
        "Reliability diagram per group: sex",
        "Impact ratio by intersection: sex x race_ethnicity",
    ):
        assert expected in titles
    # The ROC legend carries each group's recorded AUC, drawn as text in the SVG.
    assert "(AUC 0." in opened.evaluate("document.body.innerText + " + _svg_text())
    opened.page.close()


def _svg_text() -> str:
    return "[...document.querySelectorAll('svg text')].map(t => t.textContent).join('|')"


def test_failing_audit_says_so_first(browser: Any, reports: dict[str, Path]) -> None:
    opened = _open(browser, reports["failing.html"])
    verdict = opened.page.locator(".verdict").first
    assert verdict.inner_text().startswith("Policy every-group: FAIL")
    assert verdict.bounding_box()["y"] < 400  # on the first screen
    first_rule = opened.page.locator("tr.fail").first
    assert "FAIL" in first_rule.inner_text()
    assert first_rule.bounding_box()["y"] < 900
    # 60 intersectional groups: the intersections are heatmaps, and the list at issue is bounded.
    text = opened.evaluate("document.body.innerText")
    assert "Impact ratio by intersection: sex x race_ethnicity x age_band" in text
    assert re.search(r" and \d+ more", first_rule.inner_text())
    # Groups with insufficient data are hatched (an SVG pattern) in the heatmaps.
    assert opened.evaluate("document.querySelectorAll('svg pattern').length") > 0
    opened.page.close()


def test_hostile_names_are_text(browser: Any, reports: dict[str, Path]) -> None:
    opened = _open(browser, reports["hostile.html"])
    assert opened.errors == [] and opened.console == []
    assert opened.evaluate("document.querySelectorAll('script, img, iframe, b').length") == 0
    shown = opened.evaluate("document.body.innerText") + opened.evaluate(_svg_text())
    assert "<script>alert(1)</script>" in shown
    assert "</svg><img src=x onerror=alert(2)>" in shown
    assert "$\\frac{1}{0}$" in shown  # not read as mathtext
    assert "\x1b" not in shown and "\u202e" not in shown
    opened.page.close()


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_prints_on_paper(browser: Any, reports: dict[str, Path], paper: str) -> None:
    opened = _open(browser, reports["failing.html"], width=A4_WIDTH_PX)
    opened.page.emulate_media(media="print")
    overflow = opened.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the printed page is {overflow}px too wide"
    pdf = opened.page.pdf(format=paper, print_background=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ")
    opened.page.close()
