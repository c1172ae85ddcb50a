"""Terminal-safe text: control and bidirectional characters that come from data (group names,
file names, messages quoting them) are shown as visible escapes, never obeyed by the terminal.

``visible`` is applied where a renderer takes data text; :class:`ControlCharacterFilter` is a
safety net on the CLI's consoles that catches whatever a renderer missed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console, ConsoleOptions, ConsoleRenderable, RenderHook, RenderResult
from rich.markup import escape
from rich.measure import Measurement
from rich.segment import Segment


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every non-printable character (C0/C1 controls such as ESC, and format
    characters such as U+202E RIGHT-TO-LEFT OVERRIDE) written as ``\\x1b`` or ``\\u202e``."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else _escape(ch) for ch in text)


def safe(text: str) -> str:
    """Data text for a rich markup string: visible, and with markup escaped."""
    return escape(visible(text))


def json_safe(text: str) -> str:
    """JSON text whose non-printable characters (left raw by ``ensure_ascii=False``, e.g. C1
    controls and U+202E) are written as ``\\uXXXX`` escapes, as JSON allows."""
    return "".join(ch if ch.isprintable() or ch in " \n" else f"\\u{ord(ch):04x}" for ch in text)


def bounded(items: Sequence[str], limit: int, *, separator: str = "; ") -> str:
    """At most ``limit`` items, then "and N more"."""
    shown = separator.join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


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
                    ch if ch.isprintable() or ch in " \n" else _escape(ch) for ch in segment.text
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
