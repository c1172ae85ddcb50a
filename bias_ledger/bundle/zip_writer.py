"""The deterministic zip of bundle formats 1 and 2: members in name order, each deflated at
level 9 with a fixed time and mode, written member by member to a seekable stream.

Python's ``zipfile`` writes a member's header, its data, then seeks back to fill in the CRC and
sizes; a member given as bytes and one given as a stream of the same bytes (of known length)
come out byte for byte the same, so a bundle written as a stream equals the one built in memory.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import BinaryIO

from bias_ledger.bundle.model import ZIP_MODE, ZIP_TIME

_LEVEL = 9


def _info(name: str, size: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.create_system = 3
    info.external_attr = ZIP_MODE << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    info.file_size = size
    # What ``writestr(..., compresslevel=9)`` sets; ``open(info, "w")`` reads it from the info
    # (``_compresslevel`` up to Python 3.12, an alias of ``compress_level`` from 3.13).
    setattr(info, "_compresslevel", _LEVEL)  # noqa: B010
    return info


class ZipWriter:
    """Members added in strictly increasing name order (refused otherwise)."""

    def __init__(self, out: BinaryIO) -> None:
        self._archive = zipfile.ZipFile(out, "w")
        self._last: str | None = None

    def _next(self, name: str) -> None:
        if self._last is not None and name <= self._last:
            raise ValueError(f"zip member {name!r} after {self._last!r}: expected name order")
        self._last = name

    def add(self, name: str, data: bytes) -> None:
        self._next(name)
        self._archive.writestr(_info(name, len(data)), data, zipfile.ZIP_DEFLATED, _LEVEL)

    def add_stream(self, name: str, size: int, chunks: Iterator[bytes]) -> None:
        """A member of ``size`` bytes, given in chunks (it must be exactly that long)."""
        self._next(name)
        written = 0
        with self._archive.open(_info(name, size), "w") as member:
            for chunk in chunks:
                member.write(chunk)
                written += len(chunk)
        if written != size:
            raise ValueError(f"zip member {name!r}: {written} bytes given, {size} announced")

    def close(self) -> None:
        self._archive.close()

    def __enter__(self) -> ZipWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def write_zip(members: Mapping[str, bytes]) -> bytes:
    """The zip of ``members``, built in memory (bundles of few records)."""
    buffer = io.BytesIO()
    with ZipWriter(buffer) as archive:
        for name in sorted(members):
            archive.add(name, members[name])
    return buffer.getvalue()
