"""Audits shaped by a regulation: the tables a rule asks for, computed by the rule's definitions.

Which regulations exist is :mod:`bias_ledger.policy.standard` (re-exported here).
"""

from __future__ import annotations

from bias_ledger.policy.standard import Standard, parse_standard

__all__ = ["Standard", "parse_standard"]
