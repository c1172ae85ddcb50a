"""The regulations a policy or an audit may name (``standard = "nyc-ll144"``).

Here, below :mod:`bias_ledger.standards` (which computes what each one asks for), so that
reading a policy does not import the standards that import policies.
"""

from __future__ import annotations

from enum import StrEnum

from bias_ledger.errors import InputError


class Standard(StrEnum):
    """A regulation whose bias-audit tables ``audit --standard`` produces."""

    NYC_LL144 = "nyc-ll144"
    """New York City Local Law 144 of 2021, rules at 6 RCNY §§ 5-300 to 5-304."""


def parse_standard(value: str, *, where: str = "--standard") -> Standard:
    """The standard named ``value``; InputError listing the known ones otherwise."""
    try:
        return Standard(value)
    except ValueError:
        known = ", ".join(repr(item.value) for item in Standard)
        raise InputError(f"{where} {value!r}: expected one of {known}") from None
