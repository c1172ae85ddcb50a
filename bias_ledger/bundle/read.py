"""Read a bundle zip safely into memory: never extracted, every name and size checked first.

Refuses what is not a zip, truncated archives, paths that escape (zip-slip), zip bombs (by
declared size and while reading), duplicate and unexpected members, and unknown versions.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from bias_ledger.bundle.model import (
    FIXED_MEMBERS,
    MANIFEST,
    MEMBER_COUNT_LIMIT,
    MEMBER_LIMIT,
    OPTIONAL_MEMBERS,
    RECORD_MEMBER,
    TOTAL_LIMIT,
    Manifest,
    check_format,
    load_json,
    parse_manifest,
    record_json,
    record_sig,
)
from bias_ledger.errors import BundleError, InputError

_CHUNK = 1024 * 1024
_DRIVE = re.compile(r"[A-Za-z]:")


@dataclass(frozen=True)
class Limits:
    """How much a bundle may hold before it is refused as a zip bomb."""

    member: int = MEMBER_LIMIT
    """Largest uncompressed member, in bytes."""
    total: int = TOTAL_LIMIT
    """Largest total uncompressed size, in bytes."""
    count: int = MEMBER_COUNT_LIMIT
    """Most members."""


@dataclass(frozen=True)
class BundleContents:
    """A bundle's members, read into memory and checked for safety (not yet verified)."""

    source: str
    """The bundle file, for messages."""
    members: Mapping[str, bytes]
    """Member name to its bytes."""
    manifest: Manifest

    def record_indexes(self) -> tuple[int, ...]:
        return tuple(item.index for item in self.manifest.records)


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


def _open(path: Path) -> zipfile.ZipFile:
    if not path.exists():
        raise InputError(f"{path}: bundle file not found")
    if not path.is_file():
        raise InputError(f"{path}: expected a bundle file, found a directory or special file")
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
        return zipfile.ZipFile(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the bundle ({exc.strerror or exc})") from None
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        if head == b"PK\x03\x04":
            raise BundleError(
                f"{path}: truncated or corrupt zip archive ({exc}); expected a whole bundle"
            ) from None
        raise BundleError(
            f"{path}: not a bundle: expected a zip archive, found {head!r} at the start"
        ) from None


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
    cap = min(info.file_size, budget)
    chunks: list[bytes] = []
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
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
        raise BundleError(
            f"{source}: member {info.filename!r} is corrupt ({exc}); expected intact data"
        ) from None
    return b"".join(chunks)


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


def read_bundle(path: Path, *, limits: Limits | None = None) -> BundleContents:
    """Read and safety-check the bundle at ``path``; InputError if missing, BundleError if bad."""
    limits = limits or Limits()
    source = str(path)
    with _open(path) as archive:
        infos = archive.infolist()
        _check_entries(infos, limits, source)
        members: dict[str, bytes] = {}
        budget = limits.total
        for info in infos:
            data = _read_member(archive, info, min(budget, limits.member), source)
            budget -= len(data)
            members[info.filename] = data
    if MANIFEST not in members:
        raise BundleError(f"{source}: not a bias-ledger bundle: no {MANIFEST} member")
    if _is_format2(members[MANIFEST]):
        from bias_ledger.bundle.format2 import contents_v2

        return contents_v2(source, members)
    try:
        check_format(load_json(members[MANIFEST], member=MANIFEST))
        manifest = parse_manifest(members[MANIFEST])
    except BundleError as exc:
        raise BundleError(f"{source}: {exc.message}") from None
    _check_member_set(set(members), manifest, source)
    return BundleContents(source=source, members=MappingProxyType(members), manifest=manifest)
