"""Hostile bundles (issue 9 items 4 and 5): every one refused with exit 3 and one clear line.

Each case mutates the real golden format-1 bundle (or a bundle of the test world, where a
signing key is needed) and runs the real CLI.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import blake3
import pytest

from bias_ledger.ledger import sshsig
from bias_ledger.ledger.checkpoint import parse_signed_checkpoint
from bias_ledger.ledger.entry import dearmor
from bias_ledger.ledger.merkle import BLAKE3_HASHER

from .conftest import World
from .helpers import cli, dump, manifest, members, write_members

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "format1"
BUNDLE = GOLDEN / "bundle.zip"
TRUSTED = GOLDEN / "allowed_signers"
Items = dict[str, bytes]


def verify(path: Path, *extra: str | Path, trusted: Path = TRUSTED) -> tuple[int, list[str]]:
    code, output = cli("verify", path, "--trusted-keys", trusted, *extra)
    return code, [line for line in output.splitlines() if line.strip()]


def assert_refused(path: Path, expected: str, *extra: str | Path) -> None:
    code, lines = verify(path, *extra)
    assert code == 3, lines
    errors = [line for line in lines if line.startswith("bias-ledger: error")]
    assert len(errors) == 1, lines
    assert expected in errors[0], errors[0]
    assert not any("Traceback" in line or "internal error" in line for line in lines), lines


def zip_with(
    items: Items,
    *,
    order: list[str] | None = None,
    tweak: Callable[[zipfile.ZipInfo], None] = lambda info: None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """Write ``items`` as the exporter does, except for what ``tweak`` changes per member."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in order or sorted(items):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            info.compress_type = compression
            tweak(info)
            archive.writestr(info, items[name])
            tweak(info)  # again: for what the central directory says at close
    return buffer.getvalue()


def relist(items: Items, index: int, raw: bytes) -> Items:
    """Replace record ``index``'s bytes and relist its hashes, as a forger would."""
    sig = items[f"records/{index}.sig"]
    line = raw + b"\t" + __import__("base64").b64encode(dearmor(sig.decode(), where="test"))
    value = manifest(items)
    for item in value["records"]:
        if item["index"] == index:
            item["record_hash"] = blake3.blake3(raw).hexdigest()
            item["leaf_hash"] = BLAKE3_HASHER.hash_leaf(line).hex()
    return {**items, f"records/{index}.json": raw, "bundle.json": dump(value)}


def test_the_golden_bundle_itself_passes() -> None:
    code, lines = verify(BUNDLE)
    assert code == 0, lines


# --- item 4: inputs that crashed the verifier -------------------------------------------


def test_deeply_nested_manifest(tmp_path: Path) -> None:
    items = members(BUNDLE)
    path = write_members(tmp_path / "b.zip", {**items, "bundle.json": b"[" * 200_000})
    assert_refused(path, "bundle.json: expected JSON, found values nested too deeply to parse")


def test_deeply_nested_record(tmp_path: Path) -> None:
    items = relist(members(BUNDLE), 1, b'{"a":' * 100_000 + b"1" + b"}" * 100_000)
    path = write_members(tmp_path / "b.zip", items)
    assert_refused(path, "record 1: record is not valid JSON (values nested too deeply to parse)")


def test_zip_version_needed_above_6_3(tmp_path: Path) -> None:
    def newer(info: zipfile.ZipInfo) -> None:
        info.extract_version = 64

    path = tmp_path / "b.zip"
    path.write_bytes(zip_with(members(BUNDLE), tweak=newer))
    assert_refused(path, "needs version 6.4 to extract; expected 2.0")


def test_format_version_is_a_list(tmp_path: Path) -> None:
    items = members(BUNDLE)
    value = manifest(items)
    value["format_version"] = []
    path = write_members(tmp_path / "b.zip", {**items, "bundle.json": dump(value)})
    assert_refused(path, "unknown bundle format_version []")


@pytest.mark.parametrize("where", ["origin", "root", "armor"])
def test_non_ascii_byte_in_the_kept_checkpoint(where: str, tmp_path: Path) -> None:
    kept = (GOLDEN / "kept-checkpoint-3").read_bytes()
    lines = kept.split(b"\n")
    target = {"origin": 0, "root": 2, "armor": 6}[where]
    lines[target] = lines[target][:5] + b"\xc3\xa9" + lines[target][5:]
    path = tmp_path / "kept"
    path.write_bytes(b"\n".join(lines))
    assert_refused(BUNDLE, str(path), "--since", path)


# --- item 5: what the spec says to refuse -------------------------------------------------


def test_sshsig_with_sha256_is_refused(world: World, tmp_path: Path) -> None:
    items = members(world.other_bundle)
    checkpoint, _ = parse_signed_checkpoint(items["checkpoint"], source="test")
    armored = sshsig.sign(world.key_c, checkpoint.body(), hash_algorithm="sha256")
    items = {
        **items,
        "checkpoint": checkpoint.body() + b"\n" + armored.encode(),
        "checkpoint.sig": armored.encode(),
    }
    trusted = tmp_path / "c"
    from bias_ledger.ledger.keys import public_key_openssh

    trusted.write_text(f"c@example.com {public_key_openssh(world.key_c.public_key())}\n")
    path = write_members(tmp_path / "b.zip", items)
    code, lines = verify(path, trusted=trusted)
    assert code == 3, lines
    assert any("expected hash algorithm 'sha512', got 'sha256'" in line for line in lines), lines


