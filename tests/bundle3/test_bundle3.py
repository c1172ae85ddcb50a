"""Bundle format 3: real exports of real format-2 ledgers, verified as a stream, and every kind
of tampering refused with exit 3 naming what failed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.bundle.helpers import cli
from tests.bundle3.helpers import make_ledger, members, rewrite

# The synthetic audit records have no metric the charts can label (report rendering's own
# warning, not the bundle's concern).
pytestmark = pytest.mark.filterwarnings("ignore:No artists with labels:UserWarning")
RECORDS = 24


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("b3")
    signers = make_ledger(root / "ledger", RECORDS)
    bundle = root / "all.tar"
    code, output = cli("export", "--ledger", root / "ledger", "--all", "-o", bundle)
    assert code == 0, output
    return root / "ledger", bundle, signers


def test_export_all_writes_the_fixed_member_order_and_verifies(
    exported: tuple[Path, Path, Path],
) -> None:
    _, bundle, signers = exported
    names = [name for name, _ in members(bundle)]
    per_record = [
        f"{kind}/{n}{ext}"
        for n in range(RECORDS)
        for kind, ext in (
            ("entries", ""),
            ("records", ".json"),
            ("records", ".sig"),
            ("proofs", ""),
        )
    ]
    assert names == [
        "bundle.json",
        "checkpoint",
        *per_record,
        "keys/allowed_signers",
        "report.md",
        "report.html",
    ]
    manifest = json.loads(dict(members(bundle))["bundle.json"])
    assert (manifest["format_version"], manifest["ranges"], manifest["records"]) == (
        3,
        [[0, RECORDS - 1]],
        RECORDS,
    )
    assert bundle.stat().st_size % 10240 == 0
    code, output = cli("verify", bundle, "--trusted-keys", signers)
    assert code == 0, output
    assert "version 3" in output and f"{RECORDS} records" in output
    if shutil.which("tar"):  # the compliance officer's route: GNU/BSD tar lists it
        listed = subprocess.run(["tar", "-tf", bundle], capture_output=True, text=True, check=True)
        assert listed.stdout.split() == names


def test_a_selection_is_listed_as_ranges_and_verifies(
    exported: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    ledger, _, signers = exported
    bundle = tmp_path / "some.tar"
    code, output = cli("export", "--ledger", ledger, "3", "4", "5", "20", "-o", bundle)
    assert code == 0, output
    manifest = json.loads(dict(members(bundle))["bundle.json"])
    assert manifest["ranges"] == [[3, 5], [20, 20]]
    code, output = cli(
        "verify", bundle, "--trusted-keys", signers, "--since", ledger / "checkpoint"
    )
    assert code == 0, output
    assert "since" in output


def test_without_trust_integrity_is_verified_and_the_signers_listed(
    exported: tuple[Path, Path, Path],
) -> None:
    code, output = cli("verify", exported[1])
    assert code == 3 and "no trusted key given" in output


def test_a_version2_bundle_is_still_written_on_request(
    exported: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    ledger, _, signers = exported
    bundle = tmp_path / "v2.zip"
    code, output = cli("export", "--ledger", ledger, "--all", "--bundle-format", "2", "-o", bundle)
    assert code == 0, output
    assert bundle.read_bytes()[:4] == b"PK\x03\x04"
    code, output = cli("verify", bundle, "--trusted-keys", signers)
    assert code == 0, output


def _flip(data: bytes, at: int = -2) -> bytes:
    changed = bytearray(data)
    changed[at] ^= 0x01
    return bytes(changed)


def _edited(items: list[tuple[str, bytes]], name: str, change: object) -> list[tuple[str, bytes]]:
    return [(n, change(d) if n == name else d) for n, d in items]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("member", "message"),
    [
        ("bundle.json", "bundle.json"),
        ("checkpoint", "checkpoint"),
        ("entries/7", "record 7"),
        ("records/7.json", "record 7"),
        ("records/7.sig", "records/7.sig"),
        ("proofs/7", "proofs/7"),
        ("keys/allowed_signers", "keys/allowed_signers differs"),
    ],
)
def test_a_changed_byte_in_each_member_kind_is_refused(
    exported: tuple[Path, Path, Path], member: str, message: str
) -> None:
    _, bundle, signers = exported
    at = 40 if member == "records/7.json" else -2
    edited = rewrite(
        bundle, _edited(members(bundle), member, lambda d: _flip(d, at)), member.replace("/", "_")
    )
    code, output = cli("verify", edited, "--trusted-keys", signers)
    assert code == 3, output
    assert message in output, output


def test_an_edited_report_is_not_evidence(exported: tuple[Path, Path, Path]) -> None:
    _, bundle, signers = exported
    edited = rewrite(bundle, _edited(members(bundle), "report.md", lambda d: d + b"edited"))
    code, output = cli("verify", edited, "--trusted-keys", signers)
    assert code == 0, output


def _layout_cases(items: list[tuple[str, bytes]]) -> dict[str, tuple[list[tuple[str, bytes]], str]]:
    names = [n for n, _ in items]
    at = names.index("entries/5")
    swapped = list(items)
    swapped[at], swapped[at + 1] = swapped[at + 1], swapped[at]
    proofs = dict(items)
    crossed = [
        (n, proofs["proofs/4"] if n == "proofs/3" else proofs["proofs/3"] if n == "proofs/4" else d)
        for n, d in items
    ]
    return {
        "reordered": (swapped, "expected 'entries/5'"),
        "missing": ([x for x in items if x[0] != "records/9.sig"], "expected 'records/9.sig'"),
        "extra": ([*items[:10], ("records/99.json", b"{}"), *items[10:]], "'records/99.json'"),
        "duplicated": ([*items[:6], items[5], *items[6:]], "expected 'entries/1'"),
        "swapped proof": (crossed, "proofs/3 does not prove it"),
        "extra at end": ([*items, ("notes.txt", b"x")], "expected the end of the archive"),
    }


@pytest.mark.parametrize(
    "case", ["reordered", "missing", "extra", "duplicated", "swapped proof", "extra at end"]
)
def test_a_reordered_missing_extra_or_swapped_member_is_refused(
    exported: tuple[Path, Path, Path], case: str
) -> None:
    _, bundle, signers = exported
    items, message = _layout_cases(members(bundle))[case]
    edited = rewrite(bundle, items, case.replace(" ", "_") + ".tar")
    code, output = cli("verify", edited, "--trusted-keys", signers)
    assert code == 3, output
    assert message in output, output


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d[:136] + b"00000000001\0" + d[148:], "ustar header is not the fixed one"),
        (lambda d: d + b"junk", "bytes after the end of the archive"),
        (lambda d: d[: -10240 - 700], "truncated"),
        (lambda d: d[: 1024 - 3] + b"x" + d[1024 - 2 :], "padding"),
    ],
    ids=["header mtime", "trailing bytes", "truncated", "padding"],
)
def test_bytes_outside_the_members_are_refused(
    exported: tuple[Path, Path, Path], tmp_path: Path, edit: object, message: str
) -> None:
    _, bundle, signers = exported
    edited = tmp_path / "raw.tar"
    edited.write_bytes(edit(bundle.read_bytes()))  # type: ignore[operator]
    code, output = cli("verify", edited, "--trusted-keys", signers)
    assert code == 3, output
    assert message in output, output


def test_a_zip_name_gets_the_version2_zip_and_version3_is_refused_for_it(
    exported: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    ledger, _, _ = exported
    code, output = cli("export", "--ledger", ledger, "1", "-o", tmp_path / "one.zip")
    assert code == 0, output
    assert (tmp_path / "one.zip").read_bytes()[:4] == b"PK\x03\x04"
    wrong = tmp_path / "three.zip"
    code, output = cli("export", "--ledger", ledger, "1", "--bundle-format", "3", "-o", wrong)
    assert code == 2 and "name it .tar" in output and not wrong.exists(), output
