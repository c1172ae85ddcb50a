"""Output formats come from one registry, by extension: a known one is rendered, an unknown one
is one error line naming the known ones (exit 2), before anything is verified or written."""

from __future__ import annotations

from pathlib import Path

import pytest

from bias_ledger.errors import ExitCode, InputError
from bias_ledger.render import formats
from bias_ledger.render.formats import AUDIT_REPORT, CYCLONEDX, VERIFICATION_REPORT, Formats
from tests.ledger.helpers import build_ledger, cli_env, run_cli

REGISTRIES = [
    getattr(formats, name) for name in dir(formats) if isinstance(getattr(formats, name), Formats)
]


@pytest.mark.parametrize("registry", REGISTRIES, ids=lambda r: r.what)
def test_every_known_extension_is_chosen_and_an_unknown_one_is_named(
    registry: Formats[object],
) -> None:
    assert len(set(registry.extensions)) == len(registry.extensions), (
        "an extension is claimed twice"
    )
    for item in registry.formats:
        for extension in item.extensions:
            assert registry.for_path(Path(f"out{extension.upper()}"), option="-o") is item
    with pytest.raises(InputError) as refused:
        registry.for_path(Path("out.pdf"), option="-o")
    message = refused.value.diagnostics()
    assert "\n" not in message and "'.pdf'" in message
    assert all(extension in message for extension in registry.extensions)
    with pytest.raises(InputError, match="no extension"):
        registry.for_path(Path("out"), option="-o")


def test_compound_and_bare_names() -> None:
    assert CYCLONEDX.for_path(Path("model.cdx.json"), option="-o").name == "json"
    assert AUDIT_REPORT.for_path(Path("report.markdown"), option="-o").name == "markdown"
    with pytest.raises(InputError):  # a name that is only the extension names no file
        VERIFICATION_REPORT.for_path(Path(".json"), option="--report")


def test_the_registry_renders_the_verification_report(tmp_path: Path) -> None:
    doc = {"schema": "x", "result": "valid", "checks": [], "warnings": []}
    text = VERIFICATION_REPORT.render(doc, tmp_path / "r.json", option="--report")
    assert text.lstrip().startswith("{")


def test_the_commands_refuse_an_unknown_extension_before_any_work(tmp_path: Path) -> None:
    built = build_ledger(tmp_path / "world")
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(built.path), BIAS_LEDGER_KEY=str(built.alice.path))
    signers = built.alice.allowed_signers(tmp_path / "signers")
    cases: list[tuple[tuple[str | Path, ...], Path, str]] = [
        (("report", "0", "-o"), tmp_path / "r.pdf", ".html, .htm, .md, .markdown"),
        (("verify", "--trusted-keys", signers, "--report"), tmp_path / "v.txt", ".json, .md"),
        (("export", "--cyclonedx"), tmp_path / "card.xml", ".json"),
        (("attest", "0", "-o"), tmp_path / "a.txt", ".jsonl"),
    ]
    before = (built.path / "records.log").read_bytes()
    for head, target, known in cases:
        done = run_cli(*head, target, env=env, cwd=tmp_path)
        assert done.returncode == ExitCode.USAGE, (head, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and known in lines[0] and str(target) in lines[0], done.stderr
        assert not target.exists()
    assert (built.path / "records.log").read_bytes() == before
