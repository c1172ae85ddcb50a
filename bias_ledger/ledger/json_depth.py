"""How deeply JSON text nests arrays and objects, found with bytes methods running in C (a
translation, a few replacements): no parse, and no Python loop over the bytes of ordinary text.

Parsers recurse once per level: Python's json gives up near 1,000 levels, and what reads the
values recurses again (rendering a record 500 levels deep overflowed Python's stack), while
pyarrow's JSON parser recurses in C and crashes the process (a segfault) some thousands deep.
The canonical decoder refuses a record nested more than :data:`RECORD_DEPTH` deep (the deepest
record bias-ledger writes nests 13), and the JSON Lines reader refuses input nested more deeply
than its limit before pyarrow reads it. Standard library only (the verifier's trusted core).

A scan counts the arrays and objects open at each point of the text, which for valid JSON is
exactly its nesting. For any other text the count is never below what a parser reaches before
it stops at the first error, which is what makes it safe to scan text before parsing it:

- a string ends at its closing quote or at the end of its line (a raw newline is an error in
  a JSON string), and a backslash escapes the byte after it when that is one a JSON escape
  may hold (``"\\/bfnrtu``) or a bracket, a brace or a quote; after any other a parser stops
  (an invalid escape, or a backslash outside a string), and what the count says of the rest of
  that line no longer matters;
- a closer with nothing open is ignored (a parser stops there);
- the count carries over newlines (a parser reads a value across lines), and from one piece of
  a stream to the next (:class:`Nesting`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

RECORD_DEPTH = 64
"""The deepest nesting of arrays and objects a record may have: the deepest record bias-ledger
writes (an audit's multiclass results) nests 13 levels; every committed fixture is within it."""

_KEPT = b'[]{}"\n'
_BRACKETS = bytes.maketrans(b"{}", b"[]")
"""Objects nest as arrays do: ``{`` and ``}`` are counted as ``[`` and ``]``."""
_DROPPED = bytes(sorted(set(range(256)) - set(_KEPT)))
_ESCAPED = b"/bfnrtu"
"""What a JSON escape holds besides a quote or a backslash: kept, as ``_``, while escapes are
resolved, so that a backslash is never taken to escape a bracket or quote further on."""
_WITH_ESCAPES = bytes.maketrans(b"{}" + _ESCAPED, b"[]" + b"_" * len(_ESCAPED))
_DROPPED_WITH_ESCAPES = bytes(sorted(set(range(256)) - set(_KEPT + b"\\" + _ESCAPED)))
_ESCAPE = re.compile(rb"\\[^\n]")
_STRING = re.compile(rb'"[^"\n]*"?')
"""A string, of which only brackets and quotes are left: to its closing quote or its line's end."""
_OPEN, _CLOSE = ord("["), ord("]")


@dataclass(frozen=True)
class Nesting:
    """Where a scan of a stream stands after a piece of it, to carry to the next."""

    depth: int = 0
    """Arrays and objects open at the end of the text scanned."""
    in_string: bool = False
    """Whether the text ended inside a string."""
    escaped: bool = False
    """Whether it ended just after a backslash (its next byte is escaped)."""
    lines: int = 0
    """Newlines scanned."""
    deep_line: int | None = None
    """The line (from 1) where the nesting first went beyond the limit; None if it never did."""


def scan(data: bytes, limit: int, state: Nesting = Nesting()) -> Nesting:
    """Scan ``data`` on from ``state``, noting the first line nested more than ``limit`` deep.

    On ordinary text this is a few passes of bytes methods; only a piece with arrays left open
    across it, or deeper than ``limit``, is counted byte by byte, to be exact.
    """
    if not data:
        return state
    if state.escaped and data[:1] != b"\n":
        data = data[1:]
    escaped = False
    if b"\\" in data:  # resolved on what is kept of the text: far less than the text
        text, escaped = _unescaped(data.translate(_WITH_ESCAPES, _DROPPED_WITH_ESCAPES))
        text = text.translate(None, b"_\\")  # a backslash before a newline is left
    else:
        text = data.translate(_BRACKETS, _DROPPED)
    if state.in_string:
        text = b'"' + text
    in_string = text.count(b'"', text.rfind(b"\n") + 1) % 2 == 1
    if b'"' in text:
        text = text.replace(b'""', b"")  # most strings hold no bracket; the pairing is kept
        if b'"' in text:
            text = _STRING.sub(b"", text)
    after = Nesting(state.depth, in_string, escaped, state.lines + text.count(b"\n"))
    flat = text.replace(b"\n", b"")
    rounds = _rounds(flat, limit)
    if rounds is not None:
        rest, height = rounds
        closers = len(rest) - len(rest.lstrip(b"]"))
        openers = len(rest) - closers
        if state.depth + openers + height <= limit:
            return replace(after, depth=max(0, state.depth - closers) + openers)
    return _counted(text, limit, state, after)


def _unescaped(data: bytes) -> tuple[bytes, bool]:
    """``data`` without its backslashes and the bytes they escape (not a newline), and whether
    it ends with a backslash escaping the next piece's first byte."""
    parts = data.split(b"\\", len(data) >> 6)
    if len(parts) > len(data) >> 6:  # backslashes everywhere: one regex beats a Python loop
        data = _ESCAPE.sub(b"", data)
        return data, data.endswith(b"\\")
    kept, active = [parts[0]], True
    for part in parts[1:]:  # each follows a backslash; ``active``: that backslash escapes
        if not active or part[:1] == b"\n":
            kept.append(part)
            active = True
        elif part:
            kept.append(part[1:])
        else:  # it escapes the next backslash
            active = False
    return b"".join(kept), not active


def _rounds(flat: bytes, limit: int) -> tuple[bytes, int] | None:
    """What is left of ``flat`` once every matched ``[]`` is gone (``]`` then ``[``, those
    never matched), and how many rounds it took (the height of the matched arrays); None when
    matched arrays nest more than ``limit`` deep.

    Each round removes the innermost pairs, so a matched array nested ``h`` deep is gone after
    exactly ``h`` rounds.
    """
    for height in range(limit + 1):
        smaller = flat.replace(b"[]", b"")
        if len(smaller) == len(flat):
            return flat, height
        flat = smaller
    return None


def _counted(text: bytes, limit: int, state: Nesting, after: Nesting) -> Nesting:
    """The exact count over ``text`` (brackets and newlines only), byte by byte."""
    depth, lines = state.depth, state.lines
    for byte in text:
        if byte == _OPEN:
            depth += 1
            if depth > limit:
                return replace(after, depth=depth, deep_line=lines + 1)
        elif byte == _CLOSE:
            depth = max(depth - 1, 0)
        else:
            lines += 1
    return replace(after, depth=depth)


def nested_deeper(data: bytes, limit: int) -> bool:
    """Whether the JSON text ``data`` nests arrays and objects more than ``limit`` deep."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    return scan(data, limit).deep_line is not None
