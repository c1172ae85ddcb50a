"""A format-2 log read once: every file the verifier reads is pinned, so that what is used after
the verification is the very bytes it verified, whatever is written to the directory meanwhile.

Trusted core: standard library and ``bias_ledger.ledger`` only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import blake3

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.digits import is_digits
from bias_ledger.ledger.tlog_source import DirectorySource, read_tile
from bias_ledger.ledger.tlog_tiles import ENTRIES_LEVEL, Tile


def _partial_tile(path: str) -> Tile | None:
    """The tile a partial tile's path names (``tile/0/x001/234.p/7``), or None."""
    head, sep, width = path.rpartition(".p/")
    if not sep or not head.startswith("tile/") or not is_digits(width):
        return None
    level_name, _, groups = head.removeprefix("tile/").partition("/")
    digits = "".join(part.removeprefix("x") for part in groups.split("/"))
    if not is_digits(digits) or not (level_name == "entries" or is_digits(level_name)):
        return None
    level = ENTRIES_LEVEL if level_name == "entries" else int(level_name)
    return Tile(level, int(digits), int(width))


PINNED_WHOLE = 4096
"""Tiles, and other files up to this size, are kept as read (a partial tile may be pruned by a
writer meanwhile); a larger file (a record) is kept by its BLAKE3 digest, and its bytes read again
are refused unless they hash to it, so the snapshot does not hold the log's records twice."""


class SnapshotSource:
    """A :class:`~bias_ledger.ledger.tlog_source.LogSource` over a ledger directory that reads
    each file at most once and then answers from what it read (absence included).

    It is deliberately not a ``DirectorySource``: the verifier's worker processes open a
    directory source of their own, and would read bytes this snapshot never saw. Once
    :meth:`seal` is called, a file it did not read during the verification is refused.
    """

    def __init__(self, directory: DirectorySource) -> None:
        self._directory = directory
        # Any signature: a directory source that bounds its reads takes the bound by name.
        self._read: Callable[..., bytes | None] = directory.read
        self.name = directory.name
        self._files: dict[str, bytes | None] = {}
        self._digests: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._sealed = False

    def read(self, path: str, limit: int | None = None) -> bytes | None:
        """The file's bytes as first read (None: absent then); ``limit`` is the directory
        source's (a larger file is refused before it is read whole)."""
        with self._lock:
            if path in self._files:
                return self._files[path]
            digest = self._digests.get(path)
            if digest is None and self._sealed:
                raise VerificationError(
                    f"{self.name}/{path}: not read while the ledger was verified, so not relied on"
                )
        data = self._read(path) if limit is None else self._read(path, limit=limit)
        if digest is not None:
            if data is None or blake3.blake3(data).digest() != digest:
                raise VerificationError(
                    f"{self.name}/{path}: changed since the ledger was verified, so not relied on"
                )
            return data
        tile = _partial_tile(path) if data is None else None
        if tile is not None:
            # A writer replaced this partial tile with a wider one since the checkpoint was
            # read: the directory source cuts the first hashes out of the wider version.
            try:
                data = read_tile(self._directory, tile)
            except VerificationError:
                data = None
        if data is not None and len(data) > PINNED_WHOLE and not path.startswith("tile/"):
            pinned = blake3.blake3(data).digest()
            with self._lock:
                # The first bytes pinned win: two threads reading one file see the same bytes.
                if self._digests.setdefault(path, pinned) == pinned:
                    return data
            raise VerificationError(
                f"{self.name}/{path}: changed while the ledger was verified, so not relied on"
            )
        with self._lock:
            # The first bytes pinned win: two threads reading one file see the same bytes.
            return self._files.setdefault(path, data)

    def seal(self) -> None:
        """From now on, answer only from the files already read."""
        with self._lock:
            self._sealed = True
