"""Output options never write inside a ledger, and write atomically (real processes, real files).

Before, ``export -o``, ``audit -o`` and ``gate --junit`` pointed at a ledger file replaced it and
every record was lost.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bias_ledger.errors import InputError
from bias_ledger.outputs import check_output_path, ledger_containing, write_output
from tests.ledger.helpers import cli_env, run_cli, write_small_csv

AUDIT = ["--label", "label", "--prediction", "pred", "--sensitive", "group"]
POLICY = """version = 1
name = "lenient"

[[rules]]
name = "parity"
summary = "demographic_parity_ratio"
min = 0.0
features = ["group"]
"""


@dataclass(frozen=True)
class Setup:
    root: Path
    ledger: Path
    env: dict[str, str]
    data: Path

    def run(self, *args: str | Path) -> tuple[int, str]:
        done = run_cli(*args, env=self.env, cwd=self.root)
        return done.returncode, done.stdout + done.stderr

    def snapshot(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(self.ledger.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    root = tmp_path_factory.mktemp("outputs")
    ledger = root / "ledger"
    env = cli_env(root, BIAS_LEDGER_DIR=str(ledger))
    made = Setup(root, ledger, env, write_small_csv(root / "data.csv"))
    for args in (["init", "--name", "outputs"], ["key", "generate"], ["audit", made.data, *AUDIT]):
        code, text = made.run(*args)
        assert code == 0, text
    (root / "policy.toml").write_text(POLICY)
    return made


@pytest.mark.parametrize(
    "command",
    [
        ["export", "--all", "-o", "{target}"],
        ["audit", "{data}", *AUDIT, "-o", "{target}"],
        ["audit", "{data}", *AUDIT, "--no-record", "--output", "{target}"],
        ["gate", "--policy", "{policy}", "{data}", *AUDIT, "--junit", "{target}"],
    ],
    ids=["export -o", "audit -o", "audit --no-record --output", "gate --junit"],
)
@pytest.mark.parametrize("target", ["records.log", "ledger.json", "sub/dir/x.xml"])
def test_an_output_inside_the_ledger_is_refused_before_anything_is_recorded(
    setup: Setup, command: list[str], target: str
) -> None:
    before = setup.snapshot()
    path = setup.ledger / target
    args = [
        a.format(target=path, data=setup.data, policy=setup.root / "policy.toml") for a in command
    ]
    code, text = setup.run(*args)
    assert code == 2, text
    assert f"would be written inside the ledger {setup.ledger.resolve()}" in text
    assert setup.snapshot() == before  # nothing overwritten, nothing appended
    assert not (setup.ledger / "sub").exists()


def test_a_symlink_into_the_ledger_and_a_relative_path_are_refused(setup: Setup) -> None:
    link = setup.root / "innocent.zip"
    link.symlink_to(setup.ledger / "records.log")
    before = setup.snapshot()
    for target in (link, Path("elsewhere/../ledger/records.log")):
        code, text = setup.run("export", "--all", "-o", target)
        assert code == 2 and "would be written inside the ledger" in text, text
    assert setup.snapshot() == before


def test_the_configured_ledger_is_refused_even_before_init(tmp_path: Path) -> None:
    ledger = tmp_path / "not-yet"
    ledger.mkdir()
    data = write_small_csv(tmp_path / "data.csv")
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger))
    done = run_cli("audit", data, *AUDIT, "--no-record", "-o", ledger / "out.json", env=env)
    assert done.returncode == 2 and "inside the ledger" in done.stderr, done.stderr
    assert list(ledger.iterdir()) == []


def test_outputs_outside_are_written_atomically(setup: Setup) -> None:
    target = setup.root / "reports" / "fairness.xml"
    target.parent.mkdir()
    target.write_text("old")
    hard_link = setup.root / "hard-link"
    os.link(target, hard_link)
    code, text = setup.run(
        "gate", "--policy", setup.root / "policy.toml", setup.data, *AUDIT, "--junit", target
    )
    assert code == 0, text
    assert target.read_text().startswith("<?xml")
    assert hard_link.read_text() == "old"  # a new file was renamed in, the old inode untouched
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]
    bundle = setup.root / "new" / "dirs" / "bundle.zip"
    code, text = setup.run("export", "--all", "-o", bundle)
    assert code == 0 and bundle.read_bytes().startswith(b"PK"), text


def test_an_output_to_a_stream_is_written_through(setup: Setup) -> None:
    done = run_cli(
        "audit", setup.data, *AUDIT, "--no-record", "-q", "-o", "/dev/stdout", env=setup.env
    )
    assert done.returncode == 0, done.stderr
    assert '"record": null' in done.stdout


def test_the_guard_recognises_a_ledger_by_its_marker(tmp_path: Path) -> None:
    ledger = tmp_path / "some-ledger"
    ledger.mkdir()
    assert ledger_containing(ledger / "x") is None
    (ledger / "ledger.json").write_text('{"format":"bias-ledger","format_version":2}\n')
    assert ledger_containing(ledger / "deep" / "x") == ledger.resolve()
    with pytest.raises(InputError, match="publish DIR would be written inside the ledger"):
        check_output_path(ledger / "tiles", what="publish DIR")
    other = tmp_path / "unrelated"
    other.mkdir()
    (other / "ledger.json").write_text('{"accounts": []}\n')  # someone else's ledger.json
    write_output(other / "out.txt", "fine")
    assert (other / "out.txt").read_text() == "fine"
    (other / "records.log").write_text("")  # beside ledger files it counts, whatever it says
    with pytest.raises(InputError, match="inside the ledger"):
        write_output(other / "out.txt", "no")


def test_a_key_is_never_written_into_another_ledger(setup: Setup, tmp_path: Path) -> None:
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "configured"))
    done = run_cli("key", "generate", "-o", setup.ledger / "id", env=env)
    assert done.returncode == 2 and "never be stored inside the ledger" in done.stderr
    assert not (setup.ledger / "id").exists()


def test_a_verification_report_inside_the_ledger_is_refused(setup: Setup) -> None:
    before = setup.snapshot()
    code, text = setup.run("verify", "--trust-ledger-keys", "--report", setup.ledger / "r.html")
    assert code == 2 and "--report would be written inside the ledger" in text, text
    assert setup.snapshot() == before and not (setup.ledger / "r.html").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["attest", "0", "-o", "{target}.jsonl"],
        ["report", "0", "--summary", "nyc-ll144", "-o", "{target}.md"],
    ],
    ids=["attest -o", "report --summary -o"],
)
def test_attest_and_summary_use_the_one_guard_and_refuse_any_ledger(
    setup: Setup, command: list[str]
) -> None:
    """Not only the configured ledger: a file inside another ledger is refused too (they used
    a second, weaker check that knew only the configured one)."""
    other = setup.root / "other-ledger"
    if not other.exists():
        code, text = setup.run("init", "--name", "other", "--ledger", other)
        assert code == 0, text
    files = sorted(p.name for p in other.iterdir())
    code, text = setup.run(*[a.format(target=other / "out") for a in command])
    assert code == 2, text
    assert f"would be written inside the ledger {other.resolve()}" in text
    assert sorted(p.name for p in other.iterdir()) == files


def test_attest_writes_through_the_guard_atomically(setup: Setup) -> None:
    target = setup.root / "attested" / "record0.jsonl"
    target.parent.mkdir()
    target.write_text("old\n")
    model = setup.root / "model.bin"
    model.write_bytes(b"model")
    code, text = setup.run("attest", "0", "--model", model, "-o", target)
    assert code == 0, text
    assert target.read_text().startswith("{") and "payloadType" in target.read_text()
    assert [p.name for p in target.parent.iterdir()] == ["record0.jsonl"]  # no temporary left


# publish DIR, $GITHUB_STEP_SUMMARY, the action's $GITHUB_OUTPUT and witness serve --state went
# around the guard: publish replaced another ledger's checkpoint (an older copy of the same log)
# or wrote a log inside one, the gate appended its job summary (the action its outputs) to a
# ledger's checkpoint, after recording its verdict, and a witness kept its state (and its lock)
# in a ledger.


def tree(directory: Path) -> dict[str, bytes | str]:
    """Everything under ``directory``: a file's bytes, a link's target, a directory as ``dir``."""
    found: dict[str, bytes | str] = {}
    for path in sorted(directory.rglob("*")):
        name = str(path.relative_to(directory))
        if path.is_symlink():
            found[name] = "link " + os.readlink(path)
        elif path.is_dir():
            found[name] = "dir"
        else:
            found[name] = path.read_bytes()
    return found


@dataclass(frozen=True)
class Ledgers:
    """The format-2 ledger ``source`` that publish copies (the configured ledger of ``env``),
    ``backup``, a copy of it one record shorter (same origin: its checkpoint is a prefix), and
    ``other``, the module's ledger, of another origin."""

    setup: Setup
    source: Path
    backup: Path
    env: dict[str, str]

    @property
    def other(self) -> Path:
        return self.setup.ledger

    def all(self) -> list[Path]:
        return [self.source, self.backup, self.other]

    def run(self, *args: str | Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        done = run_cli(*args, env=env or self.env, cwd=self.setup.root)
        return done.returncode, done.stdout, done.stderr

    def assert_verify(self) -> None:
        for ledger in self.all():
            code, out, err = self.run("verify", "--trust-ledger-keys", "--ledger", ledger)
            assert code == 0 and "VALID" in out, out + err


@pytest.fixture(scope="module")
def ledgers(setup: Setup) -> Ledgers:
    source = setup.root / "source-ledger"
    env = {**setup.env, "BIAS_LEDGER_DIR": str(source)}
    made = Ledgers(setup, source, setup.root / "source-backup", env)
    code, text = setup.run("init", "--name", "source", "--ledger", source)
    assert code == 0, text
    assert json.loads((source / "ledger.json").read_bytes())["format_version"] == 2
    code, out, err = made.run("audit", setup.data, *AUDIT)
    assert code == 0, out + err
    shutil.copytree(source, made.backup)
    code, out, err = made.run("audit", setup.data, *AUDIT)
    assert code == 0, out + err
    return made


def only_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("bias-ledger: error: "), stderr
    return lines[0]


@pytest.mark.parametrize(
    ("target", "inside"),
    [
        ("{other}", "{other}"),
        ("{other}/tile", "{other}"),
        ("{other}/public/log", "{other}"),
        ("{backup}", "{backup}"),
        ("{source}", "{source}"),
        ("{source}/public", "{source}"),
        ("{root}/link-to-tiles", "{other}"),
        ("{root}/link-to-ledger/site", "{other}"),
    ],
    ids=[
        "another ledger",
        "a directory in another ledger",
        "a new directory in another ledger",
        "an older copy of the ledger",
        "the ledger itself",
        "a directory in the ledger itself",
        "a symlink to a directory in a ledger",
        "a path through a symlink to a ledger",
    ],
)
def test_publish_into_any_ledger_is_refused_and_leaves_it_intact(
    ledgers: Ledgers, target: str, inside: str
) -> None:
    root = ledgers.setup.root
    if not (root / "link-to-tiles").exists():
        (root / "link-to-tiles").symlink_to(ledgers.other / "tile")
        (root / "link-to-ledger").symlink_to(ledgers.other)
    names = {"other": ledgers.other, "backup": ledgers.backup, "source": ledgers.source}
    path = Path(target.format(root=root, **names))
    before = {ledger: tree(ledger) for ledger in ledgers.all()}
    code, out, err = ledgers.run("publish", path)
    assert code == 2, out + err
    found = Path(inside.format(**names)).resolve()
    line = only_error_line(err)
    assert line == (
        f"bias-ledger: error: {path}: publish DIR would be written inside the ledger {found}, "
        "where it could replace ledger files; choose a path outside the ledger"
    )
    assert {ledger: tree(ledger) for ledger in ledgers.all()} == before  # byte for byte
    ledgers.assert_verify()


def test_publish_into_a_published_log_is_no_ledger_and_is_allowed(
    ledgers: Ledgers, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    for _ in range(2):  # the second run updates a directory that publish wrote: no ledger
        code, out, err = ledgers.run("publish", site, "--json")
        assert code == 0, out + err
        assert json.loads(out)["size"] == 2
    assert not (site / "ledger.json").exists()
    code, out, err = ledgers.run("verify", site, "--trust-ledger-keys")
    assert code == 0 and "VALID" in out, out + err


@pytest.mark.parametrize(
    ("target", "inside"),
    [
        ("{own}/checkpoint", "{own}"),
        ("{own}/summary.md", "{own}"),
        ("{other}/checkpoint", "{other}"),
        ("{root}/summary-link.md", "{other}"),
    ],
    ids=[
        "the gate's ledger's checkpoint",
        "a new file in the gate's ledger",
        "another ledger's checkpoint",
        "a symlink to a ledger file",
    ],
)
def test_a_job_summary_inside_a_ledger_stops_the_gate_before_it_records(
    ledgers: Ledgers, target: str, inside: str
) -> None:
    root = ledgers.setup.root
    if not (root / "summary-link.md").exists():
        (root / "summary-link.md").symlink_to(ledgers.other / "checkpoint")
    names = {"own": ledgers.source, "other": ledgers.other}
    path = Path(target.format(root=root, **names))
    env = {**ledgers.env, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(path)}
    before = {ledger: tree(ledger) for ledger in ledgers.all()}
    policy = ledgers.setup.root / "policy.toml"
    code, out, err = ledgers.run("gate", "--policy", policy, ledgers.setup.data, *AUDIT, env=env)
    assert code == 2, out + err
    found = Path(inside.format(**names)).resolve()
    assert only_error_line(err) == (
        f"bias-ledger: error: {path}: $GITHUB_STEP_SUMMARY would be written inside the ledger "
        f"{found}, where it could replace ledger files; choose a path outside the ledger; the "
        "gate did not run and recorded no verdict (exit 2, not a pass)"
    )
    assert "::" not in out  # no annotation of a verdict that was never reached
    assert {ledger: tree(ledger) for ledger in ledgers.all()} == before  # nothing recorded
    assert not (ledgers.source / "summary.md").exists()
    ledgers.assert_verify()


@pytest.mark.parametrize(
    ("target", "shadowed"),
    [("{own}/checkpoint", False), ("{root}/output-link", False), ("{own}/checkpoint", True)],
    ids=["a ledger file", "a symlink to one", "a checkout shadowing bias_ledger"],
)
def test_the_actions_github_output_inside_a_ledger_stops_the_step(
    ledgers: Ledgers, target: str, shadowed: bool, tmp_path: Path
) -> None:
    """The composite action's script, run by bash with the real bias-ledger, as the runner would:
    it appends exit-code and verdict to $GITHUB_OUTPUT after the gate; it now refuses first. A
    checked-out repository holding a bias_ledger/ package (one whose check lets anything
    through) does not replace the installed one."""
    from tests.policy.test_action import ACTION, gate_script

    root = ledgers.setup.root
    workdir = tmp_path / "checkout" if shadowed else root
    if shadowed:
        fake = workdir / "bias_ledger" / "cli"
        fake.mkdir(parents=True)
        (workdir / "bias_ledger" / "__init__.py").write_text("")
        (fake / "__init__.py").write_text("")
        (fake / "github_files.py").write_text("raise SystemExit(0)\n")
    if not (root / "output-link").exists():
        (root / "output-link").symlink_to(ledgers.source / "checkpoint")
    path = Path(target.format(root=root, own=ledgers.source))
    inputs = dict.fromkeys(re.findall(r"^        (BL_[A-Z_]+):", ACTION, flags=re.MULTILINE), "")
    env = {
        **ledgers.env,
        **inputs,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{ledgers.env['PATH']}",
        "BL_POLICY": str(root / "policy.toml"),
        "BL_DATA": str(ledgers.setup.data),
        "BL_LABEL": "label",
        "BL_PREDICTION": "pred",
        "BL_SENSITIVE": "group",
        "BL_FAIL_ON_VIOLATION": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(path),
    }
    before = {ledger: tree(ledger) for ledger in ledgers.all()}
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", gate_script()],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert only_error_line(done.stderr) == (
        f"bias-ledger: error: {path}: $GITHUB_OUTPUT would be written inside the ledger "
        f"{ledgers.source.resolve()}, where it could replace ledger files; choose a path outside "
        "the ledger; the gate did not run and recorded no verdict, and the step's exit-code and "
        "verdict outputs are not set (exit 2, not a pass)"
    )
    assert {ledger: tree(ledger) for ledger in ledgers.all()} == before
    assert not (tmp_path / "summary.md").exists()  # the gate never ran
    ledgers.assert_verify()


@pytest.mark.parametrize("state", ["{other}/witness", "{root}/link-to-ledger"])
def test_a_witness_state_inside_a_ledger_is_refused(ledgers: Ledgers, state: str) -> None:
    """Its lock file would be the ledger's lock, and a state rolled back with the ledger would
    let a fork through."""
    root = ledgers.setup.root
    if not (root / "link-to-ledger").exists():
        (root / "link-to-ledger").symlink_to(ledgers.other)
    key, logs = root / "witness-key", root / "logs.toml"
    if not key.exists():
        code, out, err = ledgers.run("key", "generate", "-o", key)
        assert code == 0, out + err
        code, out, err = ledgers.run("key", "show", "--note-key")
        assert code == 0, out + err
        origin = out.strip().split("+", 1)[0]
        logs.write_text(f'[[log]]\norigin = "{origin}"\nverifier_keys = ["{out.strip()}"]\n')
    path = Path(state.format(root=root, other=ledgers.other))
    before = tree(ledgers.other)
    done = run_cli(
        "witness", "serve", "--key", key, "--logs", logs, "--state", path,
        env=ledgers.env, cwd=root, timeout=30,  # the old code served on, in the ledger
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert only_error_line(done.stderr) == (
        f"bias-ledger: error: {path}: the witness state directory (--state) would be written "
        f"inside the ledger {ledgers.other.resolve()}, where it could replace ledger files; "
        "choose a path outside the ledger"
    )
    assert tree(ledgers.other) == before
