"""Terminal-safe text: control and bidirectional characters that come from data (group names,
file names, messages quoting them) are shown as visible escapes, never obeyed by the terminal.

``visible`` is applied where a renderer takes data text; :class:`ControlCharacterFilter` is a
safety net on the CLI's consoles that catches whatever a renderer missed.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, ConsoleRenderable, RenderHook, RenderResult
from rich.markup import escape
from rich.measure import Measurement
from rich.segment import Segment

from bias_ledger.render.visible_text import bounded, escape_character, json_safe, visible

__all__ = ["ControlCharacterFilter", "bounded", "install", "json_safe", "safe", "visible"]


def safe(text: str) -> str:
    """Data text for a rich markup string: visible, and with markup escaped."""
    return escape(visible(text))


class _Filtered:
    """A renderable whose segments have their control characters made visible."""

    def __init__(self, inner: ConsoleRenderable) -> None:
        self.inner = inner

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for segment in console.render(self.inner, options):
            if segment.control or segment.text.isprintable() or segment.text == "\n":
                yield segment
            else:
                cleaned = "".join(
                    ch if ch.isprintable() or ch in " \n" else escape_character(ch)
                    for ch in segment.text
                )
                yield Segment(cleaned, segment.style)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.inner)


class ControlCharacterFilter(RenderHook):
    """Installed on the CLI's consoles: nothing printed can move the cursor or repaint."""

    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        return [_Filtered(item) for item in renderables]


def install(console: Console, hooks: Iterable[RenderHook] = ()) -> Console:
    console.push_render_hook(ControlCharacterFilter())
    for hook in hooks:
        console.push_render_hook(hook)
    return console
