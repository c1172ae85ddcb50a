"""Attack: roll the ledger back to an older, validly signed state so that ``gate --baseline
latest-approved`` falls back to an approval since revoked. ``--save-checkpoint`` keeps the
checkpoint each run relied on outside the ledger, ``--since`` refuses a ledger that does not
extend it, ``--witnesses`` needs a quorum of cosignatures. Real ledgers (formats 1 and 2), real
keys, the CLI in process for the honest runs and in a fresh process for every refusal."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bias_ledger.cli.app import app
from bias_ledger.ledger import note
from bias_ledger.ledger.keys import generate_key
from tests.attacks.cli import refused, run_cli
from tests.ledger.helpers import SAMPLE, Signer, flip_char, new_signer, read_lines

REGRESSION = SAMPLE / "policies" / "regression.toml"
CONFIG = SAMPLE / "bias-ledger.toml"
V2 = ("--prediction", "approved_v2", "--model-version", "2")
"""The better model; without these, the sample config audits version 1 (it regresses)."""


@dataclass(frozen=True)
class World:
    """Records 0 audit v2 (CI), 1 the officer approves 0, 2 audit v1 (CI), 3 the officer's
    stolen key approves 2, 4 the second officer revokes the first officer's key after record 2
    (approval 3 no longer counts). ``old`` is a copy of the ledger before record 4."""

    root: Path
    ledger: Path
    old: Path
    ci: Signer
    officer: Signer
    officers: Path
    """allowed_signers of both officers (the gate's --approved-by)."""
    env: dict[str, str | None]


def invoke(world: World, *args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=world.env)


def _against_latest_approval(world: World) -> tuple[str | Path, ...]:
    """The gate's arguments judging the configured audit against the latest approval."""
    return (
        "gate",
        "--config",
        CONFIG,
        "--policy",
        REGRESSION,
        "--baseline",
        "latest-approved",
        "--approved-by",
        world.officers,
    )


def gate(world: World, *args: str | Path, better: bool = False) -> Result:
    """``gate`` of the v1 audit (or the v2 one, ``better``) against the latest approval."""
    model = V2 if better else ()
    return invoke(world, *_against_latest_approval(world), *model, "--json", *args)


def gate_process(world: World, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """The v1 gate in a fresh process (no --debug), recording nothing."""
    return run_cli(*_against_latest_approval(world), "--no-record", *args, ledger=world.ledger)


def _build(root: Path, version: int) -> World:
    ci, officer = new_signer(root / "ci"), new_signer(root / "officer")
    second = new_signer(root / "officer2")
    officers = root / "officers"
    officers.write_text(
        f"officer {officer.public_line}\nofficer2 {second.public_line}\n", encoding="ascii"
    )
    ledger = root / "ledger"
    env: dict[str, str | None] = {
        "HOME": str(root / "home"),
        "XDG_CONFIG_HOME": str(root / "config"),
        "BIAS_LEDGER_DIR": str(ledger),
        "BIAS_LEDGER_KEY": str(ci.path),
        "BIAS_LEDGER_KEY_DATA": None,
        "GITHUB_ACTIONS": None,
        "COLUMNS": "200",
    }
    world = World(root, ledger, root / "old", ci, officer, officers, env)
    steps: list[tuple[str | Path, ...]] = [
        ("init", "--format", str(version)),
        ("audit", "--config", CONFIG, *V2, "-q"),
        ("approve", "0", "--key", officer.path),
        ("audit", "--config", CONFIG, "-q"),
        ("approve", "2", "--key", officer.path),
    ]
    for step in steps:
        done = invoke(world, *step)
        assert done.exit_code == 0, (step, done.stderr)
    shutil.copytree(ledger, world.old)
    done = invoke(world, "key", "revoke", officer.fingerprint, "--after", "2", "--key", second.path)
    assert done.exit_code == 0, done.stderr
    return world


@pytest.fixture(scope="module", params=[1, 2], ids=["format1", "format2"])
def template(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> World:
    return _build(tmp_path_factory.mktemp(f"rollback{request.param}"), request.param)


@pytest.fixture
def world(template: World, tmp_path: Path) -> World:
    """A private copy of the template's ledger and its older state."""
    shutil.copytree(template.ledger, tmp_path / "ledger")
    shutil.copytree(template.old, tmp_path / "old")
    env = {**template.env, "BIAS_LEDGER_DIR": str(tmp_path / "ledger")}
    return World(
        template.root,
        tmp_path / "ledger",
        tmp_path / "old",
        template.ci,
        template.officer,
        template.officers,
        env,
    )


def _size(data: bytes) -> int:
    """The tree size a kept checkpoint (either format) states."""
    if b"BEGIN SSH SIGNATURE" in data:
        from bias_ledger.ledger.checkpoint import parse_signed_checkpoint

        return parse_signed_checkpoint(data, source="kept")[0].size
    return int(note.parse_note(data).text.split("\n")[1])


def _restore_old(world: World) -> None:
    """The attacker's move: the older ledger, every record and checkpoint validly signed."""
    shutil.rmtree(world.ledger)
    shutil.copytree(world.old, world.ledger)


def test_ci_flow_saves_then_relies_on_the_kept_checkpoint_across_runs(
    world: World, tmp_path: Path
) -> None:
    kept = tmp_path / "ci-cache" / "checkpoint"
    first = gate(world, "--save-checkpoint", kept, better=True)
    assert first.exit_code == 0, first.stderr
    saved = kept.read_bytes()
    # The checkpoint the gate relied on (5 records), not the one its verdict was signed into.
    assert _size(saved) == 5 and len(read_lines(world.ledger)) == 6
    # The next run extends it (the first run's verdict was appended since) and keeps its own.
    second = gate(world, "--since", kept, "--save-checkpoint", kept, better=True)
    assert second.exit_code == 0, second.stderr
    assert _size(kept.read_bytes()) == 6  # the checkpoint this run relied on: one more
    third = gate(world, "--since", kept, better=True)
    assert third.exit_code == 0, third.stderr
    assert json.loads(third.stdout)["baseline"]["approval_index"] == 1
    assert not list(kept.parent.glob(".*"))  # written atomically: no temporary file left


def test_rollback_brings_back_a_revoked_approval_unless_a_checkpoint_was_kept(
    world: World, tmp_path: Path
) -> None:
    kept = tmp_path / "kept"
    for extra in (("--save-checkpoint", kept), ("--since", kept, "--save-checkpoint", kept)):
        assert gate(world, *extra, better=True).exit_code == 0
    honest = gate(world, "--since", kept, "--no-record")
    assert honest.exit_code == 1, honest.stderr  # v1 regresses against approval 1's v2
    assert json.loads(honest.stdout)["baseline"]["approval_index"] == 1

    _restore_old(world)
    fooled = gate(world, "--no-record")
    assert fooled.exit_code == 0, fooled.stderr  # why --since exists: approval 3 is back
    assert json.loads(fooled.stdout)["baseline"]["approval_index"] == 3
    said = refused(gate_process(world, "--since", kept))
    assert said.startswith("rollback: ") and str(kept) in said, said
    assert "4 records" in said, said


def _stranger_signed(data: bytes, version: int) -> bytes:
    """The kept checkpoint's body, claiming one more record, signed by a key nobody trusts."""
    stranger = generate_key()
    if version == 2:
        signed = note.parse_note(data)
        origin, size, root = signed.text.split("\n")[:3]
        return note.sign_note(f"{origin}\n{int(size) + 1}\n{root}\n", origin, stranger)
    from bias_ledger.ledger.checkpoint import parse_signed_checkpoint, sign_checkpoint

    body, _ = parse_signed_checkpoint(data, source="kept")
    from dataclasses import replace

    return sign_checkpoint(replace(body, size=body.size + 1), stranger)


@pytest.mark.parametrize("forgery", ["unsigned", "broken signature", "stranger's key"])
def test_a_forged_kept_checkpoint_is_refused(
    world: World, template: World, tmp_path: Path, forgery: str
) -> None:
    version = 2 if (world.ledger / "tile").is_dir() else 1
    data = (world.ledger / "checkpoint").read_bytes()
    if forgery == "unsigned":
        # The signed body without its signature: format 2's note text, format 1's body.
        forged = note.parse_note(data).text.encode() if version == 2 else _body_of(data)
    elif forgery == "broken signature":
        # A base64 character of the signature (format 1: its armour; 2: the note's line).
        at = data.index(b"-----END") - 10 if version == 1 else len(data) - 6
        forged = flip_char(data.decode(), at).encode()
    else:
        forged = _stranger_signed(data, version)
    kept = tmp_path / "kept"
    kept.write_bytes(forged)
    before = read_lines(world.ledger)
    said = refused(gate_process(world, "--since", kept))
    assert str(kept) in said, said
    assert read_lines(world.ledger) == before


def _body_of(data: bytes) -> bytes:
    from bias_ledger.ledger.checkpoint import parse_signed_checkpoint

    body, _ = parse_signed_checkpoint(data, source="kept")
    return body.body()


def test_save_checkpoint_inside_the_ledger_is_refused_before_any_work(world: World) -> None:
    before = read_lines(world.ledger)
    for inside in (world.ledger / "kept", world.ledger / "checkpoint"):
        done = run_cli(
            "gate",
            "--policy",
            REGRESSION,
            "--record",
            "2",
            "--baseline",
            "latest-approved",
            "--approved-by",
            world.officers,
            "--save-checkpoint",
            inside,
            ledger=world.ledger,
        )
        assert done.returncode == 2, done.stderr
        assert "--save-checkpoint would be written inside the ledger" in done.stderr
        assert "Traceback" not in done.stderr
    assert read_lines(world.ledger) == before
    assert not (world.ledger / "kept").exists()


def test_ledger_options_need_a_ledger_record_to_rely_on(world: World, tmp_path: Path) -> None:
    for option in ("--since", "--witnesses", "--save-checkpoint"):
        done = invoke(
            world, "gate", "--config", CONFIG, "--policy", REGRESSION, option, tmp_path / "f"
        )
        assert done.exit_code == 2, done.stderr
        assert f"{option}: not applicable" in done.stderr
    missing = gate(world, "--since", tmp_path / "never-saved")
    assert missing.exit_code == 2
    assert "cannot read the kept checkpoint" in missing.stderr
    # The ledger's own checkpoint "kept" inside it vouches for nothing: refused.
    inside = gate(world, "--since", world.ledger / "checkpoint")
    assert inside.exit_code == 2
    assert "the kept checkpoint is inside the ledger" in inside.stderr


def _policy(tmp_path: Path, name: str, key: object) -> Path:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    assert isinstance(key, Ed25519PrivateKey)
    verifier = note.note_verifier(name, key.public_key(), note.COSIGNATURE_V1).verifier_key()
    policy = tmp_path / "witnesses"
    policy.write_text(f"witness {name} {verifier}\nquorum 1\n", encoding="ascii")
    return policy


def test_witness_quorum_is_required_of_the_checkpoint(world: World, tmp_path: Path) -> None:
    witness = generate_key()
    policy = _policy(tmp_path, "witness.example.org/w1", witness)
    if not (world.ledger / "tile").is_dir():
        done = gate_process(world, "--witnesses", policy)
        assert done.returncode == 2, done.stderr
        assert "is a format-1 ledger" in done.stderr and "--since works" in done.stderr
        return
    said = refused(gate_process(world, "--witnesses", policy))
    assert "expected cosignatures by at least 1 of the policy's witnesses" in said, said
    # Cosigned by the witness, as its server would: the quorum is met, the gate judges.
    path = world.ledger / "checkpoint"
    signed = note.parse_note(path.read_bytes())
    cosignature = note.cosign_text(signed.text, "witness.example.org/w1", witness, 1_700_000_000)
    path.write_bytes(note.with_signatures(signed, [cosignature]).encode())
    kept = tmp_path / "kept"
    judged = gate(world, "--witnesses", policy, "--save-checkpoint", kept, "--no-record")
    assert judged.exit_code == 1, judged.stderr  # judged: v1 regresses
    assert kept.read_bytes() == path.read_bytes()  # the cosigned checkpoint, as verified


def test_the_kept_checkpoint_guards_trusted_keys_and_the_python_api(
    world: World, tmp_path: Path
) -> None:
    from bias_ledger.api import Ledger
    from bias_ledger.errors import VerificationError

    signers = tmp_path / "signers"
    signers.write_text(
        f"ci {world.ci.public_line}\n{world.officers.read_text(encoding='ascii')}",
        encoding="ascii",
    )
    kept = tmp_path / "kept"
    judge = ("--policy", SAMPLE / "policies" / "four-fifths.toml", "--record", "0")
    done = invoke(world, "gate", *judge, "--trusted-keys", signers, "--save-checkpoint", kept)
    assert done.exit_code == 0, done.stderr
    assert _size(kept.read_bytes()) == 5
    _restore_old(world)
    said = refused(
        run_cli("gate", *judge, "--trusted-keys", signers, "--since", kept, ledger=world.ledger)
    )
    assert said.startswith("rollback: ") and "5" in said, said
    # The Python face, as the CLI: the same refusal, nothing appended.
    before = read_lines(world.ledger)
    with pytest.raises(VerificationError, match="^rollback: "):
        Ledger.open(world.ledger).gate(
            SAMPLE / "policies" / "four-fifths.toml", record=0, trusted=signers, since=kept
        )
    assert read_lines(world.ledger) == before


def _cosign(ledger: Path, witness: object, at: int) -> None:
    """The witness's cosignature on ``ledger``'s checkpoint, made at POSIX time ``at`` (what
    its server would have returned then: the real key, the time in the signed message)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    assert isinstance(witness, Ed25519PrivateKey)
    path = ledger / "checkpoint"
    signed = note.parse_note(path.read_bytes())
    cosignature = note.cosign_text(signed.text, "witness.example.org/w1", witness, at)
    path.write_bytes(note.with_signatures(signed, [cosignature]).encode())


@pytest.mark.parametrize("template", [2], ids=["format2"], indirect=True)
def test_witnesses_stop_a_rollback_only_with_a_bound_on_the_cosignatures_age(
    world: World, tmp_path: Path
) -> None:
    """A restored older state carries the cosignatures of its time, all valid: a quorum alone
    passes it; ``max_age`` in the policy refuses cosignatures older than that."""
    import time

    witness = generate_key()
    now = int(time.time())
    _cosign(world.old, witness, now - 2 * 3600)  # cosigned two hours ago, before record 4
    _cosign(world.ledger, witness, now - 60)  # the current state, cosigned a minute ago
    quorum = _policy(tmp_path, "witness.example.org/w1", witness)
    fresh = tmp_path / "fresh"
    fresh.write_text(quorum.read_text(encoding="ascii") + "max_age 1h\n", encoding="ascii")
    honest = gate(world, "--witnesses", fresh, "--no-record")
    assert honest.exit_code == 1, honest.stderr  # judged: v1 regresses against approval 1
    assert json.loads(honest.stdout)["baseline"]["approval_index"] == 1

    _restore_old(world)
    fooled = gate(world, "--witnesses", quorum, "--no-record")
    assert fooled.exit_code == 0, fooled.stderr  # why max_age exists: approval 3 is back
    assert json.loads(fooled.stdout)["baseline"]["approval_index"] == 3
    said = refused(gate_process(world, "--witnesses", fresh))
    assert "older than the policy's max_age of 3600 s: witness.example.org/w1" in said, said
    assert "got 0 (none)" in said, said
