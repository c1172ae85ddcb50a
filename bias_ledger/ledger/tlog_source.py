"""Where a format-2 log is read from: a ledger or published directory, or a static HTTP server.

Both hold the same C2SP tlog-tiles layout (``checkpoint``, ``tile/...``, ``records/...``); a
source only fetches bytes by relative path, so the verifier is written once for both.
"""

from __future__ import annotations

import os
import queue
import socket
import stat
import threading
import time
import urllib.parse
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bias_ledger.errors import InputError, VerificationError
from bias_ledger.ledger.digits import is_digits
from bias_ledger.ledger.files import not_regular_message
from bias_ledger.ledger.tlog_tiles import HASH_SIZE, TILE_WIDTH, Tile

if TYPE_CHECKING:
    import http.client

MAX_FETCH_BYTES = 64 << 20
"""The largest file a source hands out (a record); anything bigger is refused."""
MAX_CHECKPOINT_BYTES = 256 << 10
"""The largest ``checkpoint`` a log may publish: a signed note, a few hundred bytes with
Ed25519 cosignatures, but signed-note asks verifiers to "accept at least up to 16 signatures"
and warns that "post-quantum signatures can be up to nearly 5kB": 16 of those take about
110 KB in base64, and this leaves room for 38. The witness server reads a request of this plus
its proof lines (``witness.protocol.MAX_BODY_BYTES``). docs/FORMAT.md says so."""
_CHUNK = 1 << 20
"""Bytes asked of an HTTP answer per read (a record usually arrives in one)."""
REQUEST_DEADLINE_SECONDS = 300.0
"""The longest one file may take to arrive over HTTP, however steadily it trickles in."""

