"""``bias-ledger show N`` prints readable values: "—" for none, yes/no, lists and mappings as
text, never Python's ``None``, ``True``, ``False`` or a dict's repr; and counts in the right
number ("1 record", "VALID: 1 record")."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from bias_ledger.cli.app import app
from bias_ledger.render.record import NONE, shown
from tests.ledger.helpers import SAMPLE, initialised_env

CONFIG = SAMPLE / "bias-ledger.toml"


def test_shown_values_are_readable() -> None:
    assert [shown(None), shown(True), shown(False), shown([]), shown("")] == [
        NONE,
        "yes",
        "no",
        NONE,
        NONE,
    ]
    assert shown({"sex": "male", "seed": None}) == f"sex=male, seed={NONE}"
    assert shown(["sex", "race"]) == "sex, race"
    assert shown(0) == "0" and shown(0.95) == "0.95"


def test_show_prints_no_python_values(tmp_path: Path) -> None:
    env = {**initialised_env(tmp_path), "COLUMNS": "200"}
    runner = CliRunner()
    done = runner.invoke(app, ["audit", "--config", str(CONFIG), "-q"], env=env)
    assert done.exit_code == 0, done.stderr
    valid = runner.invoke(app, ["verify", "--trust-ledger-keys"], env=env)
    assert valid.exit_code == 0, valid.stderr
    assert ": 1 record of " in valid.stdout, valid.stdout
    assert runner.invoke(app, ["approve", "0"], env=env).exit_code == 0
    for index in ("0", "1"):
        text = runner.invoke(app, ["show", index], env=env).stdout
        words = set(text.split())
        assert not words & {"None", "True", "False"}, text
        assert "{'" not in text and "['" not in text, text
    audit = runner.invoke(app, ["show", "0"], env=env).stdout
    assert re.search(rf"previous hash +{NONE}\s", audit), audit
    assert re.search(r"param default_na +yes\s", audit), audit
    approval = runner.invoke(app, ["show", "1"], env=env).stdout
    assert re.search(r"approves +index=0, record_hash=[0-9a-f]{64}", approval), approval
