"""Format-2 bundles: exported from a format-2 ledger, verified offline, tampering refused."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from bias_ledger.bundle.export import Selection
from bias_ledger.bundle.export2 import export_bundle_v2
from bias_ledger.bundle.read import read_bundle
from bias_ledger.bundle.verify import BundleUntrustedError, verify_contents
from bias_ledger.errors import BundleError, VerificationError
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record
from bias_ledger.ledger.trust import TrustedKeys, load_allowed_signers
from tests.ledger.helpers import Signer
from tests.ledger2.helpers import copied_v2


@pytest.fixture
def built(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Signer]:
    return copied_v2(tmp_path_factory, tmp_path, 260)


def _write(tmp_path: Path, data: bytes, name: str = "b.zip") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _rezip(path: Path, **replace: bytes) -> Path:
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members.update(replace)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            archive.writestr(name, members[name])
    target = path.with_name("edited.zip")
    target.write_bytes(buffer.getvalue())
    return target


def _trusted(tmp_path: Path, signer: Signer) -> TrustedKeys:
    return load_allowed_signers(signer.allowed_signers(tmp_path / "allowed"))


def test_export_and_verify_a_format2_bundle(built: tuple[Path, Signer], tmp_path: Path) -> None:
    ledger, signer = built
    result = export_bundle_v2(ledger, Selection(indexes=(3, 257)))
    path = _write(tmp_path, result.data)
    contents = read_bundle(path)
    assert contents.manifest.format_version == 2
    assert sorted(contents.members)[:4] == ["bundle.json", "checkpoint", "entries/257", "entries/3"]
    assert json.loads(contents.members["bundle.json"])["hash"] == "sha256"
    verified = verify_contents(contents, _trusted(tmp_path, signer))
    assert verified.checkpoint is not None
    assert verified.indexes == (3, 257) and verified.checkpoint.size == 260
    with pytest.raises(BundleUntrustedError, match="no trusted key given"):
        verify_contents(contents, None)


def test_since_with_a_consistency_proof(built: tuple[Path, Signer], tmp_path: Path) -> None:
    ledger, signer = built
    kept = tmp_path / "kept"
    kept.write_bytes((ledger / "checkpoint").read_bytes())
    append_record(ledger, RecordKind.GATE, {"note": "later"}, signer.key)
    result = export_bundle_v2(ledger, Selection(indexes=(260,)), consistent_with=kept)
    contents = read_bundle(_write(tmp_path, result.data))
    trusted = _trusted(tmp_path, signer)
    done = verify_contents(contents, trusted, kept_checkpoint=kept.read_bytes(), kept_source="k")
    assert [s.what for s in done.steps][-1] == "since"
    plain = read_bundle(_write(tmp_path, export_bundle_v2(ledger, Selection(indexes=(1,))).data))
    with pytest.raises(VerificationError, match="fork: no consistency proof"):
        verify_contents(plain, trusted, kept_checkpoint=kept.read_bytes(), kept_source="k")


@pytest.mark.parametrize(
    ("member", "change", "error"),
    [
        ("records/3.json", lambda b: b.replace(b"record 3", b"record X"), "the record was altered"),
        ("entries/3", lambda b: b.replace(b'"index":3', b'"index":4'), "disagrees|altered|proven"),
        ("checkpoint", lambda b: b.replace(b"\n260\n", b"\n259\n"), "checkpoint was replaced"),
        ("keys/allowed_signers", lambda b: b + b"# added\n", "allowed_signers differs"),
        ("records/3.sig", lambda b: b.replace(b"U1NIU0lH", b"U1NIU0lI"), "not the entry's"),
    ],
)
def test_tampered_format2_bundles_are_refused(
    built: tuple[Path, Signer], tmp_path: Path, member: str, change: object, error: str
) -> None:
    ledger, signer = built
    path = _write(tmp_path, export_bundle_v2(ledger, Selection(indexes=(3,))).data)
    with zipfile.ZipFile(path) as archive:
        original = archive.read(member)
    assert callable(change)
    edited = _rezip(path, **{member: change(original)})
    with pytest.raises((VerificationError, BundleError), match=error):
        verify_contents(read_bundle(edited), _trusted(tmp_path, signer))


def test_an_unlisted_member_is_refused(built: tuple[Path, Signer], tmp_path: Path) -> None:
    ledger, _ = built
    path = _write(tmp_path, export_bundle_v2(ledger, Selection(indexes=(3,))).data)
    with pytest.raises(BundleError, match="unexpected member 'entries/4'"):
        read_bundle(_rezip(path, **{"entries/4": b"{}"}))
