"""How messages word counts, shared by the core and the CLI (standard library only)."""

from __future__ import annotations


def counted(count: int, noun: str) -> str:
    """``1 record``, ``2 records``: a count with its noun in the right number."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


_CONSONANT_SOUNDS = ("one", "once", "uni", "usa", "use", "usu", "uti", "eu")
"""Spelt with a vowel first, said with a consonant: ``a unique``, ``a user``, ``a one-off``."""


def with_article(phrase: str) -> str:
    """``an approval``, ``an audit``, ``a gate``, ``a key_rotation``: ``phrase`` after its
    indefinite article, chosen by how it is spelt (``an`` before a vowel, ``a`` otherwise;
    quotes before the word are skipped: ``an 'approval'``)."""
    word = phrase.lstrip(" '\"`").lower()
    vowel = word[:1] in ("a", "e", "i", "o", "u") and not word.startswith(_CONSONANT_SOUNDS)
    return f"{'an' if vowel else 'a'} {phrase}"
