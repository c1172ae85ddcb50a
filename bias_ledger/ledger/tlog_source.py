"""Where a format-2 log is read from: a ledger or published directory, or a static HTTP server.

Both hold the same C2SP tlog-tiles layout (``checkpoint``, ``tile/...``, ``records/...``); a
source only fetches bytes by relative path, so the verifier is written once for both.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.tlog_tiles import HASH_SIZE, TILE_WIDTH, Tile

if TYPE_CHECKING:
    import httpx

MAX_FETCH_BYTES = 64 << 20
"""The largest file a source hands out (a record); anything bigger is refused."""


class LogSource(Protocol):
    """Read-only access to a tiled log's files by their relative path."""

    name: str
    """The directory or URL, for messages."""

    def read(self, path: str) -> bytes | None:
        """The file's bytes, or None when it does not exist."""
        ...


class DirectorySource:
    """A log in a local directory (a format-2 ledger or a ``publish`` output)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.name = str(root)
        self._prefix = os.path.join(str(root), "")

    def read(self, path: str) -> bytes | None:
        target = self._prefix + path  # a str join: pathlib costs more than the read
        try:
            with open(target, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size > MAX_FETCH_BYTES:
                    raise VerificationError(f"{target}: {size} bytes, more than a log file holds")
                return handle.read()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise VerificationError(f"{target}: cannot read ({exc.strerror})") from exc


class HttpSource:
    """A log published on a static web server, read with httpx: one client (one pooled
    connection) per reading thread, since threads sharing a client's pool wait on each other."""

    read_workers = 2
    """Concurrent requests for records (static servers often close every connection);
    measured on loopback against ``python -m http.server``, more only add contention."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.name = base_url
        self._base = base_url.rstrip("/") + "/"
        self._timeout = timeout
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._lock = threading.Lock()

    def _client(self) -> httpx.Client:
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            import httpx

            client = httpx.Client(timeout=self._timeout, follow_redirects=False)
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def read(self, path: str) -> bytes | None:
        import httpx

        url = self._base + path
        try:
            with self._client().stream("GET", url) as response:
                if response.status_code == 404:
                    return None
                if response.status_code != 200:
                    raise VerificationError(f"{url}: HTTP {response.status_code}")
                chunks: list[bytes] = []
                total = 0
                for chunk in response.iter_bytes():
                    total += len(chunk)
                    if total > MAX_FETCH_BYTES:
                        raise VerificationError(f"{url}: more than {MAX_FETCH_BYTES} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError as exc:
            raise VerificationError(f"{url}: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()


def open_source(location: str | Path) -> DirectorySource | HttpSource:
    """A source for ``http(s)://...`` URLs or a directory path."""
    text = str(location)
    if text.startswith(("http://", "https://")):
        return HttpSource(text)
    return DirectorySource(Path(text))


def read_tile(source: LogSource, tile: Tile) -> bytes:
    """A tile's bytes; a missing partial tile is cut from the full tile or a wider one.

    Writers replace the partial tile of a ledger as it grows, so a reader holding an older
    checkpoint finds its width gone; the first ``width`` hashes (entries) of any wider version
    are the same ones, and the verifier checks them against the signed root anyway.
    """
    data = source.read(tile.path())
    if data is not None:
        return data
    if tile.width < TILE_WIDTH:
        candidates = [tile.full_path()]
        if isinstance(source, DirectorySource):
            partial_dir = source.root / (tile.full_path() + ".p")
            if partial_dir.is_dir():
                widths = sorted(int(n) for n in os.listdir(partial_dir) if n.isdigit())
                candidates = [
                    f"{tile.full_path()}.p/{w}" for w in widths if w > tile.width
                ] + candidates
        for candidate in candidates:
            wider = source.read(candidate)
            if wider is not None:
                return _prefix(wider, tile)
    raise VerificationError(f"{source.name}/{tile.path()}: tile missing")


def _prefix(data: bytes, tile: Tile) -> bytes:
    if tile.level >= 0:
        return data[: tile.width * HASH_SIZE]
    offset = 0
    for _ in range(tile.width):
        if offset + 2 > len(data):
            break
        offset += 2 + int.from_bytes(data[offset : offset + 2], "big")
    return data[:offset]
