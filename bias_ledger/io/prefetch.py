"""Batches read on a thread of their own, a few ahead of the one being used.

Reading a Parquet or CSV batch (decoding, decompressing) and summing it (numpy) both release
the GIL, so a score, regression or weighted audit, which sums each batch as it comes, reads the
next batch meanwhile on the second core. The batches come in their order, unchanged; an error
of the reader is raised where the batch would have been.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

AHEAD = 2
"""Batches read ahead: memory holds at most this many more batches than unprefetched."""
_POLL = 0.05
"""Seconds between the reader's looks at whether the batches are still wanted."""


class _Done:
    """The stream's end, or the error that ended it."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class _Reader(Generic[T]):
    def __init__(self, stream: Iterator[T], ahead: int) -> None:
        self.stream = stream
        self.items: queue.Queue[T | _Done] = queue.Queue(maxsize=ahead)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._read, name="bias-ledger-prefetch", daemon=True)

    def _put(self, item: T | _Done) -> bool:
        while not self.stop.is_set():
            try:
                self.items.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def _read(self) -> None:
        try:
            for item in self.stream:
                if not self._put(item):
                    return
            self._put(_Done())
        except BaseException as error:  # handed to the consumer, raised there
            self._put(_Done(error))
        finally:
            close = getattr(self.stream, "close", None)
            if close is not None:
                close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


def prefetched(stream: Iterator[T], ahead: int = AHEAD) -> Generator[T, None, None]:
    """The items of ``stream``, in order, read up to ``ahead`` items in advance on a thread."""
    reader = _Reader(stream, ahead)
    reader.thread.start()
    try:
        while True:
            item = reader.items.get()
            if isinstance(item, _Done):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        reader.close()
