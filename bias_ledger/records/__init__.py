"""Payload builders of ledger records, kept out of the CLI so that library callers write the
same records the commands do."""
