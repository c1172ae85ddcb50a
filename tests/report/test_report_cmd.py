"""``bias-ledger report``: verified first, then written; refused when it cannot be verified."""

from __future__ import annotations

from pathlib import Path

from tests.ledger.helpers import run_cli
from tests.report.helpers import Workspace, cli


def test_record_report_html_and_markdown(workspace: Workspace) -> None:
    html = workspace.root / "cmd-failing.html"
    said = cli(
        workspace, "report", str(workspace.failing), "-o", html, "--trusted-keys", workspace.trusted
    )
    assert "integrity and trust" in said
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "credit-model" in page
    md = workspace.root / "cmd-failing.md"
    said = cli(workspace, "report", str(workspace.failing), "-o", md)
    assert "integrity only" in said and "NOT checked" in said
    assert "credit-model" in md.read_text(encoding="utf-8")


def test_bundle_report_needs_trusted_keys(workspace: Workspace) -> None:
    bundle = workspace.root / "bundle.zip"
    cli(workspace, "export", "-o", bundle, "--all")
    out = workspace.root / "bundle.html"
    done = run_cli("report", bundle, "-o", out, env=workspace.env, cwd=workspace.root)
    assert done.returncode == 3 and "no trusted key" in done.stderr
    assert not out.exists()
    cli(workspace, "report", bundle, "-o", out, "--trusted-keys", workspace.trusted)
    assert "Record 2" in out.read_text(encoding="utf-8")


def test_tampered_ledger_is_not_reported(workspace: Workspace, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "ledger"
    shutil.copytree(workspace.root / ".bias-ledger", copy)
    # The record's bytes, wherever its format keeps them (format 2: records/<hash>.json).
    stored = [copy / "records.log"] if (copy / "records.log").exists() else []
    stored += sorted((copy / "records").glob("*.json")) if (copy / "records").is_dir() else []
    changed = next(path for path in stored if b'"credit-model"' in path.read_bytes())
    changed.write_bytes(changed.read_bytes().replace(b'"credit-model"', b'"credit-modem"', 1))
    out = tmp_path / "r.html"
    done = run_cli("report", "0", "-o", out, "--ledger", copy, env=workspace.env, cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert not out.exists()


def test_bad_outputs_are_refused(workspace: Workspace) -> None:
    for target, expected in (
        (workspace.root / "r.txt", "expected a file name ending in one of .html, .htm, .md"),
        (workspace.root / ".bias-ledger" / "r.html", "inside the ledger"),
        (workspace.root / "missing" / "r.html", "no such directory"),
    ):
        done = run_cli("report", "0", "-o", target, env=workspace.env, cwd=workspace.root)
        assert done.returncode == 2 and expected in done.stderr, done.stderr
        assert not target.exists()
    done = run_cli(
        "report", "99", "-o", workspace.root / "r.html", env=workspace.env, cwd=workspace.root
    )
    assert done.returncode == 2 and "record 99: no such record" in done.stderr
    assert "holds 3 records (0..2)" in done.stderr
