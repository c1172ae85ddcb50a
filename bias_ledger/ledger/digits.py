"""Numbers written in decimal digits, as options and file names give them: ASCII digits only,
and never more of them than the number can need.

``str.isdigit`` is true of ``²`` (which ``int`` refuses: an internal ValueError) and of ``٣``
(which ``int`` reads as 3), and ``int`` raises ValueError beyond 4,300 digits (Python's limit on
integer string conversion); ``int`` alone also takes `` 7``, ``+7`` and ``1_0``. Every number
read from text a user or a file gives goes through :func:`parse_digits` or
:func:`record_index`. Standard library and :mod:`bias_ledger.errors` only (the verifier's
trusted core uses it).
"""

from __future__ import annotations

import re

from bias_ledger.errors import InputError

_DIGITS = re.compile(r"[0-9]+")
INDEX_DIGITS = 18
"""Digits of the longest record index: 10**18 - 1 is below 2**63 - 1, the largest tree size
(Go's tlog keeps sizes in an int64), and far below ``int``'s limit."""


def is_digits(text: str) -> bool:
    """Whether ``text`` is one or more ASCII digits (and nothing else)."""
    return _DIGITS.fullmatch(text) is not None


def parse_digits(text: str, *, max_digits: int) -> int | None:
    """The number ``text`` writes in 1 to ``max_digits`` ASCII digits; None for any other text."""
    return int(text) if len(text) <= max_digits and is_digits(text) else None


def shortened(text: str) -> str:
    """``text`` for a message: itself when short, else its first 20 characters and its length."""
    return text if len(text) <= 24 else f"{text[:20]}... ({len(text)} characters)"


def record_index(text: str, *, what: str) -> int | None:
    """The record index ``text`` writes in ASCII digits; None when it is not digits (a bundle
    path, ``latest-approved``: the caller decides), and InputError, naming ``what`` (the
    option), when it has more digits than any index can."""
    if not is_digits(text):
        return None
    if len(text) > INDEX_DIGITS:
        raise InputError(
            f"{what} {shortened(text)}: expected a record index of at most {INDEX_DIGITS} digits"
        )
    return int(text)