@pytest.mark.parametrize("junk", ["before", "after"])
def test_junk_around_the_zip(junk: str, tmp_path: Path) -> None:
    data = BUNDLE.read_bytes()
    path = tmp_path / "b.zip"
    path.write_bytes(b"MZjunk" + data if junk == "before" else data + b"trailing junk")
    expected = (
        "expected the zip to start at byte 0"
        if junk == "before"
        else "expected the zip's end record to end the file"
    )
    assert_refused(path, expected)


def test_stored_members(tmp_path: Path) -> None:
    path = tmp_path / "b.zip"
    path.write_bytes(zip_with(members(BUNDLE), compression=zipfile.ZIP_STORED))
    assert_refused(path, "member 'bundle.json' is stored (method 0); expected deflated")


def test_unsorted_members(tmp_path: Path) -> None:
    items = members(BUNDLE)
    path = tmp_path / "b.zip"
    path.write_bytes(zip_with(items, order=sorted(items, reverse=True)))
    assert_refused(path, "members are not sorted by name")


def test_other_timestamp(tmp_path: Path) -> None:
    def later(info: zipfile.ZipInfo) -> None:
        info.date_time = (2026, 1, 1, 0, 0, 0)

    path = tmp_path / "b.zip"
    path.write_bytes(zip_with(members(BUNDLE), tweak=later))
    assert_refused(path, "has the timestamp 2026-01-01 00:00:00; expected 1980-01-01 00:00:00")


def test_other_mode(tmp_path: Path) -> None:
    def executable(info: zipfile.ZipInfo) -> None:
        info.external_attr = 0o100755 << 16

    path = tmp_path / "b.zip"
    path.write_bytes(zip_with(members(BUNDLE), tweak=executable))
    assert_refused(path, "has mode 0o100755 (system 3); expected 0o100644")


def test_a_zip_comment_is_junk_after_the_zip(tmp_path: Path) -> None:
    data = BUNDLE.read_bytes()
    # The end-of-central-directory record's last field is the comment length.
    end = data.rindex(b"PK\x05\x06")
    patched = data[: end + 20] + struct.pack("<H", 4) + b"hey!"
    path = tmp_path / "b.zip"
    path.write_bytes(patched)
    assert_refused(path, "expected the zip's end record to end the file")


def test_the_bundle_json_bytes_stay_exact(tmp_path: Path) -> None:
    items = members(BUNDLE)
    value = json.loads(items["bundle.json"])
    path = write_members(
        tmp_path / "b.zip", {**items, "bundle.json": json.dumps(value).encode() + b"\n"}
    )
    assert_refused(path, "bundle.json: expected the canonical layout")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: p.update(parameters=[]), "expected 'parameters' to be Mapping, found list"),
        (lambda p: p.update(inputs="x"), "expected 'inputs' to be list, found str"),
        (lambda p: p["parameters"].update(sensitive=5), "record 0: malformed recorded parameters"),
        (
            lambda p: p["parameters"].update(label="no such column"),
            "record 0: its recorded parameters do not re-run on the matching files",
        ),
    ],
    ids=["parameters list", "inputs string", "sensitive int", "unknown column"],
)
def test_a_trusted_but_malformed_audit_payload_fails_recompute_cleanly(
    change: Callable[[dict[str, Any]], None], expected: str, world: World, tmp_path: Path
) -> None:
    """Verification first, payloads after: a record signed by a trusted key whose payload no
    `audit` wrote is refused with one line (exit 3), not an internal error."""
    import copy

    from bias_ledger.bundle.export import Selection, export_bundle
    from bias_ledger.ledger.record import RecordKind
    from bias_ledger.ledger.store import append_record, init_ledger

    record = json.loads(members(BUNDLE)["records/1.json"])
    payload = copy.deepcopy(record["audit"])
    change(payload)
    ledger = tmp_path / "ledger"
    init_ledger(ledger, name="hostile", format_version=1)  # export_bundle: format 1
    append_record(ledger, RecordKind.AUDIT, payload, world.key_a)
    bundle = tmp_path / "b.zip"
    bundle.write_bytes(export_bundle(ledger, Selection(everything=True)).data)
    code, lines = verify(
        bundle, "--recompute", "--data", GOLDEN / "data.csv", trusted=world.trusted
    )
    errors = [line for line in lines if line.startswith("bias-ledger: error")]
    assert code == 3, lines
    assert len(errors) == 1 and expected in errors[0], lines
    assert "internal error" not in errors[0]


def test_verification_never_renders_a_payload(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 9 item 4: a signed payload that would crash a renderer (``results: null``) is
    evidence like any other; verifying it reads headers, hashes and signatures only."""
    import bias_ledger.bundle.export as export
    from bias_ledger.bundle.signers import signers_text
    from bias_ledger.ledger.record import RecordKind
    from bias_ledger.ledger.store import append_record, init_ledger

    record = json.loads(members(BUNDLE)["records/1.json"])
    payload = {**record["audit"], "results": None}
    ledger = tmp_path / "ledger"
    init_ledger(ledger, name="hostile", format_version=1)  # export_bundle: format 1
    append_record(ledger, RecordKind.AUDIT, payload, world.key_a)

    def placeholder_reports(data: Any) -> dict[str, bytes]:
        return {
            "keys/allowed_signers": signers_text(data.signers),
            "report.md": b"# not rendered\n",
            "report.html": b"<p>not rendered</p>\n",
        }

    monkeypatch.setattr(export, "derived_members", placeholder_reports)
    bundle = tmp_path / "b.zip"
    bundle.write_bytes(export.export_bundle(ledger, export.Selection(everything=True)).data)
    code, lines = verify(bundle, trusted=world.trusted)
    assert code == 0, lines
