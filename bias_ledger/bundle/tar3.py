"""The container of a version-3 bundle: a POSIX ustar archive of fixed layout, written and read
as a stream (docs/FORMAT.md, "Bundle format 3").

Every 512-byte header is a pure function of the member's name and size, so a reader rebuilds it
and compares bytes: nothing unverified rides in a header, between members or after the end.
Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from bias_ledger.errors import BundleError

BLOCK = 512
RECORD = 20 * BLOCK
"""The archive is zero-filled to a multiple of this (POSIX's default blocking factor 20)."""
NAME_LIMIT = 99
"""Longest member name: ustar's name field is 100 bytes, NUL-terminated here."""
SIZE_LIMIT = 8**11 - 1
"""Largest member: eleven octal digits."""
_CHUNK = 1024 * 1024
_ZEROS = bytes(BLOCK)


def header(name: str, size: int) -> bytes:
    """The one ustar header of member ``name`` of ``size`` bytes (FORMAT.md lists each field)."""
    raw = name.encode("ascii")
    if not 0 < len(raw) <= NAME_LIMIT or not 0 <= size <= SIZE_LIMIT:
        raise ValueError(f"member {name!r} of {size} bytes does not fit a ustar header")
    fields = [
        raw.ljust(100, b"\0"),
        b"0000644\0",  # mode
        b"0000000\0",  # uid
        b"0000000\0",  # gid
        b"%011o\0" % size,
        b"00000000000\0",  # mtime
        b" " * 8,  # checksum, while it is summed
        b"0",  # typeflag: regular file
        bytes(100),  # linkname
        b"ustar\0",
        b"00",
        bytes(32),  # uname
        bytes(32),  # gname
        b"0000000\0",  # devmajor
        b"0000000\0",  # devminor
        bytes(155),  # prefix
        bytes(12),
    ]
    block = b"".join(fields)
    checksum = b"%06o\0 " % sum(block)
    return block[:148] + checksum + block[156:]


def padding(size: int) -> bytes:
    return bytes(-size % BLOCK)


class TarWriter:
    """Writes members one at a time to a binary stream, then the end of the archive."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.written = 0

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.written += len(data)

    def add(self, name: str, data: bytes) -> None:
        self._write(header(name, len(data)))
        self._write(data)
        self._write(padding(len(data)))

    def add_stream(self, name: str, size: int, chunks: Iterator[bytes]) -> None:
        """A member whose ``size`` is known but whose bytes are not held at once."""
        self._write(header(name, size))
        done = 0
        for chunk in chunks:
            done += len(chunk)
            self._write(chunk)
        if done != size:
            raise ValueError(f"member {name!r}: wrote {done} bytes, declared {size}")
        self._write(padding(size))

    def finish(self) -> None:
        self._write(bytes(2 * BLOCK))
        self._write(bytes(-self.written % RECORD))


@dataclass(frozen=True)
class Member:
    """A member header read and checked: its name and size; its data follows in the stream."""

    name: str
    size: int


class TarReader:
    """Reads a version-3 bundle member by member from a binary stream, checking every byte
    that is not member data against the fixed layout. ``where`` names the file in errors."""

    def __init__(self, stream: BinaryIO, where: str) -> None:
        self.stream = stream
        self.where = where
        self.offset = 0

    def _exactly(self, size: int, what: str) -> bytes:
        data = self.stream.read(size)
        if len(data) != size:
            raise BundleError(
                f"{self.where}: truncated at byte {self.offset + len(data)}: expected {what}"
            )
        self.offset += size
        return data

    def next(self, *expected: str) -> Member | None:
        """The next member's header (None at the end of the archive). ``expected`` are the
        names the layout allows next (none: the end); any other name is refused, naming them."""
        at = self.offset
        wanted = " or ".join(repr(name) for name in expected) or "the end of the archive"
        block = self._exactly(BLOCK, f"the header of {wanted}")
        if block == _ZEROS:
            self._end(wanted if expected else None)
            return None
        name = _name(block, self.where, at)
        if name not in expected:
            raise BundleError(
                f"{self.where}: member {name!r} at byte {at}: expected {wanted} "
                "(a member missing, extra, duplicated or out of order)"
            )
        size = _size(block, name, self.where)
        if header(name, size) != block:
            raise BundleError(
                f"{self.where}: member {name!r}: its ustar header is not the fixed one "
                f"(mode 0644, uid/gid 0, mtime 0, no owner names, regular file; FORMAT.md)"
            )
        return Member(name, size)

    def read(self, member: Member, limit: int) -> bytes:
        """The member's data (at most ``limit`` bytes, else refused) and its zero padding."""
        if member.size > limit:
            raise BundleError(
                f"{self.where}: member {member.name!r} is {member.size} bytes, over the limit "
                f"of {limit} bytes for it"
            )
        data = self._exactly(member.size, f"the {member.size} bytes of {member.name!r}")
        self._padding(member)
        return data

    def chunks(self, member: Member) -> Iterator[bytes]:
        """The member's data in chunks (never held at once), then its padding checked."""
        left = member.size
        while left:
            chunk = self._exactly(min(_CHUNK, left), f"the bytes of {member.name!r}")
            left -= len(chunk)
            yield chunk
        self._padding(member)

    def _padding(self, member: Member) -> None:
        pad = self._exactly(-member.size % BLOCK, f"the padding of {member.name!r}")
        if pad.strip(b"\0"):
            raise BundleError(
                f"{self.where}: member {member.name!r}: non-zero bytes in its padding"
            )

    def _end(self, wanted: str | None) -> None:
        if wanted is not None:
            raise BundleError(
                f"{self.where}: the archive ends at byte {self.offset - BLOCK}: expected member "
                f"{wanted} (a member is missing)"
            )
        rest = self._exactly(BLOCK, "the second zero block ending the archive")
        fill = -self.offset % RECORD
        rest += self._exactly(fill, "the zero fill to a multiple of 10240 bytes")
        if rest.strip(b"\0"):
            raise BundleError(f"{self.where}: non-zero bytes after the end of the archive")
        if self.stream.read(1):
            raise BundleError(
                f"{self.where}: bytes after the end of the archive at byte {self.offset}; "
                "expected the file to end there"
            )


def _name(block: bytes, where: str, at: int) -> str:
    raw = block[:100].split(b"\0", 1)[0]
    try:
        name = raw.decode("ascii")
    except UnicodeDecodeError:
        raise BundleError(f"{where}: member header at byte {at}: name is not ASCII") from None
    if not name.isprintable():
        raise BundleError(f"{where}: member header at byte {at}: name {name!r} is not printable")
    return name


def _size(block: bytes, name: str, where: str) -> int:
    field = block[124:136]
    digits = field[:11]
    if field[11:] != b"\0" or not all(48 <= c <= 55 for c in digits):
        raise BundleError(f"{where}: member {name!r}: size field {field!r} is not 11 octal digits")
    return int(digits, 8)
