"""Format-2 commands: publish, verify of a log (directory or URL), proofs, checkpoint, note key."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.cli.options import JsonOption, LedgerOption
from bias_ledger.cli.output import out, print_json, warning_line
from bias_ledger.errors import BiasLedgerError, InputError
from bias_ledger.wording import counted


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
    report: Path | None = None,
) -> None:
    """Verify a format-2 log in a directory or at a URL; print the checklist, write --report."""
    from bias_ledger.cli.verify_output import Shown, check_report_path, show_failure, show_success
    from bias_ledger.verify import VerificationFailed
    from bias_ledger.workflows.trust import load_trust
    from bias_ledger.workflows.verify import verify_log_at

    check_report_path(report)
    trusted = load_trust(trusted_keys, trusted_key)
    trust_source = "" if trusted is None else trusted.source
    try:
        result = verify_log_at(
            location,
            trusted=trusted,
            trust_ledger_keys=trust_ledger_keys,
            origin=origin,
            since=since,
            witnesses=witnesses,
        )
    except VerificationFailed as failure:
        show_failure(Shown(failure, report, trust_source, since, witnesses), json_output)
        return
    show_success(Shown(result, report, trust_source, since, witnesses), json_output)


def inclusion_v2(ledger: Path, index: int, size: int | None, json_output: bool) -> None:
    from bias_ledger.ledger.tlog_proofs import inclusion_proof

    _print_proof(inclusion_proof(ledger, index, size), json_output)


def consistency_v2(ledger: Path, old_size: int, new_size: int, json_output: bool) -> None:
    from bias_ledger.ledger.tlog_proofs import consistency_proof

    _print_proof(consistency_proof(ledger, old_size, new_size), json_output)


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
    from bias_ledger.ledger.tlog_proofs import signed_checkpoint

    data, document = signed_checkpoint(ledger)
    if json_output:
        print_json(document)
        return
    sys.stdout.write(data.decode("utf-8"))


def fsck_v2(ledger: Path, json_output: bool) -> None:
    """Format 2 needs no repair: check that the tiles hold the checkpoint's tree."""
    from bias_ledger.ledger.tlog_proofs import checked_size

    size = checked_size(ledger)
    if json_output:
        print_json({"clean": True, "records": size, "problems": [], "actions": []})
    else:
        out().print(f"ok: {counted(size, 'record')}, the tiles match the checkpoint")


def publish(
    directory: Annotated[Path, typer.Argument(help="Where to write the static tiles layout.")],
    ledger: LedgerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Copy the log (checkpoint, C2SP tiles, records) to DIR for a static web server."""
    from bias_ledger.ledger.reader import resolve_ledger_path
    from bias_ledger.ledger.tlog_publish import publish as run_publish
    from bias_ledger.outputs import check_output_directory

    path = resolve_ledger_path(ledger)
    # Never into a ledger (this one, another, or one a symlink leads into): publish would
    # replace its checkpoint. A directory published to before holds no ledger.json: allowed.
    check_output_directory(directory, ledger=path, what="publish DIR")
    if not is_format2(path):
        raise InputError(f"{path}: publish needs a format-2 ledger (this one is format 1)")
    result = run_publish(path, directory)
    if json_output:
        print_json(result.to_json())
        return
    if result.old_size == result.size:
        warning_line(f"{directory} already holds all {counted(result.size, 'record')}")
    out().print(
        f"published {counted(result.size, 'record')} to {directory} "
        f"({counted(result.records_copied, 'new record')}, "
        f"{counted(result.tiles_written, 'tile')} written)"
    )


def register(app: typer.Typer) -> None:
    app.command()(publish)
