"""The error hierarchy and the process exit codes it maps to.

Every failure a user can cause or meet is a subclass of :class:`BiasLedgerError`; the CLI catches
that root type once and prints :meth:`BiasLedgerError.diagnostics` as a single line.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes; documented in the README."""

    OK = 0
    """Success."""
    POLICY_VIOLATED = 1
    """A fairness policy was violated."""
    USAGE = 2
    """Usage or input error: bad options, unreadable or malformed input, unusable ledger."""
    VERIFICATION_FAILED = 3
    """Verification failed: a hash, proof, signature or recomputed number did not match."""


class BiasLedgerError(Exception):
    """Root of every error bias-ledger raises on purpose."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def diagnostics(self) -> str:
        """The one-line, user-facing description of what went wrong."""
        return self.message


class InputError(BiasLedgerError):
    """A data file, column mapping or option is missing, unreadable or malformed."""


class ConfigError(InputError):
    """A configuration file (bias-ledger.toml, pyproject.toml) is malformed."""


class PolicyError(BiasLedgerError):
    """A policy file is malformed or names something that does not exist."""


class KeyFileError(BiasLedgerError):
    """A signing or public key cannot be read, decrypted or parsed."""


class LedgerError(BiasLedgerError):
    """The ledger cannot be used: missing, locked out, unknown format, a record not committed."""


class VerificationError(BiasLedgerError):
    """A check of a ledger or bundle failed: what was expected and what was found."""

    exit_code = ExitCode.VERIFICATION_FAILED


class BundleError(VerificationError):
    """A bundle is malformed, unsafe to unpack, or of an unknown format version."""
