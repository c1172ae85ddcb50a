"""The writers' lock of a ledger directory (both formats): one writer at a time, readers none.

Apart from :mod:`bias_ledger.ledger.store` so that the witness client, which the format-2
append calls while holding the lock, can take it too without importing the store.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from filelock import FileLock, Timeout

from bias_ledger.errors import LedgerError
from bias_ledger.ledger.files import describe_mode
from bias_ledger.ledger.reader import LOCK_FILE

LOCK_TIMEOUT_SECONDS = 120.0


def _check_lock_file(path: Path) -> None:
    """Refuse a lock file that is a symlink or not a regular file (filelock would follow it)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise LedgerError(f"{path}: is {describe_mode(mode)}, expected a regular lock file")


class _LedgerLock:
    """The writers' lock, with OS errors and timeouts turned into one-line LedgerErrors."""

    def __init__(self, path: Path) -> None:
        self._path = path / LOCK_FILE
        self._lock = FileLock(str(self._path), timeout=LOCK_TIMEOUT_SECONDS)

    def __enter__(self) -> _LedgerLock:
        _check_lock_file(self._path)
        try:
            self._lock.acquire()
        except Timeout as exc:
            raise LedgerError(
                f"{self._path}: another process has held the ledger lock for over "
                f"{LOCK_TIMEOUT_SECONDS:.0f} s"
            ) from exc
        except OSError as exc:
            raise LedgerError(f"{self._path}: cannot lock ({exc.strerror or exc})") from None
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()


def ledger_lock(path: Path) -> _LedgerLock:
    """The lock that serialises writers of one ledger (readers need none)."""
    return _LedgerLock(path)
