"""One verification core for every kind of evidence: a ledger directory, a bundle, and later
the format-2 tiles of a published log.

* :mod:`.source`: the :class:`Source` interface a kind of evidence implements (its integrity
  checks, and the root of a prefix of its tree), documented there; how to add a source.
* :mod:`.core`: trust (following key rotations and revocations from keys trusted outside the
  evidence, by :func:`bias_ledger.ledger.key_history.follow_keys`), the checkpoint signer's
  trust and ``--since`` (rollback and fork), written once for all sources.
* :mod:`.chain`: checks over runs of records (hash chain, links, checkpoint root).
* :mod:`.result`: the structured checklist and result every report is built from.
* :mod:`.ledger_source`: a ledger directory. The bundle source is
  :mod:`bias_ledger.bundle.verify` (it depends on this package, never the reverse).

The trusted core: standard library, blake3, cryptography and ``bias_ledger.ledger`` only
(``tests/ledger_crypto/test_trusted_core_imports.py``).
"""

from __future__ import annotations

from bias_ledger.verify.chain import (
    check_chain,
    check_checkpoint,
    check_links,
    links_detail,
    unheld_targets,
)
from bias_ledger.verify.core import Kept, verify_source
from bias_ledger.verify.ledger_source import LedgerSource, verify_ledger
from bias_ledger.verify.result import (
    Check,
    Checklist,
    Status,
    UntrustedError,
    Verification,
    VerificationFailed,
)
from bias_ledger.verify.source import Integrity, Source

LedgerVerification = Verification
"""The result of verifying a ledger (the name of earlier versions)."""

__all__ = [
    "Check",
    "Checklist",
    "Integrity",
    "Kept",
    "LedgerSource",
    "LedgerVerification",
    "Source",
    "Status",
    "UntrustedError",
    "Verification",
    "VerificationFailed",
    "check_chain",
    "check_checkpoint",
    "check_links",
    "links_detail",
    "unheld_targets",
    "verify_ledger",
    "verify_source",
]
