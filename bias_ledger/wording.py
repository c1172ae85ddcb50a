"""How messages word counts, shared by the core and the CLI (standard library only)."""

from __future__ import annotations


def counted(count: int, noun: str) -> str:
    """``1 record``, ``2 records``: a count with its noun in the right number."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


_AN_EXCEPTIONS = ("one", "once", "uni", "usa", "use", "usu", "eu")
"""Words spelt with a vowel first but said with a consonant: ``a unique``, ``a user``."""


def with_article(phrase: str) -> str:
    """``an approval record``, ``a gate record``: ``phrase`` after its indefinite article,
    chosen by how the phrase is spelt (``an`` before a vowel, ``a`` otherwise)."""
    word = phrase.lstrip().lower()
    vowel = word[:1] in ("a", "e", "i", "o", "u") and not word.startswith(_AN_EXCEPTIONS)
    return f"{'an' if vowel else 'a'} {phrase}"
