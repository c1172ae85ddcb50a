"""Read a bundle zip safely, member by member: never extracted, every name and size checked
first, and no member held longer than it is used.

Refuses what is not a zip, truncated archives, paths that escape (zip-slip), zip bombs (by
declared size and while reading), duplicate and unexpected members, and unknown versions.
Memory: the central directory and ``bundle.json`` (which lists every record), plus the one
member being read; the members themselves are inflated (and CRC-checked) once while the bundle
is opened and again, one at a time, when a verifier looks one up (:class:`ZipMembers`).
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bias_ledger.bundle.model import (
    FIXED_MEMBERS,
    MANIFEST,
    MEMBER_COUNT_LIMIT,
    MEMBER_LIMIT,
    OPTIONAL_MEMBERS,
    RECORD_MEMBER,
    TOTAL_LIMIT,
    ZIP_MODE,
    ZIP_TIME,
    BundleContents,
    Manifest,
    check_format,
    load_json,
    parse_manifest,
    record_json,
    record_sig,
)
from bias_ledger.errors import BundleError, InputError

__all__ = ["BundleContents", "ZipMembers", "read_bundle"]

_CHUNK = 1024 * 1024
_DRIVE = re.compile(r"[A-Za-z]:")
_LOCAL_HEADER = b"PK\x03\x04"
_END_RECORD = b"PK\x05\x06"
_END_RECORD_SIZE = 22
"""The end-of-central-directory record without a comment (APPNOTE 4.3.16)."""
_TAIL = 65_557
"""The end record with the longest comment: where a zip's end record may start."""
_EXTRACT_VERSION = 20
"""Deflate needs version 2.0; the exporter writes nothing newer (no zip64, no encryption)."""


@dataclass(frozen=True)
class Limits:
    """How much a bundle may hold before it is refused as a zip bomb."""

    member: int = MEMBER_LIMIT
    """Largest uncompressed member, in bytes."""
    total: int = TOTAL_LIMIT
    """Largest total uncompressed size, in bytes."""
    count: int = MEMBER_COUNT_LIMIT
    """Most members."""


def _check_name(name: str, source: str) -> None:
    parts = name.split("/")
    if (
        name.startswith(("/", "\\"))
        or "\\" in name
        or _DRIVE.match(name)
        or any(part in ("..", ".") for part in parts)
    ):
        raise BundleError(
            f"{source}: member {name!r} has a path that escapes the bundle (absolute or '..'); "
            "refusing it (zip-slip)"
        )
    if name.endswith("/") or "" in parts or not name.isprintable():
        raise BundleError(f"{source}: member {name!r}: expected a plain file name")


def _head_and_tail(path: Path) -> tuple[bytes, bytes, int]:
    """The file's first 265 bytes, its last 64 KiB and its size (the rest is read later)."""
    if not path.exists():
        raise InputError(f"{path}: bundle file not found")
    if not path.is_file():
        raise InputError(f"{path}: expected a bundle file, found a directory or special file")
    try:
        with path.open("rb") as handle:
            head = handle.read(265)
            size = handle.seek(0, 2)
            handle.seek(max(0, size - _TAIL))
            tail = handle.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the bundle ({exc.strerror or exc})") from None
    return head, tail, size


def _open(path: Path) -> tuple[zipfile.ZipFile, int]:
    """The archive, open on the file (members are read from it when needed), and its size."""
    head, tail, size = _head_and_tail(path)
    if not head.startswith(_LOCAL_HEADER) and _END_RECORD not in tail:
        if head[257:262] == b"ustar":  # a tar, but not the ustar of version 3 (GNU's "ustar  ")
            raise BundleError(
                f"{path}: not a bundle: a tar archive with magic {head[257:265]!r} at byte 257, "
                "expected POSIX ustar (b'ustar\\x0000') as version 3 writes it, or a zip"
            )
        raise BundleError(
            f"{path}: not a bundle: expected a zip archive, found {head[:4]!r} at the start"
        )
    try:
        return zipfile.ZipFile(path), size
    except NotImplementedError as exc:
        # zipfile refuses a "version needed to extract" above 6.3 while opening.
        needed = str(exc).removeprefix("zip file ")
        raise BundleError(
            f"{path}: a member needs {needed} to extract; expected 2.0 (deflate)"
        ) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the bundle ({exc.strerror or exc})") from None
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        if head.startswith(_LOCAL_HEADER):
            raise BundleError(
                f"{path}: truncated or corrupt zip archive ({exc}); expected a whole bundle"
            ) from None
        raise BundleError(
            f"{path}: not a bundle: expected a zip archive, found {head[:4]!r} at the start"
        ) from None


def _read_at(handle: BinaryIO, offset: int, size: int) -> bytes:
    handle.seek(offset)
    return handle.read(size)


