"""``bias-ledger witness``: run a witness, configure a ledger's witnesses, push checkpoints."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bias_ledger.cli.options import JsonOption, LedgerOption
from bias_ledger.cli.output import out, print_json, warning_line
from bias_ledger.errors import InputError, VerificationError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

witness_app = typer.Typer(
    help="Witnesses (C2SP tlog-witness): cosign checkpoints, or get a ledger's cosigned.",
    no_args_is_help=True,
)

WitnessKeyOption = Annotated[
    Path, typer.Option("--key", help="The witness's OpenSSH Ed25519 private key.")
]
NameOption = Annotated[
    str | None,
    typer.Option(
        "--name",
        help="The witness's key name in its cosignatures (default: witness/<key digest>).",
        show_default=False,
    ),
]


def _key_and_name(key_path: Path, name: str | None) -> tuple[Ed25519PrivateKey, str]:
    from bias_ledger.cli.key_cmd import ask_passphrase
    from bias_ledger.ledger.note import raw_public_key
    from bias_ledger.signing import load_signing_key

    key = load_signing_key(key_path, ask_passphrase=ask_passphrase)
    if name is None:
        name = "witness/" + hashlib.sha256(raw_public_key(key.public_key())).hexdigest()[:16]
    return key, name


def _listen_address(listen: str) -> tuple[str, int]:
    from bias_ledger.ledger.digits import parse_digits

    host, _, port = listen.rpartition(":")
    number = parse_digits(port, max_digits=5)
    if not host or number is None or number > 65535:
        shown = listen if len(listen) <= 60 else f"{listen[:40]}... ({len(listen)} characters)"
        raise InputError(f"--listen {shown!r}: expected HOST:PORT, e.g. 127.0.0.1:8443")
    return host.strip("[]"), number


@witness_app.command("serve")
def serve(
    key: WitnessKeyOption,
    logs: Annotated[
        Path, typer.Option("--logs", help="TOML file of the logs to cosign for (see FORMAT.md).")
    ],
    listen: Annotated[
        str, typer.Option("--listen", help="HOST:PORT to listen on (port 0: any free port).")
    ] = "127.0.0.1:0",
    name: NameOption = None,
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            help="Directory of the latest cosigned checkpoints (default: KEY.witness-state).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve POST /add-checkpoint; prints 'listening URL VERIFIER_KEY' once ready."""
    from bias_ledger.outputs import check_output_directory

    # Never inside a ledger: its lock file would be the ledger's, and a state that rolls back
    # with the ledger would let a fork through.
    state_dir = check_output_directory(
        state or key.with_name(key.name + ".witness-state"),
        what="the witness state directory (--state)",
    )
    try:
        from bias_ledger.witness.server import Witness
        from bias_ledger.witness.server import serve as serve_witness
    except ImportError as exc:
        raise InputError(
            f"witness serve needs aiohttp ({exc.name} is missing): "
            "pip install 'bias-ledger[witness]'"
        ) from exc
    from bias_ledger.witness.logs import load_logs
    from bias_ledger.witness.state import WitnessState

    host, port = _listen_address(listen)
    signing_key, witness_name = _key_and_name(key, name)
    known = load_logs(logs)
    witness_state = WitnessState(state_dir)
    witness = Witness(witness_name, signing_key, known, witness_state)

    def ready(url: str) -> None:
        print(f"listening {url} {witness.verifier_key()}", flush=True)

    try:
        serve_witness(witness, host, port, ready)
    except OSError as exc:
        raise InputError(f"--listen {listen}: cannot listen: {exc.strerror or exc}") from exc
    finally:
        witness_state.close()


@witness_app.command("key")
def key_command(key: WitnessKeyOption, name: NameOption = None) -> None:
    """Print the witness's cosignature verifier key (for 'witness add' and policy files)."""
    from bias_ledger.ledger.note import COSIGNATURE_V1, note_verifier

    signing_key, witness_name = _key_and_name(key, name)
    print(note_verifier(witness_name, signing_key.public_key(), COSIGNATURE_V1).verifier_key())


def _ledger(ledger: Path | None) -> Path:
    from bias_ledger.ledger.reader import read_meta, resolve_ledger_path

    path = resolve_ledger_path(ledger)
    meta = read_meta(path)
    if meta.format_version < 2:
        raise InputError(
            f"{path}: a format-{meta.format_version} ledger; witnesses cosign format-2 "
            "checkpoints (C2SP signed notes)"
        )
    return path


@witness_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A name for the witness in this ledger.")],
    url: Annotated[str, typer.Argument(help="The witness's submission URL prefix.")],
    verifier_key: Annotated[str, typer.Argument(help="Its cosignature verifier key.")],
    ledger: LedgerOption = None,
) -> None:
    """Push this ledger's checkpoints to a witness (replaces a witness of the same name)."""
    from bias_ledger.ledger.store import ledger_lock
    from bias_ledger.witness.config import load_witnesses, make_witness, save_witnesses

    path = _ledger(ledger)
    witness = make_witness(name, url, verifier_key)
    with ledger_lock(path):
        others = tuple(w for w in load_witnesses(path) if w.name != name)
        same_key = [w.name for w in others if w.verifier == witness.verifier]
        if same_key:
            raise InputError(f"witness {name}: the same key is already witness {same_key[0]}")
        save_witnesses(path, (*others, witness))
    out().print(f"witness {name} added: {witness.url}")


@witness_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The witness's name in this ledger.")],
    ledger: LedgerOption = None,
) -> None:
    """Stop pushing to a witness."""
    from bias_ledger.ledger.store import ledger_lock
    from bias_ledger.witness.config import load_witnesses, save_witnesses

    path = _ledger(ledger)
    with ledger_lock(path):
        witnesses = load_witnesses(path)
        if all(w.name != name for w in witnesses):
            raise InputError(f"{path}: no witness named {name!r}")
        save_witnesses(path, tuple(w for w in witnesses if w.name != name))
    out().print(f"witness {name} removed")


@witness_app.command("list")
def list_witnesses(ledger: LedgerOption = None, json_output: JsonOption = False) -> None:
    """The ledger's witnesses."""
    from bias_ledger.witness.config import load_witnesses

    witnesses = load_witnesses(_ledger(ledger))
    if json_output:
        print_json([w.to_json() for w in witnesses])
        return
    for w in witnesses:
        out().print(f"{w.name} {w.url} {w.verifier_key}", soft_wrap=True)
    if not witnesses:
        out().print("No witnesses; add one with 'bias-ledger witness add NAME URL KEY'.")


@witness_app.command("push")
def push(ledger: LedgerOption = None, json_output: JsonOption = False) -> None:
    """Send the latest checkpoint to every witness and store their cosignatures.

    Exit 3 when a witness did not cosign (down, or refused: the checkpoint may lack a quorum).
    """
    from bias_ledger.witness.client import push as push_to_witnesses

    path = _ledger(ledger)
    results = push_to_witnesses(path)
    if json_output:
        print_json([result.to_json() for result in results])
    else:
        for result in results:
            line = f"{result.witness}: {result.message}"
            if result.cosigned:
                out().print(f"{line} (size {result.size})")
            else:
                warning_line(line)
        if not results:
            out().print("No witnesses; add one with 'bias-ledger witness add NAME URL KEY'.")
    failed = [result.witness for result in results if not result.cosigned]
    if failed:
        sys.stdout.flush()
        raise VerificationError(f"not cosigned by {len(failed)} witness(es): {', '.join(failed)}")


def register(app: typer.Typer) -> None:
    app.add_typer(witness_app, name="witness")
