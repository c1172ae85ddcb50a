"""``bias-ledger key``: generate, show, rotate and revoke Ed25519 signing keys (OpenSSH)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from bias_ledger.cli.options import JsonOption, KeyOption, LedgerOption
from bias_ledger.cli.output import out, print_json, warning_line
from bias_ledger.errors import KeyFileError
from bias_ledger.wording import counted

key_app = typer.Typer(help="Ed25519 signing keys in OpenSSH format.", no_args_is_help=True)


def ask_passphrase(prompt: str) -> str:
    try:
        return getpass.getpass(f"{prompt}: ")
    except EOFError:
        # No terminal and nothing on stdin: an error to explain, not click's bare "Aborted!".
        from bias_ledger.signing import PASSPHRASE_ENV

        raise KeyFileError(
            f"{prompt}: no passphrase could be read (no terminal, empty stdin); "
            f"set {PASSPHRASE_ENV}"
        ) from None


def _describe(public_line: str, fp: str, path: Path | None, json_output: bool) -> None:
    if json_output:
        print_json(
            {"path": str(path) if path else None, "public_key": public_line, "fingerprint": fp}
        )
        return
    if path is not None:
        out().print(f"private key: {path}")
    out().print(public_line, soft_wrap=True)
    out().print(f"fingerprint: {fp}")


@key_app.command("generate")
def generate(
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Where to write the private key (.pub beside it).",
            show_default=False,
        ),
    ] = None,
    passphrase: Annotated[
        bool,
        typer.Option("--passphrase", help="Encrypt the key (asks, or BIAS_LEDGER_KEY_PASSPHRASE)."),
    ] = False,
    exist_ok: Annotated[
        bool, typer.Option("--exist-ok", help="If the key file exists, show it instead of failing.")
    ] = False,
    comment: Annotated[str, typer.Option(help="Comment of the public key line.")] = "bias-ledger",
    ledger: LedgerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Create an Ed25519 key (mode 0600), print its public key and SHA256 fingerprint."""
    import os

    from bias_ledger.ledger.keys import (
        fingerprint,
        generate_key,
        load_private_key_file,
        public_key_openssh,
        write_private_key_file,
    )
    from bias_ledger.ledger.reader import resolve_ledger_path
    from bias_ledger.outputs import ledger_containing
    from bias_ledger.signing import PASSPHRASE_ENV, default_key_path, load_signing_key

    path = output or default_key_path()
    ledger_dir = resolve_ledger_path(ledger).resolve()
    inside = ledger_dir == path.resolve().parent or ledger_dir in path.resolve().parents
    if inside or ledger_containing(path) is not None:  # the configured ledger or any other
        raise KeyFileError(f"{path}: a signing key must never be stored inside the ledger")
    if path.exists() and exist_ok:
        key = load_signing_key(path, ask_passphrase=ask_passphrase, warn=warning_line)
        public = key.public_key()
        _describe(public_key_openssh(public, comment), fingerprint(public), path, json_output)
        return
    secret: bytes | None = None
    if passphrase:
        text = os.environ.get(PASSPHRASE_ENV) or ask_passphrase("New passphrase")
        if not os.environ.get(PASSPHRASE_ENV) and ask_passphrase("Repeat passphrase") != text:
            raise KeyFileError("the passphrases do not match")
        if not text:
            raise KeyFileError("empty passphrase: leave out --passphrase for an unencrypted key")
        secret = text.encode()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = generate_key()
    write_private_key_file(path, key, secret, comment=comment)
    load_private_key_file(path, secret)  # what was written reads back
    public = key.public_key()
    _describe(public_key_openssh(public, comment), fingerprint(public), path, json_output)


@key_app.command("show")
def show(
    key: KeyOption = None,
    ledger: LedgerOption = None,
    json_output: JsonOption = False,
    note_key: Annotated[
        bool,
        typer.Option(
            "--note-key",
            help="Print the signed-note verifier key <origin>+<key id>+<base64> of the "
            "ledger's checkpoints (C2SP signed-note, Go's sumdb/note).",
        ),
    ] = False,
) -> None:
    """Print the public key and fingerprint of the signing key that would be used, and how
    many records of the ledger (when there is one) it signed."""
    from bias_ledger.history import log_lines
    from bias_ledger.ledger.keys import fingerprint, public_key_openssh
    from bias_ledger.ledger.reader import LEDGER_FILE, resolve_ledger_path
    from bias_ledger.signing import load_signing_key

    public = load_signing_key(key, ask_passphrase=ask_passphrase, warn=warning_line).public_key()
    if note_key:
        from bias_ledger.cli.tlog_cmd import print_note_key

        print_note_key(public, resolve_ledger_path(ledger), json_output)
        return
    found = fingerprint(public)
    path = resolve_ledger_path(ledger)
    signed = None
    if (path / LEDGER_FILE).exists():
        signed = sum(1 for line in log_lines(path) if line.signer == found)
    if json_output:
        print_json(
            {
                "path": str(key) if key else None,
                "public_key": public_key_openssh(public),
                "fingerprint": found,
                "records_signed": signed,
            }
        )
        return
    _describe(public_key_openssh(public), found, key, json_output)
    if signed is not None:
        out().print(f"signed {counted(signed, 'record')} in {path}")


