"""``verify --report FILE``: a report built from the structured checks, on success and failure,
as JSON, Markdown and self-contained HTML (issue 12 item 2)."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bias_ledger import __version__
from tests.chromium import render_in_chromium
from tests.ledger.helpers import cli_env, run_cli

from .helpers import cli, members, write_members

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "format1"
BUNDLE, TRUSTED = GOLDEN / "bundle.zip", GOLDEN / "allowed_signers"


def _first_key() -> str:
    from bias_ledger.ledger.trust import load_allowed_signers

    return next(iter(load_allowed_signers(TRUSTED).keys))


KEY_A = _first_key()
"""The golden ledger's first key, the only one its allowed_signers trusts."""


def report_of(tmp_path: Path, *args: str | Path, name: str = "r.json") -> tuple[int, Path]:
    path = tmp_path / name
    code, output = cli("verify", *args, "--report", path)
    assert path.exists(), output
    return code, path


def test_json_report_of_a_full_verification(tmp_path: Path) -> None:
    """Run as a real process, so that the command line is the one the report records."""
    path = tmp_path / "r.json"
    done = run_cli(
        "verify",
        "--report",
        path,
        BUNDLE,
        "--trusted-keys",
        TRUSTED,
        "--since",
        GOLDEN / "kept-checkpoint-3",
        "--recompute",
        "--data",
        GOLDEN / "data.csv",
        "--policy",
        GOLDEN / "policy.toml",
        env=cli_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(path.read_text())
    assert (doc["schema"], doc["schema_version"], doc["result"]) == (
        "bias-ledger-verification-report",
        1,
        "valid",
    )
    assert doc["error"] is None
    assert doc["verified"]["kind"] == "bundle" and doc["verified"]["records"] == list(range(7))
    keys = {key["fingerprint"]: key for key in doc["trusted_keys"]["keys"]}
    assert keys[KEY_A]["principals"] == "golden@example.com"
    assert keys[KEY_A]["from"] == f"{TRUSTED}:1"
    assert any(key["from"].startswith("rotation in") for key in keys.values())
    assert doc["trusted_keys"]["source"] == str(TRUSTED)
    checkpoint = json.loads(members(BUNDLE)["bundle.json"])["checkpoint"]
    assert doc["checkpoint"]["size"] == checkpoint["size"] == 7
    assert doc["checkpoint"]["root_hash"] == checkpoint["root_hash"]
    assert doc["cosignatures"] == []
    assert doc["since"] == {"kept": str(GOLDEN / "kept-checkpoint-3"), "result": "passed"}
    checks = {check["what"]: check for check in doc["checks"]}
    assert checks["since"]["against"].startswith(str(GOLDEN / "kept-checkpoint-3"))
    assert checks["trust"]["status"] == "passed" and checks["reports"]["status"] == "skipped"
    assert checks["recompute"]["status"] == "passed"
    import blake3

    digest = blake3.blake3((GOLDEN / "data.csv").read_bytes()).hexdigest()
    assert digest in checks["recompute"]["against"]
    inputs = doc["recompute"]["records"][0]["inputs"]
    assert inputs[0]["given_blake3"] == inputs[0]["recorded_blake3"] == digest
    assert doc["tool"] == {"name": "bias-ledger", "version": __version__}
    assert doc["time"].endswith("Z")
    assert doc["command_line"][:4] == ["bias-ledger", "verify", "--report", str(path)]
    assert doc["command_line"][-2:] == ["--policy", str(GOLDEN / "policy.toml")]


def test_a_failed_verification_writes_its_report(tmp_path: Path) -> None:
    items = members(BUNDLE)
    raw = items["records/1.json"]
    items["records/1.json"] = raw.replace(b'"sex"', b'"sax"', 1)
    bad = write_members(tmp_path / "bad.zip", items)
    code, path = report_of(tmp_path, bad, "--trusted-keys", TRUSTED)
    assert code == 3
    doc = json.loads(path.read_text())
    assert doc["result"] == "invalid"
    assert "records/1.json: expected BLAKE3" in doc["error"]
    last = doc["checks"][-1]
    assert (last["what"], last["status"]) == ("records", "failed")
    assert last["detail"] == doc["error"]
    assert [c["status"] for c in doc["checks"][:-1]] == ["passed", "passed"]
    assert doc["trusted_keys"]["source"] == str(TRUSTED)


def test_untrusted_report_lists_the_signers(tmp_path: Path) -> None:
    code, path = report_of(tmp_path, BUNDLE, name="r.md")
    assert code == 3
    text = path.read_text()
    assert "INVALID" in text and "no trusted key given" in text
    assert KEY_A.replace("+", "\\+") in text  # Markdown-escaped


def test_a_ledger_report(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    shutil.copytree(GOLDEN / "ledger", ledger)
    code, path = report_of(tmp_path, "--ledger", ledger, "--trusted-keys", TRUSTED)
    assert code == 0
    doc = json.loads(path.read_text())
    assert doc["verified"]["kind"] == "ledger" and doc["verified"]["size"] == 7
    assert "records" not in doc["verified"]  # all of 0..6
    assert doc["since"] is None
    code, path = report_of(tmp_path, "--ledger", ledger, "--trust-ledger-keys", name="s.json")
    assert code == 0
    doc = json.loads(path.read_text())
    assert doc["trusted_keys"]["source"] == "--trust-ledger-keys"
    assert "trusting the keys found in the ledger itself" in doc["warnings"][0]


def test_a_recompute_failure_is_reported(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_bytes((GOLDEN / "data.csv").read_bytes().replace(b"female", b"fem", 1))
    code, path = report_of(
        tmp_path, BUNDLE, "--trusted-keys", TRUSTED, "--recompute", "--data", data
    )
    assert code == 3
    doc = json.loads(path.read_text())
    assert doc["result"] == "invalid"
    assert doc["error"].startswith("--recompute: no audit record of the bundle was made")
    assert doc["checks"][-1]["what"] == "recompute"


def test_unknown_report_extension_is_a_usage_error(tmp_path: Path) -> None:
    code, output = cli("verify", BUNDLE, "--trusted-keys", TRUSTED, "--report", tmp_path / "r.pdf")
    assert code == 2
    assert "expected a file name ending in one of .json, .md, .markdown, .html, .htm" in output
    assert not (tmp_path / "r.pdf").exists()


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.csp = ""
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if values.get("http-equiv") == "Content-Security-Policy":
            self.csp = values.get("content") or ""

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_report_is_self_contained_and_escaped(tmp_path: Path) -> None:
    hostile = tmp_path / "<script>alert(1)<"
    hostile.mkdir()
    copy = hostile / "b.zip"
    copy.write_bytes(BUNDLE.read_bytes())
    code, path = report_of(tmp_path, copy, "--trusted-keys", TRUSTED, name="r.html")
    assert code == 0
    page = _Page()
    page.feed(path.read_text())
    assert "script" not in page.tags and "img" not in page.tags and "link" not in page.tags
    assert page.csp.startswith("default-src 'none'; style-src 'sha256-")
    assert "<script>alert(1)<" in "".join(page.text)  # shown as text, escaped
    assert "VALID" in "".join(page.text)


@pytest.mark.slow
def test_html_report_renders_in_chromium_without_errors(tmp_path: Path) -> None:
    code, path = report_of(tmp_path, BUNDLE, "--trusted-keys", TRUSTED, name="r.html")
    assert code == 0
    rendered = render_in_chromium(path, colour_of="h1 span")
    assert rendered.heading == "Verification report: VALID"
    assert rendered.colour == "rgb(0, 102, 68)"  # the stylesheet applied: the CSP hash matches it
    assert rendered.errors == []
    assert rendered.requests == [path.as_uri()]