_OPEN_FLAGS = (
    os.O_RDONLY
    | os.O_NONBLOCK  # opening a FIFO must not wait for a writer (it is then refused)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


class FileTooLarge(VerificationError):
    """A file larger than its limit, refused before it was read whole."""


class LogSource(Protocol):
    """Read-only access to a tiled log's files by their relative path."""

    name: str
    """The directory or URL, for messages."""

    def read(self, path: str, limit: int = MAX_FETCH_BYTES) -> bytes | None:
        """The file's bytes, or None when it does not exist; :class:`FileTooLarge` when it
        holds more than ``limit`` bytes."""
        ...


class DirectorySource:
    """A log in a local directory (a format-2 ledger or a ``publish`` output)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.name = str(root)
        self._prefix = os.path.join(str(root), "")

    def read(self, path: str, limit: int = MAX_FETCH_BYTES) -> bytes | None:
        target = self._prefix + path  # a str join: pathlib costs more than the read
        try:
            # os-level calls: no file object, and one read of the known size (a record is
            # read whole; a file that changes meanwhile fails its hash check anyway).
            descriptor = os.open(target, _OPEN_FLAGS)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise VerificationError(f"{target}: cannot read ({exc.strerror})") from exc
        try:
            found = os.fstat(descriptor)
            if not stat.S_ISREG(found.st_mode):  # a FIFO would block, /dev/zero never end
                raise VerificationError(not_regular_message(target, found.st_mode))
            size = found.st_size
            if size > limit:
                raise FileTooLarge(f"{target}: {size} bytes, more than the {limit} it may hold")
            data = os.read(descriptor, size)
            while len(data) < size:  # a short read (rare): read on
                more = os.read(descriptor, size - len(data))
                if not more:
                    break
                data += more
            return data
        except OSError as exc:
            raise VerificationError(f"{target}: cannot read ({exc.strerror})") from exc
        finally:
            os.close(descriptor)


class HttpSource:
    """A log published on a static web server, read over HTTP/1.1 with the standard library's
    ``http.client``: one connection per concurrent request, kept alive and reused when the
    server allows it (``python -m http.server`` answers HTTP/1.0 and closes each one; a
    reused connection the server has since closed is reopened once). Through a proxy (the
    ``*_proxy`` environment variables) requests go through httpx instead, which honours them.
    Requests accept gzip (:data:`ACCEPT_ENCODING`) and gzipped answers are unzipped. Redirects
    are refused, as any status other than 200 and 404. Each file must arrive within
    ``deadline`` seconds, and each read within ``timeout``."""

    read_workers = 2
    """Concurrent requests for records per process (one per core work on bundles, so twice
    this in all): static servers often close every connection, and requests in flight hide
    the set-up, but ``python -m http.server`` listens with a backlog of 5 connections, and
    more than that at once are dropped and retried a second later (measured on loopback: 8
    in flight took 25 ms a record, 2 to 4 under 1 ms)."""
    kept_alive_workers = 8
    """Concurrent requests per process once the server has kept a connection alive: no new
    connection per request, so no backlog to overflow, and from a distant server (tens of ms
    a round trip) the requests in flight are what hide the latency."""

    def __init__(
        self, base_url: str, *, timeout: float = 30.0, deadline: float = REQUEST_DEADLINE_SECONDS
    ) -> None:
        self.name = base_url.rstrip("/")  # messages join it with "/path": no double slash
        self._base = self.name + "/"
        self._timeout = timeout
        self._deadline = deadline
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._clients: list[Any] = []
        self._lock = threading.Lock()
        parts = urllib.parse.urlsplit(self._base)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._target = parts.path  # each request's target: this + the file's relative path
        self._proxied = _proxied(parts.scheme, self._host)
        self.kept_alive = False
        """Whether the server has kept a connection open after an answer."""

    @property
    def workers(self) -> int:
        """Requests to have in flight: more once the server keeps connections alive."""
        return self.kept_alive_workers if self.kept_alive else self.read_workers

    def _connection(self) -> Any:
        # Here: a local ledger's append reads tiles and never needs http.client.
        from bias_ledger.ledger.http_deadline import deadline_connection

        try:
            return self._idle.get_nowait()
        except queue.Empty:
            client: Any
            if self._proxied:
                import httpx

                # A gzipped answer is read raw and unzipped by _decoded, within the limit
                # (httpx's own decoding inflates a whole body before any limit sees it).
                client = httpx.Client(
                    timeout=self._timeout,
                    follow_redirects=False,
                    headers={"Accept-Encoding": ACCEPT_ENCODING},
                )
            else:
                scheme = "https" if self._https else "http"
                client = deadline_connection(scheme, self._host, self._port, timeout=self._timeout)
            with self._lock:
                self._clients.append(client)
            return client

    def read(self, path: str, limit: int = MAX_FETCH_BYTES) -> bytes | None:
        import http.client

        url = self._base + path
        client = self._connection()
        deadline = time.monotonic() + self._deadline
        try:
            if self._proxied:
                return _read_httpx(client, url, deadline, limit)
            target = self._target + path
            client.deadline = deadline
            reused = client.sock is not None
            try:
                response = _answer(client, target)
            except (http.client.BadStatusLine, ConnectionResetError, BrokenPipeError):
                # A kept-alive connection the server closed (or left bytes of its last answer
                # on, beyond their Content-Length): reopened once, before any answer was read.
                # A fresh connection's failure, or one in the body, is the server's answer.
                if not reused:
                    raise
                client.close()
                response = _answer(client, target)
            if not response.will_close:
                self.kept_alive = True
            try:
                return _read_body(client, response, url, limit)
            finally:
                # An answer abandoned mid-body holds the socket's reader: closed here, not by
                # the garbage collector (whose "unclosed socket" warning lands anywhere).
                response.close()
        except (OSError, http.client.HTTPException) as exc:
            if not self._proxied:
                client.close()  # reopened by its next request (an httpx client would not be)
            if isinstance(exc, ConnectionRefusedError | socket.gaierror):
                # No server answered: the verification could not be performed (exit 2), unlike
                # a server that answers wrongly or lacks a file the checkpoint needs (exit 3).
                raise InputError(
                    f"{url}: cannot connect to the server ({exc.strerror or exc}); expected a "
                    "reachable published log"
                ) from None
            raise VerificationError(f"{url}: {type(exc).__name__}: {exc}") from exc
        finally:
            self._idle.put(client)

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()


def _proxied(scheme: str, host: str) -> bool:
    import urllib.request

    proxies = urllib.request.getproxies()
    wanted = proxies.get(scheme) or proxies.get("all")
    return bool(wanted) and not urllib.request.proxy_bypass(host)


ACCEPT_ENCODING = "gzip, identity"
"""What requests accept: tlog-tiles lets a log gzip its files unasked (``Content-Encoding: gzip``
with no negotiation) and asks clients to name ``gzip`` and ``identity``."""


def _answer(connection: http.client.HTTPConnection, target: str) -> http.client.HTTPResponse:
    """Send the request and read the answer's status line and headers."""
    connection.request("GET", target, headers={"Accept-Encoding": ACCEPT_ENCODING})
    return connection.getresponse()


def _decoded(data: bytes, encoding: str | None, url: str, limit: int) -> bytes:
    """The body without its ``Content-Encoding`` (gzip or none), at most ``limit`` bytes."""
    coding = (encoding or "identity").strip().lower()
    if coding == "identity":
        return data
    if coding not in ("gzip", "x-gzip"):
        raise VerificationError(f"{url}: Content-Encoding {encoding!r}, expected gzip or none")
    parts: list[bytes] = []
    total, rest = 0, data
    while True:  # a gzip stream may hold several members, one after the other
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            part = decompressor.decompress(rest, limit + 1 - total)
        except zlib.error as exc:
            raise VerificationError(f"{url}: Content-Encoding gzip, but not gzip: {exc}") from None
        total += len(part)
        if total > limit:
            raise FileTooLarge(f"{url}: more than the {limit} bytes it may hold, once unzipped")
        if not decompressor.eof:
            raise VerificationError(f"{url}: Content-Encoding gzip, but the gzip stream is cut")
        parts.append(part)
        rest = decompressor.unused_data
        if not rest:
            return b"".join(parts)


def _read_body(
    connection: http.client.HTTPConnection,
    response: http.client.HTTPResponse,
    url: str,
    limit: int,
) -> bytes | None:
    """The answer's body: whole, as long as its Content-Length says, at most ``limit`` (a
    larger Content-Length is refused unread). A body cut short is named so however the server
    ended it (closed or reset the connection)."""
    import http.client

    if response.status == 200 and response.length is not None and response.length > limit:
        connection.close()
        raise FileTooLarge(
            f"{url}: Content-Length {response.length}, more than the {limit} bytes it may hold"
        )
    chunks: list[bytes] = []
    total = 0
    try:
        while chunk := response.read(min(_CHUNK, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
    except (ConnectionError, http.client.IncompleteRead):
        if not response.length:
            raise
    if total > limit:
        connection.close()  # the rest of the answer is left unread
        if response.status == 200:
            raise FileTooLarge(f"{url}: more than the {limit} bytes it may hold")
    elif response.length:  # read(amt) returns what came before the server hung up, silently
        connection.close()
        raise VerificationError(
            f"{url}: the answer ended {response.length} bytes short of its Content-Length"
        )
    data = b"".join(chunks)
    response.read(1)  # an answer of no stated length: its end, which releases the connection
    if response.status == 404:
        return None
    if response.status != 200:
        raise VerificationError(f"{url}: HTTP {response.status}")
    return _decoded(data, response.getheader("Content-Encoding"), url, limit)


def _read_httpx(client: Any, url: str, deadline: float, limit: int) -> bytes | None:
    import httpx

    try:
        with client.stream("GET", url) as response:
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                raise VerificationError(f"{url}: HTTP {response.status_code}")
            chunks: list[bytes] = []
            total = 0
            # raw: the body as sent, at most ``limit`` bytes, then unzipped by _decoded, which
            # stops at ``limit`` bytes out (a gzip bomb never inflates in memory).
            for chunk in response.iter_raw():
                total += len(chunk)
                if time.monotonic() > deadline:
                    raise VerificationError(f"{url}: not complete before the deadline")
                if total > limit:
                    raise FileTooLarge(f"{url}: more than the {limit} bytes it may hold")
                chunks.append(chunk)
            encoding = response.headers.get("Content-Encoding")
            return _decoded(b"".join(chunks), encoding, url, limit)
    except httpx.HTTPError as exc:
        raise VerificationError(f"{url}: {type(exc).__name__}: {exc}") from exc


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
                names = os.listdir(partial_dir)  # "²".isdigit(), but int() refuses it
                widths = sorted(int(n) for n in names if is_digits(n))
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