def _directory_end(handle: BinaryIO, size: int, count: int, source: str) -> tuple[int, int]:
    """Where the central directory starts and ends: the end record ends the file. A bundle
    is a zip without zip64 (FORMAT.md 10.15, "Members"), so it holds at most 65,535 members
    and has no zip64 end record (one would break the framing check that follows)."""
    end = size - _END_RECORD_SIZE
    if end < 0 or _read_at(handle, end, 4) != _END_RECORD:
        raise BundleError(
            f"{source}: expected the zip's end record to end the file, found more bytes after "
            "it (junk or a comment after the archive)"
        )
    if count > 0xFFFF:
        raise BundleError(
            f"{source}: a zip64 archive of {count} members; expected a zip without zip64 "
            "(at most 65,535 members)"
        )
    (directory_offset,) = struct.unpack("<L", _read_at(handle, end + 16, 4))
    return directory_offset, end


def _check_framing(archive: zipfile.ZipFile, handle: BinaryIO, size: int, source: str) -> None:
    """The members, the central directory and the end record(s), back to back, from byte 0 to
    the last: no byte before, between or after them (docs/FORMAT.md, "Members"). Reads each
    local header from the file, one at a time.

    zipfile accepts prefixed data (self-extracting archives), gaps and comments, so bytes a
    verifier never looks at could ride along in evidence; the exporter writes none of them.
    """
    if _read_at(handle, 0, 4) != _LOCAL_HEADER:
        raise BundleError(
            f"{source}: expected the zip to start at byte 0 with a member, found other bytes "
            "first (junk before the archive)"
        )
    infos = archive.infolist()
    directory_offset, end = _directory_end(handle, size, len(infos), source)
    offset = 0
    for info in infos:
        header = _read_at(handle, offset, 30) if info.header_offset == offset else b""
        if header[:4] != _LOCAL_HEADER:
            raise BundleError(
                f"{source}: member {info.filename!r} starts at byte {info.header_offset}; "
                f"expected byte {offset}, right after the previous member (bytes between members)"
            )
        if info.flag_bits & 0x08:
            raise BundleError(
                f"{source}: member {info.filename!r} has a data descriptor; expected sizes in "
                "its header"
            )
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        name = handle.read(name_length)
        _check_local_header(info, header, name, source)
        offset += 30 + name_length + extra_length + info.compress_size
    if directory_offset != offset:
        raise BundleError(
            f"{source}: expected the central directory at bytes {offset}..{end}, right after "
            f"the last member, found it at {directory_offset}..{end}"
        )


def _check_local_header(info: zipfile.ZipInfo, header: bytes, name: bytes, source: str) -> None:
    """The member's local header says what its central directory entry says: a streaming
    reader (which reads local headers) and this one (the central directory) read one member."""
    fields = struct.unpack("<HHHHHLLLH", header[4:28])
    version, flags, method, time, date, crc, compressed, size, _ = fields
    central = (
        info.extract_version,
        info.flag_bits,
        info.compress_type,
        (info.date_time[3] << 11) | (info.date_time[4] << 5) | (info.date_time[5] // 2),
        ((info.date_time[0] - 1980) << 9) | (info.date_time[1] << 5) | info.date_time[2],
        info.CRC,
        info.compress_size,
        info.file_size,
        info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437"),
    )
    local = (version, flags, method, time, date, crc, compressed, size, name)
    names = ("version", "flags", "method", "time", "date", "CRC-32", "compressed size", "size")
    for what, here, there in zip((*names, "name"), local, central, strict=True):
        if here != there:
            raise BundleError(
                f"{source}: member {info.filename!r}: its local header's {what} ({here!r}) "
                f"differs from its central directory entry's ({there!r})"
            )


def _check_layout(infos: list[zipfile.ZipInfo], source: str) -> None:
    """The deterministic layout the exporter writes: sorted, deflated, fixed time and mode."""
    names = [info.filename for info in infos]
    if names != sorted(names):
        raise BundleError(f"{source}: members are not sorted by name; expected {sorted(names)}")
    for info in infos:
        where = f"{source}: member {info.filename!r}"
        if info.compress_type != zipfile.ZIP_DEFLATED:
            kind = "stored" if info.compress_type == zipfile.ZIP_STORED else "compressed"
            raise BundleError(f"{where} is {kind} (method {info.compress_type}); expected deflated")
        if info.date_time != ZIP_TIME:
            found = "{:04}-{:02}-{:02} {:02}:{:02}:{:02}".format(*info.date_time)
            raise BundleError(f"{where} has the timestamp {found}; expected 1980-01-01 00:00:00")
        mode = info.external_attr >> 16
        if info.create_system != 3 or mode != ZIP_MODE:
            raise BundleError(
                f"{where} has mode {oct(mode)} (system {info.create_system}); expected "
                f"{oct(ZIP_MODE)} (system 3, Unix)"
            )


def _check_entries(infos: list[zipfile.ZipInfo], limits: Limits, source: str) -> None:
    if len(infos) > limits.count:
        raise BundleError(f"{source}: {len(infos)} members, more than the limit of {limits.count}")
    for name, count in Counter(info.filename for info in infos).items():
        if count > 1:
            raise BundleError(f"{source}: member {name!r} appears {count} times; expected once")
    total = 0
    for info in infos:
        _check_name(info.filename, source)
        if info.flag_bits & 0x1:
            raise BundleError(f"{source}: member {info.filename!r} is encrypted; expected plain")
        if info.file_size > limits.member:
            raise BundleError(
                f"{source}: member {info.filename!r} declares {info.file_size} bytes, over the "
                f"limit of {limits.member} bytes per member (zip bomb?)"
            )
        if info.extract_version > _EXTRACT_VERSION:
            version = f"{info.extract_version // 10}.{info.extract_version % 10}"
            raise BundleError(
                f"{source}: member {info.filename!r} needs zip version {version} to extract; "
                "expected 2.0 (deflate)"
            )
        total += info.file_size
    if total > limits.total:
        raise BundleError(
            f"{source}: members declare {total} bytes in all, over the limit of "
            f"{limits.total} bytes (zip bomb?)"
        )


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, source: str
) -> bytes:
    """Read one member, stopping as soon as it exceeds its declared size or the budget."""
    chunks: list[bytes] = []
    _inflate(archive, info, budget, source, chunks.append)
    return b"".join(chunks)


