"""An HTTP server in this process on 127.0.0.1, serving a directory through a test's own
handler (for tests that record what the server saw or change what it answers)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class QuietHandler(SimpleHTTPRequestHandler):
    """A directory handler that logs nothing (pytest would show every request)."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(
    directory: Path, handler: type[SimpleHTTPRequestHandler], **fields: Any
) -> Iterator[str]:
    """Serve ``directory`` on a free loopback port with a subclass of ``handler`` whose class
    attributes are ``fields`` (the lists or dicts a test reads back); yields the base URL."""
    bound = type("Handler", (handler,), fields)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(bound, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
