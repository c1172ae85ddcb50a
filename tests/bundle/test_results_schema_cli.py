"""Results schema 4 through the real command line (subprocesses): a fresh audit records each
value once and every command reads it in full; a record of a results schema newer than this
version is refused in one line (verification: exit 3 naming the record; reading: exit 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bias_ledger.workflows.append import sign_and_append

DATA = Path(__file__).resolve().parents[1] / "fixtures" / "layouts" / "schema4" / "data.csv"


def _run(home: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "BIAS_LEDGER_DEBUG": ""}
    env.pop("BIAS_LEDGER_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "bias_ledger", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=home,
        check=False,
    )


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A format-2 ledger: 0 a bootstrap audit, 1 an LL144 audit with a label."""
    home = tmp_path_factory.mktemp("home")
    for args in (
        ("init",),
        ("key", "generate"),
        ("audit", "--data", DATA, "--label", "label", "--prediction", "pred", "--sensitive",
         "sex", "--bootstrap", "40", "--seed", "11", "-q"),
        ("audit", "--data", DATA, "--standard", "nyc-ll144", "--race-ethnicity", "region",
         "--prediction", "pred", "--label", "label", "--ci", "0.9", "--data-source",
         "historical", "--data-description", "d", "--distribution-date", "2027-01-01",
         "--auditor", "A", "-q"),
    ):  # fmt: skip
        done = _run(home, *args)
        assert done.returncode == 0, done.stderr
    public = (home / ".config" / "bias-ledger" / "id_ed25519.pub").read_text().split()[:2]
    (home / "allowed_signers").write_text(f"me {' '.join(public)}\n", encoding="ascii")
    return home


def _stored(home: Path, index: int) -> dict[str, Any]:
    done = _run(home, "show", str(index), "--json")
    assert done.returncode == 0, done.stderr
    record: dict[str, Any] = json.loads(done.stdout)["record"]
    return record


def test_a_new_record_holds_each_value_once_and_every_command_reads_it(ledger: Path) -> None:
    audit = _stored(ledger, 0)["audit"]
    assert isinstance(audit, dict) and audit["schema_version"] == 4
    assert not {"ci_level", "bootstrap", "seed"} & set(audit["parameters"])
    assert audit["statistics"]["intervals"]["resamples"] == 40
    shown = _run(ledger, "show", "0")
    assert shown.returncode == 0, shown.stderr
    for line in ("param ci_level", "param bootstrap", "param seed"):
        assert line in shown.stdout, line
    assert [x for x in shown.stdout.splitlines() if "param seed" in x][0].split()[-1] == "11"
    ll144 = _stored(ledger, 1)["audit"]
    assert isinstance(ll144, dict)
    assert not {"standard", "tool_type", "ci_level"} & set(ll144["parameters"])
    assert not {"rate", "ci_level", "min_group_size"} & set(ll144["nyc_ll144"])
    assert ll144["statistics"]["intervals"]["level"] == 0.9
    trusted = ("--trusted-keys", ledger / "allowed_signers")
    assert _run(ledger, "verify", *trusted).returncode == 0
    summary = _run(ledger, "report", "1", "--summary", "nyc-ll144", "-o", "s.md", *trusted)
    assert summary.returncode == 0, summary.stderr
    page = (ledger / "s.md").read_text(encoding="utf-8")
    assert "**Type of tool:** selection" in page and "Selection rate" in page
    exported = _run(ledger, "export", "--all", "-o", "b.zip")
    assert exported.returncode == 0, exported.stderr
    again = _run(ledger, "verify", "b.zip", *trusted, "--recompute", "--data", DATA)
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize("version", [5, "4"])
def test_a_record_of_an_unknown_results_schema_is_refused_in_one_line(
    ledger: Path, tmp_path: Path, version: object
) -> None:
    """A record a later version might write, properly signed: verification fails naming it,
    readers refuse it, nothing is misread and no traceback is shown."""
    import shutil

    home = tmp_path / "home"
    shutil.copytree(ledger, home, symlinks=True)
    payload = dict(_stored(home, 0)["audit"])
    payload["schema_version"] = version
    key = home / ".config" / "bias-ledger" / "id_ed25519"
    appended = sign_and_append(home / ".bias-ledger", "audit", payload, key)
    assert appended.index == 2
    trusted = ("--trusted-keys", home / "allowed_signers")
    wanted = "newer than this bias-ledger reads (1 to 4)" if version == 5 else "expected an"
    for args, code in (
        (("verify", *trusted), 3),
        (("report", "2", "-o", "r.html", *trusted), 3),
        (("gate", "--record", "0", "--policy", _policy(home), *trusted, "--no-record"), 3),
        (("show", "2"), 2),
        (("log",), 2),
    ):
        done = _run(home, *args)
        assert done.returncode == code, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        refusal = [line for line in lines if "schema_version" in line]
        assert len(refusal) == 1 and "record 2" in refusal[0] and wanted in refusal[0], lines
        assert "Traceback" not in done.stderr


def _policy(home: Path) -> Path:
    path = home / "policy.toml"
    path.write_text(
        'version = 1\nname = "p"\n[[rules]]\nname = "ff"\nfour_fifths = true\n'
        'features = ["sex"]\nseverity = "error"\n',
        encoding="utf-8",
    )
    return path