def _drain_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, source: str) -> int:
    """Inflate one member as :func:`_read_member` does, keeping none of it; its size."""
    return _inflate(archive, info, budget, source, lambda chunk: None)


def _inflate(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    budget: int,
    source: str,
    keep: Callable[[bytes], None],
) -> int:
    cap = min(info.file_size, budget)
    size = 0
    try:
        with archive.open(info) as handle:
            while chunk := handle.read(min(_CHUNK, cap + 1 - size)):
                size += len(chunk)
                if size > cap:
                    raise BundleError(
                        f"{source}: member {info.filename!r} inflates past "
                        f"{cap} bytes (declared {info.file_size}); refusing it (zip bomb?)"
                    )
                keep(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
        raise BundleError(
            f"{source}: member {info.filename!r} is corrupt ({exc}); expected intact data"
        ) from None
    return size


def _check_member_set(names: set[str], manifest: Manifest, source: str) -> None:
    listed: set[str] = set()
    for item in manifest.records:
        listed |= {record_json(item.index), record_sig(item.index)}
    for name in sorted((FIXED_MEMBERS | listed) - names):
        if name not in names:
            raise BundleError(f"{source}: missing member {name!r}")
    for name in sorted(names - FIXED_MEMBERS - OPTIONAL_MEMBERS - listed):
        if RECORD_MEMBER.fullmatch(name):
            raise BundleError(
                f"{source}: member {name!r} is not listed in {MANIFEST} (a record was added)"
            )
        raise BundleError(f"{source}: unexpected member {name!r}")


def _is_format2(raw: bytes) -> bool:
    """A format-2 bundle's manifest (bundle/format2.py reads it)."""
    try:
        data = load_json(raw, member=MANIFEST)
    except BundleError:
        return False
    return isinstance(data, dict) and data.get("format_version") == 2


class ZipMembers(Mapping[str, bytes]):
    """The members of an open bundle zip by name, each inflated (within its declared size)
    when looked up and not kept: memory holds one member at a time, never the bundle."""

    def __init__(
        self, archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limit: int, source: str
    ) -> None:
        self._archive = archive
        self._infos = {info.filename: info for info in infos}
        self._limit = limit
        self._source = source

    def __getitem__(self, name: str) -> bytes:
        return _read_member(self._archive, self._infos[name], self._limit, self._source)

    def __iter__(self) -> Iterator[str]:
        return iter(self._infos)

    def __len__(self) -> int:
        return len(self._infos)

    def __contains__(self, name: object) -> bool:
        return name in self._infos


def _check_members(
    archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: Limits, source: str
) -> None:
    """Inflate every member once, one at a time, keeping nothing: each within its declared
    size and the total budget, and each CRC-32 checked (zipfile checks it at the end)."""
    budget = limits.total
    for info in infos:
        budget -= _drain_member(archive, info, min(budget, limits.member), source)


def read_bundle(path: Path, *, limits: Limits | None = None) -> BundleContents:
    """Read and safety-check the bundle at ``path``; InputError if missing, BundleError if bad.

    The contents' members are read from the file when looked up (:class:`ZipMembers`)."""
    limits = limits or Limits()
    source = str(path)
    archive, size = _open(path)
    try:
        infos = archive.infolist()
        _check_entries(infos, limits, source)  # names and declared sizes first (zip bombs)
        with path.open("rb") as handle:
            _check_framing(archive, handle, size, source)
        _check_members(archive, infos, limits, source)
        members = ZipMembers(archive, infos, limits.member, source)
        if MANIFEST not in members:
            raise BundleError(f"{source}: not a bias-ledger bundle: no {MANIFEST} member")
        manifest_bytes = members[MANIFEST]
        if _is_format2(manifest_bytes):
            from bias_ledger.bundle.format2 import contents_v2

            return contents_v2(source, members, manifest_bytes)
        try:
            check_format(load_json(manifest_bytes, member=MANIFEST))
            manifest = parse_manifest(manifest_bytes)
        except BundleError as exc:
            raise BundleError(f"{source}: {exc.message}") from None
        _check_layout(infos, source)
        _check_member_set(set(members), manifest, source)
        return BundleContents(source=source, members=members, manifest=manifest)
    except BaseException:
        archive.close()
        raise
