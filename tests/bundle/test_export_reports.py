"""Export through the CLI: selection, determinism, trust anchors; reports escape hostile names."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bias_ledger.bundle.model import MANIFEST
from bias_ledger.gate import resolve_baseline
from bias_ledger.ledger.keys import fingerprint
from bias_ledger.results_json import record_results

from .conftest import FORMULA, HOSTILE_GROUPS, SCRIPT, World
from .helpers import cli, members, write_members

HEAVY = {"pandas", "numpy", "pyarrow", "fairlearn", "sklearn", "scipy", "rich", "typer"}


def run(*args: str | Path) -> tuple[int, str]:
    code, output = cli(*args)
    return code, " ".join(output.split())


def export(world: World, out: Path, *selection: str) -> dict[str, object]:
    code, output = cli("export", *selection, "-o", out, "--ledger", world.ledger, "--json")
    assert code == 0, output
    value: dict[str, object] = json.loads(output)
    return value


def test_export_is_deterministic(world: World, tmp_path: Path) -> None:
    first = export(world, tmp_path / "a.zip", "--all")
    second = export(world, tmp_path / "b.zip", "--all")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert first["blake3"] == second["blake3"]
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_member_layout(world: World, tmp_path: Path) -> None:
    export(world, tmp_path / "a.zip", "1", "3")
    names = set(members(tmp_path / "a.zip"))
    assert names == {
        "bundle.json",
        "checkpoint",
        "checkpoint.body",
        "checkpoint.sig",
        "keys/allowed_signers",
        "report.md",
        "report.html",
        *(f"records/{i}.{ext}" for i in (1, 2, 3) for ext in ("json", "sig")),
    }


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (["0"], [0, 2]),  # the rotation to the checkpoint's signer comes along
        (["4", "0"], [0, 2, 4]),  # and the rotation to record 4's signer
        (["--model", "nothing-by-this-name"], None),
        (["--model", "credit"], [0, 1, 2, 3, 4]),  # audits 0, 1, 3, rotation 2, approval 4
        (["--since", "2000-01-01"], [0, 1, 2, 3, 4]),
        (["--since", "2999-01-01"], None),
        (["--all"], [0, 1, 2, 3, 4]),
    ],
)
def test_selection(
    selection: list[str], expected: list[int] | None, world: World, tmp_path: Path
) -> None:
    out = tmp_path / "s.zip"
    code, output = run("export", *selection, "-o", out, "--ledger", world.ledger, "--json")
    if expected is None:
        assert code == 2
        assert "no record matches the selection" in output
        assert not out.exists()
    else:
        assert code == 0, output
        assert json.loads(output)["records"] == expected


def test_selection_must_be_one(world: World, tmp_path: Path) -> None:
    code, output = run("export", "0", "--all", "-o", tmp_path / "x.zip", "--ledger", world.ledger)
    assert code == 2
    assert "exactly one of" in output
    code, output = run("export", "9", "-o", tmp_path / "x.zip", "--ledger", world.ledger)
    assert code == 2
    assert "record 9: the latest checkpoint covers records 0..4" in output


def test_no_trust_anchor_lists_signers(world: World) -> None:
    code, output = run("verify", world.bundle)
    assert code == 3
    assert "no trusted key given" in output
    for key in (world.key_a, world.key_b):
        assert fingerprint(key.public_key()) in output


def test_no_trust_anchor_json(world: World) -> None:
    code, output = cli("verify", world.bundle, "--json")
    document = json.loads(output)
    assert code == 3 and document["valid"] is False
    assert "no trusted key given" in document["error"]
    found = {item["fingerprint"] for item in document["signers"]}
    assert found == {fingerprint(k.public_key()) for k in (world.key_a, world.key_b)}
    assert "signers list" in [step["what"] for step in document["steps"]]
    reports = next(c for c in document["checks"] if c["what"] == "reports")
    assert reports["status"] == "skipped" and "not evidence" in reports["detail"]


def test_keys_in_bundle_are_not_trusted(world: World, tmp_path: Path) -> None:
    """The bundle's own allowed_signers lists C; trusting A from outside still rejects C."""
    code, output = run("verify", world.other_bundle, "--trusted-keys", world.trusted)
    assert code == 3
    assert "untrusted key" in output


def test_trusted_key_fingerprints(world: World) -> None:
    a, b = (fingerprint(k.public_key()) for k in (world.key_a, world.key_b))
    code, output = run("verify", world.bundle, "--trusted-key", a, "--json")
    assert code == 0, output
    document = json.loads(output)
    assert document["valid"] is True and document["records"] == [0, 1, 2, 3, 4]
    assert {s["fingerprint"] for s in document["signers"]} == {a, b}
    assert [s["what"] for s in document["steps"]][:3] == [
        "bundle format",
        "checkpoint signature",
        "records",
    ]


def test_failure_json(world: World, tmp_path: Path) -> None:
    items = members(world.bundle)
    items["keys/allowed_signers"] = items["keys/allowed_signers"].replace(b"SHA256:", b"SHA256:x")
    code, output = cli("verify", write_members(tmp_path / "t.zip", items), "--json")
    document = json.loads(output)
    assert code == 3
    assert document["valid"] is False and "keys/allowed_signers differs" in document["error"]
    assert document["checks"][-1]["status"] == "failed"
    assert document["checks"][-1]["what"] == "signers list"


SVG_TAGS = {"svg", "desc", "defs", "g", "path", "use", "text", "clippath", "rect", "pattern",
            "polyline", "line", "circle", "ellipse", "polygon", "tspan"}  # fmt: skip
