"""The fixed ZIP layout of FORMAT.md "Bundle format", checked from PKZIP APPNOTE structures."""

from __future__ import annotations

import io
import struct
import zipfile

from .sshsig import SpecError

LOCAL = struct.Struct("<IHHHHHIIIHH")  # APPNOTE 4.3.7, 30 bytes
CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")  # APPNOTE 4.3.12, 46 bytes
END = struct.Struct("<IHHHHIIH")  # APPNOTE 4.3.16, 22 bytes
MODE = 0o100644 << 16
LIMIT = 64 << 20


def read_bundle(data: bytes) -> dict[str, bytes]:
    """Members by name, after checking every byte of the layout; raises SpecError otherwise."""
    if len(data) < END.size:
        raise SpecError("bundle: not a ZIP file")
    sig, disk, cd_disk, count, total, cd_size, cd_offset, comment = END.unpack(data[-END.size :])
    if sig != 0x06054B50 or comment or disk or cd_disk or count != total or count == 0xFFFF:
        raise SpecError("bundle: the end record (22 bytes, no comment) does not end the file")
    if cd_offset + cd_size != len(data) - END.size:
        raise SpecError("bundle: bytes between the central directory and the end record")
    pos, central, names = cd_offset, [], []
    for _ in range(count):
        fields = CENTRAL.unpack(data[pos : pos + CENTRAL.size])
        (sig, made_by, needed, flags, method, time, date, _crc, csize, usize, name_len, extra_len,
         comment_len, _disk, _internal, external, offset) = fields  # fmt: skip
        name = data[pos + CENTRAL.size : pos + CENTRAL.size + name_len]
        if sig != 0x02014B50 or made_by >> 8 != 3 or needed != 20 or flags or method != 8:
            raise SpecError(f"bundle: member {name!r}: not deflated, version 2.0, Unix, flags 0")
        if (date, time) != (0x21, 0) or external != MODE or comment_len:
            raise SpecError(f"bundle: member {name!r}: not 1980-01-01 00:00, mode 0644, no comment")
        if usize > LIMIT:
            raise SpecError(f"bundle: member {name!r}: over 64 MiB")
        central.append((name, offset, csize, name_len, extra_len))
        names.append(name)
        pos += CENTRAL.size + name_len + extra_len + comment_len
    if pos != len(data) - END.size:
        raise SpecError("bundle: central directory size does not match its entries")
    if names != sorted(names) or len(set(names)) != len(names):
        raise SpecError("bundle: members not sorted by name, or a name repeats")
    expect = 0
    for name, offset, csize, _name_len, _extra_len in central:
        if offset != expect:
            raise SpecError(f"bundle: bytes before member {name!r}")
        fields = LOCAL.unpack(data[offset : offset + LOCAL.size])
        sig, needed, flags, method, time, date = fields[:6]
        local_name_len, local_extra = fields[9], fields[10]
        local_name = data[offset + LOCAL.size : offset + LOCAL.size + local_name_len]
        if sig != 0x04034B50 or local_name != name or (needed, flags, method) != (20, 0, 8):
            raise SpecError(f"bundle: member {name!r}: local header disagrees")
        if (date, time) != (0x21, 0) or fields[8] > LIMIT:
            raise SpecError(f"bundle: member {name!r}: local header time or size")
        expect = offset + LOCAL.size + local_name_len + local_extra + csize
    if expect != cd_offset:
        raise SpecError("bundle: bytes between the last member and the central directory")
    members: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            text = info.filename
            parts = text.split("/")
            if text.startswith("/") or "\\" in text or ".." in parts or text.endswith("/"):
                raise SpecError(f"bundle: unsafe member name {text!r}")
            try:
                members[text] = archive.read(info)
            except (zipfile.BadZipFile, OSError) as exc:
                raise SpecError(f"bundle: member {text!r}: {exc}") from exc
    return members
