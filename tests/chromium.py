"""Headless Chromium (Debian's, through playwright) opening a rendered HTML report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Rendered:
    """What Chromium showed of a report."""

    heading: str
    """The text of its ``h1``."""
    errors: list[str]
    """Console messages and page errors, in order."""
    requests: list[str]
    """Every URL the page requested (the report itself first)."""
    colour: str | None
    """The computed colour of the element ``colour_of`` named, if one was named."""


def render_in_chromium(path: Path, *, colour_of: str | None = None) -> Rendered:
    """Open ``path`` in headless Chromium; skips the test if playwright or Chromium is absent."""
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Debian's chromium is not installed")
    errors: list[str] = []
    requests: list[str] = []
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(chromium))
        page = browser.new_page()
        page.on("console", lambda message: errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(path.as_uri())
        heading = page.inner_text("h1")
        colour = (
            None
            if colour_of is None
            else page.eval_on_selector(colour_of, "e => getComputedStyle(e).color")
        )
        browser.close()
    return Rendered(heading, errors, requests, colour)
