"""bias-ledger: fairness audits of ML models, recorded in a signed, append-only ledger."""

__version__ = "0.1.0"
