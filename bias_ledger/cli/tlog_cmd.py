"""Format-2 commands: publish, verify of a log (directory or URL), proofs, checkpoint, note key."""

from __future__ import annotations

import base64
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.markup import escape

from bias_ledger.cli.options import JsonOption, LedgerOption
from bias_ledger.cli.output import error_line, out, print_json, warning_line
from bias_ledger.errors import BiasLedgerError, ExitCode, InputError, VerificationError


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def is_format2(path: Path, *, error: type[BiasLedgerError] | None = None) -> bool:
    """Whether the ledger at ``path`` exists and is format 2; ``error`` is raised for a
    ledger file that is not a regular file (``verify`` passes VerificationError: exit 3)."""
    from bias_ledger.ledger.reader import LEDGER_FILE, read_meta

    if not (path / LEDGER_FILE).exists():
        return False
    meta = read_meta(path) if error is None else read_meta(path, error=error)
    return meta.format_version == 2


def is_published_log(target: str) -> bool:
    """A URL, or a directory holding a published log (a checkpoint and tiles, no ledger.json)."""
    if target.startswith(("http://", "https://")):
        return True
    path = Path(target)
    return path.is_dir() and (path / "checkpoint").is_file() and (path / "tile").is_dir()


def print_note_key(public: Ed25519PublicKey, ledger: Path, json_output: bool) -> None:
    from bias_ledger.ledger import note
    from bias_ledger.ledger.reader import read_meta

    origin = read_meta(ledger).origin
    verifier = note.note_verifier(origin, public).verifier_key()
    if json_output:
        print_json({"origin": origin, "note_key": verifier})
    else:
        sys.stdout.write(verifier + "\n")


def print_steps(steps: Sequence[Any], warnings: Sequence[str]) -> None:
    for step in steps:
        out().print(f"[green]✓[/] {escape(step.what)}: {escape(step.detail)}")
    for warning in warnings:
        warning_line(warning)


def _fail(error: VerificationError, json_output: bool, steps: Sequence[Any] = ()) -> None:
    if json_output:
        print_json(
            {
                "valid": False,
                "error": error.diagnostics(),
                "steps": [step.to_json() for step in steps],
            }
        )
    else:
        print_steps(steps, ())
        error_line(error.diagnostics())
        out().print("[bold red]INVALID[/]")
    raise typer.Exit(int(ExitCode.VERIFICATION_FAILED))


def run_verify_log(
    location: str,
    *,
    origin: str | None,
    trusted_keys: Path | None,
    trusted_key: Sequence[str],
    trust_ledger_keys: bool,
    since: Path | None,
    witnesses: Path | None,
    json_output: bool,
) -> None:
    """Verify a format-2 log in a directory or at a URL and print the checklist."""
    from bias_ledger.ledger.tlog_verify import UntrustedLogError
    from bias_ledger.workflows.trust import load_trust
    from bias_ledger.workflows.verify import verify_log_at

    trusted = load_trust(trusted_keys, trusted_key)
    try:
        result = verify_log_at(
            location,
            trusted=trusted,
            trust_ledger_keys=trust_ledger_keys,
            origin=origin,
            since=since,
            witnesses=witnesses,
        )
    except UntrustedLogError as error:
        _fail(error, json_output, error.steps)
        return
    except VerificationError as error:
        _fail(error, json_output)
        return
    if json_output:
        print_json(result.to_json())
        return
    print_steps(result.checks, result.warnings)
    signers = ", ".join(f"{fp} ({who})" if who else fp for fp, who in result.signers)
    out().print(f"[bold green]VALID[/]: {result.size} records of {escape(result.origin)}")
    out().print(f"signers: {escape(signers)}")


def _tree(ledger: Path) -> Any:
    from bias_ledger.ledger.tlog_read import read_signed_checkpoint
    from bias_ledger.ledger.tlog_source import DirectorySource
    from bias_ledger.ledger.tlog_tree import TileTree

    source = DirectorySource(ledger)
    try:
        _, checkpoint = read_signed_checkpoint(source)
    except VerificationError as exc:
        raise InputError(f"{exc.message} (the ledger has no records yet)") from exc
    tree = TileTree(source, checkpoint.size)
    if tree.root() != checkpoint.root_hash:
        raise VerificationError(f"{ledger}: the tiles do not match the checkpoint; run verify")
    return tree, checkpoint


