"""The spec-only verifier accepts the tool's format-2 bundles and rejects tampered copies."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from .bundle2 import verify_bundle
from .conftest import Made, cli_env, run_cli_batch
from .sshsig import SpecError
from .test_log2 import key_fingerprint
from .trust import read_allowed_signers
from .zipcheck import read_bundle


def rezip(members: dict[str, bytes]) -> bytes:
    """The fixed layout of FORMAT.md "Bundle format", written with zipfile."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, members[name])
    return out.getvalue()


def test_a_bundle_after_the_rotation_verifies_from_the_first_key(made: Made) -> None:
    data = made.bundle_late.read_bytes()
    members = read_bundle(data)
    result = verify_bundle(data, read_allowed_signers(made.trusted1))
    # The exporter adds the rotation on the path from key 1 to key 2 (record 2).
    assert result.indexes == (2, 3, 4)
    assert {f"entries/{n}" for n in (2, 3, 4)} <= set(members)
    assert result.checkpoint_signer == key_fingerprint(made.key2)
    assert result.checkpoint.size == 5


def test_a_bundle_before_the_rotation_verifies_when_both_keys_are_trusted(made: Made) -> None:
    result = verify_bundle(made.bundle_early.read_bytes(), read_allowed_signers(made.trusted12))
    assert result.indexes == (0, 1)
    assert result.checkpoint_signer == key_fingerprint(made.key2)


@pytest.mark.xfail(
    strict=True,
    reason="spec_findings F1: export of records before a rotation omits the rotation record "
    "that leads to the checkpoint's signer, so the first key alone cannot verify it",
)
def test_a_bundle_before_the_rotation_verifies_from_the_first_key(made: Made) -> None:
    verify_bundle(made.bundle_early.read_bytes(), read_allowed_signers(made.trusted1))


def test_rezipping_the_members_keeps_a_valid_layout(made: Made) -> None:
    members = read_bundle(made.bundle_late.read_bytes())
    verify_bundle(rezip(members), read_allowed_signers(made.trusted1))


def _edit(name: str, change: Callable[[bytes], bytes]) -> Callable[[dict[str, bytes]], None]:
    def apply(members: dict[str, bytes]) -> None:
        members[name] = change(members[name])

    return apply


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


def _signature(note: bytes) -> bytes:
    text, _, line = note.rstrip(b"\n").rpartition(b" ")
    return text + b" " + line[:10] + (b"A" if line[10:11] != b"A" else b"B") + line[11:] + b"\n"


def _removed(members: dict[str, bytes]) -> None:
    for name in ("entries/3", "records/3.json", "records/3.sig"):
        del members[name]


def _removed_and_unlisted(members: dict[str, bytes]) -> None:
    """Record 2 (the rotation) taken out everywhere: key 2 is no longer reached."""
    _removed(members)
    for name in ("entries/2", "records/2.json", "records/2.sig"):
        del members[name]
    manifest = json.loads(members["bundle.json"])
    manifest["records"] = [r for r in manifest["records"] if r["index"] == 4]
    members["bundle.json"] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()


def _reordered(members: dict[str, bytes]) -> None:
    members["entries/3"], members["entries/4"] = members["entries/4"], members["entries/3"]


TAMPER: dict[str, tuple[Callable[[dict[str, bytes]], None], str]] = {
    "flipped record byte": (_edit("records/3.json", lambda d: _flip(d, 20)), "records/3.json"),
    "flipped entry byte": (_edit("entries/3", lambda d: _flip(d, 30)), "entries/3|record 3"),
    "checkpoint signature": (_edit("checkpoint", _signature), "checkpoint: the signature"),
    "removed record": (_removed, "missing members"),
    "removed and unlisted": (_removed_and_unlisted, "not trusted"),
    "reordered entries": (_reordered, "records/3.json: BLAKE3"),
    "extra member": (_edit("report.md", lambda d: d), "unexpected"),
}


def tampered(made: Made, case: str) -> bytes:
    members = read_bundle(made.bundle_late.read_bytes())
    if case == "extra member":
        members["notes.txt"] = b"unverified\n"
    TAMPER[case][0](members)
    return rezip(members)


@pytest.mark.parametrize("case", sorted(TAMPER))
def test_tampered_bundles_are_rejected(made: Made, case: str) -> None:
    with pytest.raises(SpecError, match=TAMPER[case][1]):
        verify_bundle(tampered(made, case), read_allowed_signers(made.trusted1))


def test_the_tool_rejects_the_same_tampered_bundles(made: Made, tmp_path: Path) -> None:
    trusted = ["--trusted-keys", str(made.trusted1)]
    commands = [["verify", str(made.bundle_late), *trusted]]
    for case in sorted(TAMPER):
        path = tmp_path / f"{case.replace(' ', '-')}.zip"
        path.write_bytes(tampered(made, case))
        commands.append(["verify", str(path), *trusted])
    assert run_cli_batch(commands, cli_env(tmp_path), tmp_path) == [0] + [3] * len(TAMPER)


def test_a_byte_after_the_archive_is_refused(made: Made) -> None:
    with pytest.raises(SpecError, match="end record"):
        verify_bundle(made.bundle_late.read_bytes() + b"\0", read_allowed_signers(made.trusted1))
