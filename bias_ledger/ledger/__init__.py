"""The append-only ledger: record model, canonical encoding, hashing, Merkle tree, signatures."""