"""Inline SVG charts (matplotlib's output): drawing elements only, no script or foreignObject."""


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_report_escapes_group_names(world: World) -> None:
    page = members(world.bundle)["report.html"].decode()
    assert SCRIPT not in page and FORMULA not in page
    assert "<script" not in page.lower()
    parser = _Collector()
    parser.feed(page)
    page_tags = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "h4", "p",
                 "ul", "li", "table", "thead", "tbody", "tr", "th", "td", "pre", "code",
                 "section", "figure", "figcaption", "hr"}  # fmt: skip
    assert parser.tags <= page_tags | SVG_TAGS
    assert not [a for a in parser.attributes if a[0] in {"src", "href", "action"}
                or a[0].startswith("on")]  # fmt: skip
    # The charts' only references are to their own definitions (#id), never to a resource.
    assert all((v or "").startswith("#") for k, v in parser.attributes if k == "xlink:href")
    assert not re.search(r"https?://(?!x\b)", page)  # no network resource of ours
    for cell in parser.text:  # no table cell or text starts a spreadsheet formula
        assert re.fullmatch(r"-|-?\d+(\.\d+)?", cell) or not cell.startswith(("=", "+", "-", "@"))
    text = "".join(parser.text)
    # As rendered: the names show literally, formulas neutralised with a leading quote.
    assert SCRIPT in text
    assert "'" + FORMULA in text
    assert html.escape(SCRIPT) in page


def test_markdown_report_escapes_group_names(world: World) -> None:
    page = members(world.bundle)["report.md"].decode()
    for name in HOSTILE_GROUPS:
        assert name not in page
    assert "\\<script\\>alert\\(1\\)\\</script\\>" in page
    assert "'=HYPERLINK\\(" in page
    assert "pipe\\|star\\*under\\_\\[link\\]\\(x\\)" in page
    assert "'@SUM\\(A1\\)" in page
    assert "'-north" in page and "'+south" in page
    widths: list[int] = []
    for line in [*page.splitlines(), ""]:
        if line.startswith("|"):  # a table row: count the cells split by unescaped pipes
            widths.append(len(re.split(r"(?<!\\)\|", line)))
        elif widths:
            assert len(set(widths)) == 1, widths  # every row as wide as the header
            widths = []


def test_reports_show_four_fifths_and_policy(world: World) -> None:
    page = members(world.bundle)["report.md"].decode()
    assert "BELOW 4/5" in page
    assert "Policy four\\-fifths" in page or "Policy four-fifths" in page
    assert "four\\-fifths: FAIL" in page or "four-fifths: FAIL" in page
    assert "ssh-keygen -Y verify" in page and "b3sum bundle/records/0.json" in page


def test_gate_baseline_from_bundle(world: World, tmp_path: Path) -> None:
    from bias_ledger.errors import VerificationError
    from bias_ledger.gate_trust import GateTrust
    from bias_ledger.ledger.trust import load_allowed_signers

    with pytest.raises(VerificationError, match="refusing to rely on it without a trusted key"):
        resolve_baseline(None, str(world.bundle), GateTrust())
    approvers = GateTrust(approvers=load_allowed_signers(world.trusted))
    baseline = resolve_baseline(None, str(world.bundle), approvers)
    record = json.loads(members(world.bundle)["records/3.json"])
    assert baseline.results == record_results(record["audit"])
    assert baseline.source["record_index"] == 3 and baseline.source["trusted"] is True
    assert baseline.source["trusted_by"] == str(world.trusted)
    with pytest.raises(VerificationError, match="a bundle's own keys are never trusted"):
        resolve_baseline(None, str(world.bundle), GateTrust(trust_ledger_keys=True))
    items = members(world.bundle)
    items["records/3.json"] = items["records/3.json"].replace(b'"audit"', b'"audiT"', 1)
    with pytest.raises(VerificationError, match="the record was altered"):
        resolve_baseline(None, str(write_members(tmp_path / "t.zip", items)), approvers)


def test_manifest_names_the_format(world: World) -> None:
    value = json.loads(members(world.bundle)[MANIFEST])
    assert (value["format"], value["format_version"]) == ("bias-ledger-bundle", 1)


def test_verifier_import_boundary() -> None:
    code = (
        "import sys; import bias_ledger.bundle.verify, bias_ledger.bundle.read, "
        "bias_ledger.verify; "
        f"bad = [m for m in sys.modules if m.split('.')[0] in {sorted(HEAVY)!r}]; "
        "assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_export_consistent_with_then_verify_since(world: World, tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    kept.write_bytes(world.kept2)
    out = tmp_path / "c.zip"
    document = export(world, out, "3", "--consistent-with", str(kept))
    assert document["consistency"]["old_size"] == 2  # type: ignore[index]
    assert document["records"] == [2, 3]
    code, output = run("verify", out, "--trusted-keys", world.trusted, "--since", kept)
    assert code == 0, output
    assert "extends the checkpoint kept in" in output


def test_gate_baseline_bundle_with_trusted_approvers(world: World) -> None:
    from bias_ledger.errors import VerificationError
    from bias_ledger.gate_trust import GateTrust
    from bias_ledger.ledger.trust import TrustedKeys, load_allowed_signers

    officers = GateTrust(approvers=load_allowed_signers(world.trusted))
    trusted = resolve_baseline(None, str(world.bundle), officers)
    assert trusted.source["trusted"] is True
    stranger = TrustedKeys.from_fingerprints([fingerprint(world.key_c.public_key())])
    with pytest.raises(VerificationError, match="untrusted key"):
        resolve_baseline(None, str(world.other_bundle), officers)
    with pytest.raises(VerificationError, match="untrusted key"):
        resolve_baseline(None, str(world.bundle), GateTrust(approvers=stranger))
