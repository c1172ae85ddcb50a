"""How messages word counts, shared by the core and the CLI (standard library only)."""

from __future__ import annotations


def counted(count: int, noun: str) -> str:
    """``1 record``, ``2 records``: a count with its noun in the right number."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
