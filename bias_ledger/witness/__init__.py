"""Witnesses (c2sp.org/tlog-witness): a cosigning server, the ledger's client, the quorum policy."""
