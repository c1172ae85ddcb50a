"""What a command does, callable from Python: gate, verify and export.

``cli/`` parses options, calls these functions and renders what they return; ``bias_ledger.api``
(``Ledger.gate``, ``Ledger.verify``, ``Ledger.export``) calls the same functions, so a verdict
recorded from a notebook is the record ``bias-ledger gate`` appends. Each returns a frozen result
object and raises :mod:`bias_ledger.errors` types; none prints.
"""
