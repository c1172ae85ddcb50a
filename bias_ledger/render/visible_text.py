"""Data text made visible: control and format characters written as escapes, without rich
(the JSON output uses it; :mod:`bias_ledger.render.safe_text` adds rich markup escaping)."""

from __future__ import annotations

from collections.abc import Sequence


def escape_character(ch: str) -> str:
    """``\\x1b`` for ESC, ``\\u202e`` for U+202E: the character's code, visibly."""
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every non-printable character (C0/C1 controls such as ESC, and format
    characters such as U+202E RIGHT-TO-LEFT OVERRIDE) written as ``\\x1b`` or ``\\u202e``."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else escape_character(ch) for ch in text)


def json_safe(text: str) -> str:
    """JSON text whose non-printable characters (left raw by ``ensure_ascii=False``, e.g. C1
    controls and U+202E) are written as ``\\uXXXX`` escapes, as JSON allows."""
    if all(line.isprintable() for line in text.split("\n")):
        return text  # the usual case, without a Python step per character
    return "".join(ch if ch.isprintable() or ch in " \n" else f"\\u{ord(ch):04x}" for ch in text)


def bounded(items: Sequence[str], limit: int, *, separator: str = "; ") -> str:
    """At most ``limit`` items, then "and N more"."""
    shown = separator.join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