@key_app.command("rotate")
def rotate(
    new_key: Annotated[
        Path, typer.Option("--new-key", help="The successor key's private key file.")
    ],
    key: KeyOption = None,
    ledger: LedgerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Append a key-rotation record, signed by the current key, introducing --new-key; from then
    on the current key signs nothing more (the successor does)."""
    from bias_ledger.ledger.keys import fingerprint
    from bias_ledger.ledger.reader import read_meta, resolve_ledger_path
    from bias_ledger.ledger.record import RecordKind
    from bias_ledger.provenance import ci_labels
    from bias_ledger.records.keys import rotation_payload
    from bias_ledger.signing import load_signing_key
    from bias_ledger.workflows.append import append_witnessed

    old = load_signing_key(key, ask_passphrase=ask_passphrase, warn=warning_line)
    successor = load_signing_key(
        new_key, ask_passphrase=ask_passphrase, warn=warning_line, given_as="--new-key"
    ).public_key()
    if fingerprint(successor) == fingerprint(old.public_key()):
        raise KeyFileError(f"{new_key}: the new key is the current key")
    path = resolve_ledger_path(ledger)
    payload = rotation_payload(successor, format_version=read_meta(path).format_version)
    appended = append_witnessed(path, RecordKind.KEY_ROTATION, payload, old, labels=ci_labels())
    for warning in appended.warnings:  # committed; the checkpoint or state cache lags behind
        warning_line(warning)
    if json_output:
        # The fingerprint is shown as always, derived where the record leaves it out.
        shown = {**payload, "new_fingerprint": fingerprint(successor)}
        print_json({"index": appended.index, "record_hash": appended.record_hash, **shown})
        return
    out().print(
        f"record {appended.index}: key {fingerprint(old.public_key())} hands over to "
        f"{fingerprint(successor)}"
    )


@key_app.command("revoke")
def revoke(
    revoked: Annotated[
        str,
        typer.Argument(
            help="The compromised key: its fingerprint (SHA256:..., a key that signed a record "
            "or that a rotation introduced) or its .pub file.",
            show_default=False,
        ),
    ],
    after: Annotated[
        int,
        typer.Option(
            "--after",
            help="Records it signed after this index are invalid (-1: every record it signed).",
            show_default=False,
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the record).")] = "",
    key: KeyOption = None,
    ledger: LedgerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Append a key-revocation record, signed by --key (a trusted key, such as the successor):
    whatever the revoked key signed after record --after is invalid, and it signs no more."""
    from bias_ledger.ledger.keys import fingerprint
    from bias_ledger.ledger.reader import read_meta, resolve_ledger_path
    from bias_ledger.ledger.record import RecordKind
    from bias_ledger.provenance import ci_labels
    from bias_ledger.records.keys import known_key, revocation_payload
    from bias_ledger.signing import load_signing_key
    from bias_ledger.workflows.append import append_witnessed

    path = resolve_ledger_path(ledger)
    signing_key = load_signing_key(key, ask_passphrase=ask_passphrase)
    target, size = known_key(path, revoked)
    if fingerprint(target) == fingerprint(signing_key.public_key()):
        raise KeyFileError(
            f"{revoked}: a key does not revoke itself (what it signs after the revocation "
            "vouches for nothing); sign the revocation with another trusted key, such as its "
            "successor, with --key"
        )
    payload = revocation_payload(
        target, after=after, size=size, reason=reason, format_version=read_meta(path).format_version
    )
    appended = append_witnessed(
        path, RecordKind.KEY_REVOCATION, payload, signing_key, labels=ci_labels()
    )
    for warning in appended.warnings:  # committed; the checkpoint or state cache lags behind
        warning_line(warning)
    if json_output:
        # The fingerprint is shown as always, derived where the record leaves it out.
        named = {"revoked_public_key": payload["revoked_public_key"]}
        shown = {**named, "revoked_fingerprint": fingerprint(target), **payload}
        print_json({"index": appended.index, "record_hash": appended.record_hash, **shown})
        return
    by = fingerprint(signing_key.public_key())
    out().print(
        f"record {appended.index}: {by} revokes key {fingerprint(target)}: what it signed after "
        f"record {after} is invalid"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(key_app, name="key")
