"""Record workflows: the payload of each record kind, and signing and appending it.

The CLI and the Python API (:mod:`bias_ledger.api`) both build records here, so a record made
from Python is the same record the command line makes.
"""