def inclusion_v2(ledger: Path, index: int, size: int | None, json_output: bool) -> None:
    from bias_ledger.ledger.tlog_read import iter_entries
    from bias_ledger.ledger.tlog_tiles import leaf_hash

    tree, checkpoint = _tree(ledger)
    size = checkpoint.size if size is None else size
    if not 0 <= index < size <= checkpoint.size:
        raise InputError(f"record {index}, size {size}: expected 0 <= N < size <= {tree.size}")
    entry = next(data for _, data in iter_entries(tree.source, index + 1, start=index))
    leaf = leaf_hash(entry)
    hashes = tree.checked_inclusion(index, size, leaf)
    document = {
        "hash": "sha256",
        "index": index,
        "size": size,
        "entry": _b64(entry),
        "leaf_hash": _b64(leaf),
        "root_hash": _b64(tree.root(size)),
        "proof": [_b64(h) for h in hashes],
    }
    _print_proof(document, json_output)


def consistency_v2(ledger: Path, old_size: int, new_size: int, json_output: bool) -> None:
    tree, _ = _tree(ledger)
    hashes = tree.checked_consistency(old_size, new_size)
    document = {
        "hash": "sha256",
        "old_size": old_size,
        "new_size": new_size,
        "old_root": _b64(tree.root(old_size)),
        "new_root": _b64(tree.root(new_size)),
        "proof": [_b64(h) for h in hashes],
    }
    _print_proof(document, json_output)


def _print_proof(document: dict[str, Any], json_output: bool) -> None:
    if json_output:
        print_json(document)
        return
    for key, value in document.items():
        if key == "proof":
            for number, node in enumerate(value):
                out().print(f"proof[{number}]  {node}")
        elif key != "entry":
            out().print(f"{key}  {value}")
    out().print("verified: ok")


def checkpoint_v2(ledger: Path, json_output: bool) -> None:
    from bias_ledger.ledger.tlog_read import read_signed_checkpoint
    from bias_ledger.ledger.tlog_source import DirectorySource

    try:
        data, checkpoint = read_signed_checkpoint(DirectorySource(ledger))
    except VerificationError as exc:
        raise InputError(f"{exc.message} (the ledger has no records yet)") from exc
    if json_output:
        print_json(
            {
                "origin": checkpoint.origin,
                "size": checkpoint.size,
                "root_hash": _b64(checkpoint.root_hash),
                "signed_checkpoint": data.decode("utf-8"),
            }
        )
        return
    sys.stdout.write(data.decode("utf-8"))


def fsck_v2(ledger: Path, json_output: bool) -> None:
    """Format 2 needs no repair: check that the tiles hold the checkpoint's tree."""
    size = _tree(ledger)[1].size if (ledger / "checkpoint").exists() else 0
    if json_output:
        print_json({"clean": True, "records": size, "problems": [], "actions": []})
    else:
        out().print(f"ok: {size} records, the tiles match the checkpoint")


def publish(
    directory: Annotated[Path, typer.Argument(help="Where to write the static tiles layout.")],
    ledger: LedgerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Copy the log (checkpoint, C2SP tiles, records) to DIR for a static web server."""
    from bias_ledger.ledger.reader import resolve_ledger_path
    from bias_ledger.ledger.tlog_publish import publish as run_publish

    path = resolve_ledger_path(ledger)
    if not is_format2(path):
        raise InputError(f"{path}: publish needs a format-2 ledger (this one is format 1)")
    result = run_publish(path, directory)
    if json_output:
        print_json(result.to_json())
        return
    if result.old_size == result.size:
        warning_line(f"{directory} already holds all {result.size} records")
    out().print(
        f"published {result.size} records to {directory} ({result.records_copied} new "
        f"records, {result.tiles_written} tiles written)"
    )


def register(app: typer.Typer) -> None:
    app.command()(publish)
