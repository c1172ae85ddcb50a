"""Commands that read or keep up the ledger: init, log, show, verify, proof, checkpoint, fsck."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bias_ledger.cli.options import (
    JsonOption,
    LedgerOption,
    TrustedKeyOption,
    TrustedKeysOption,
    WideOption,
    print_fitted,
)
from bias_ledger.cli.output import out, print_json, warning_line
from bias_ledger.errors import ExitCode, InputError, VerificationError
from bias_ledger.wording import counted


def init(
    ledger: LedgerOption = None,
    name: Annotated[
        str | None,
        typer.Option(
            help="Origin name (default: the parent directory's name).", show_default=False
        ),
    ] = None,
    json_output: JsonOption = False,
    format_version: Annotated[
        int,
        typer.Option(
            "--format",
            help="Ledger format: 2 (default: C2SP tiles, RFC 6962 SHA-256 tree, signed-note "
            "checkpoints, witnesses) or 1 (records.log with a BLAKE3 tree).",
        ),
    ] = 2,
) -> None:
    """Create a ledger (default ./.bias-ledger). Already initialised: reports it, exit 0."""
    from bias_ledger.ledger.reader import LEDGER_FILE, read_meta, resolve_ledger_path
    from bias_ledger.ledger.store import init_ledger

    path = resolve_ledger_path(ledger)
    existed = (path / LEDGER_FILE).exists()
    if existed:
        meta = read_meta(path)
    else:
        default = path.resolve().parent.name or "bias-ledger"
        if format_version not in (1, 2):
            from bias_ledger.errors import InputError

            raise InputError(f"--format {format_version}: expected 1 or 2")
        meta = init_ledger(
            path,
            name=name or "".join(default.split()) or "bias-ledger",
            format_version=format_version,
        )
    if json_output:
        print_json({"path": str(path), "origin": meta.origin, "created": not existed})
    elif existed:
        out().print(f"Ledger already initialised at {path} (origin {meta.origin})")
    else:
        out().print(f"Initialised an empty ledger at {path} (origin {meta.origin})")


def log(ledger: LedgerOption = None, json_output: JsonOption = False) -> None:
    """One line per record: index, time, model, verdict, signer."""
    from rich.markup import escape
    from rich.table import Table

    from bias_ledger.history import log_lines, torn_tail_warning
    from bias_ledger.ledger.reader import resolve_ledger_path

    path = resolve_ledger_path(ledger)
    lines = log_lines(path)
    torn = torn_tail_warning(path)
    if torn:
        warning_line(torn)
    if json_output:
        print_json([line.to_json() for line in lines])
        return
    table = Table(box=None, pad_edge=False)
    for column in ("#", "time (UTC)", "kind", "model", "verdict", "signer", "detail"):
        table.add_column(column)
    for line in lines:
        model = " ".join(p for p in (line.model_name, line.model_version) if p) or "-"
        verdict = line.verdict or "-"
        style = {"fail": "bold red", "pass": "green"}.get(verdict, "")
        table.add_row(
            str(line.index),
            line.timestamp[:19].replace("T", " "),
            line.kind,
            escape(model),
            f"[{style}]{verdict}[/]" if style else verdict,
            line.signer,
            escape(line.detail),
        )
    out().print(table if lines else "The ledger is empty.")


def show(
    index: Annotated[int, typer.Argument(help="Record index (from 'bias-ledger log').")],
    ledger: LedgerOption = None,
    json_output: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """One record in full."""
    from bias_ledger.history import read_record, torn_tail_warning
    from bias_ledger.ledger.entry import parse_line
    from bias_ledger.ledger.reader import resolve_ledger_path
    from bias_ledger.render.record import record_report

    path = resolve_ledger_path(ledger)
    record, line = read_record(path, index)
    torn = torn_tail_warning(path)
    if torn:
        warning_line(torn)
    entry = parse_line(line, where=f"record {index}")
    if json_output:
        print_json({"record": record, "signature": entry.armored_signature()})
        return
    print_fitted(record_report(record), wide)


def verify(
    target: Annotated[
        str | None,
        typer.Argument(
            metavar="[BUNDLE|DIR|URL]",
            help="A bundle, or a published log (directory or http(s) URL), to verify instead "
            "of the ledger.",
            show_default=False,
        ),
    ] = None,
    ledger: LedgerOption = None,
    trusted_keys: TrustedKeysOption = None,
    trusted_key: TrustedKeyOption = None,
    trust_ledger_keys: Annotated[
        bool, typer.Option(help="Trust the keys found in the ledger itself (integrity only).")
    ] = False,
    since: Annotated[
        Path | None,
        typer.Option(
            help=(
                "A signed checkpoint kept earlier that the ledger (or the bundle's ledger) must "
                "extend: detects rollback and rewritten history."
            )
        ),
    ] = None,
    recompute: Annotated[
        bool, typer.Option(help="Re-hash --data and recompute every number of the bundle.")
    ] = False,
    data: Annotated[Path | None, typer.Option(help="Original data file, for --recompute.")] = None,
    predictions: Annotated[
        Path | None, typer.Option(help="Original predictions file, for --recompute.")
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            help="With --recompute: the engine that recounts (arrow, duckdb or spark); by "
            "default the one each record names. The numbers must be identical.",
            show_default=False,
        ),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            help="With --recompute: the policy file that judged the records; their "
            "verdicts are re-judged on the recomputed numbers."
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            help="Also write a verification report here (.html, .md or .json): each check, "
            "its result and what it was checked against; written on failure too."
        ),
    ] = None,
    json_output: JsonOption = False,
    attestation: Annotated[
        Path | None,
        typer.Option(
            help="Verify an attestation from 'bias-ledger attest' (DSSE signature, Statement, "
            "its record's inclusion in the signed checkpoint) instead of the ledger.",
            show_default=False,
        ),
    ] = None,
    witnesses: Annotated[
        Path | None,
        typer.Option(
            help="Format 2: a witness policy file; the checkpoint must carry a quorum of "
            "valid cosignatures.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Verify every hash, signature, the chain and the checkpoint; exit 0 valid, 3 not."""
    from bias_ledger.cli import tlog_cmd
    from bias_ledger.cli.verify_view import run_verify
    from bias_ledger.ledger.reader import read_meta, resolve_ledger_path

    if attestation is not None:
        from bias_ledger.cli.attest_verify_view import run_verify_attestation

        run_verify_attestation(
            attestation,
            trusted_keys,
            trusted_key or [],
            bundle=Path(target) if target is not None else None,
            json_output=json_output,
        )
        return

    published = target is not None and tlog_cmd.is_published_log(target)
    path = resolve_ledger_path(ledger)
    if published or (target is None and tlog_cmd.is_format2(path, error=VerificationError)):
        if recompute or policy is not None or engine is not None:
            raise InputError("--recompute, --engine and --policy apply to a bundle")
        tlog_cmd.run_verify_log(
            target if target is not None else str(path),
            origin=None if published else read_meta(path).origin,
            trusted_keys=trusted_keys,
            trusted_key=trusted_key or [],
            trust_ledger_keys=trust_ledger_keys,
            since=since,
            witnesses=witnesses,
            json_output=json_output,
            report=report,
        )
        return
    if target is not None and Path(target).is_dir():
        hint = (
            "it is a ledger: verify it with --ledger DIR"
            if (Path(target) / "ledger.json").is_file()
            else "it is neither a ledger (ledger.json) nor a published log (a checkpoint "
            "file and a tile/ directory)"
        )
        raise InputError(
            f"{target}: {hint}; expected a bundle file, a published log directory or URL"
        )
    run_verify(
        bundle=Path(target) if target is not None else None,
        ledger=ledger,
        trusted_keys=trusted_keys,
        trusted_key=trusted_key or [],
        trust_ledger_keys=trust_ledger_keys,
        since=since,
        recompute=recompute,
        data=data,
        predictions=predictions,
        json_output=json_output,
        policy=policy,
        report=report,
        witnesses=witnesses,
        engine=engine,
    )


proof_app = typer.Typer(help="Merkle inclusion and consistency proofs.", no_args_is_help=True)


@proof_app.command("inclusion")
def proof_inclusion(
    index: Annotated[int, typer.Argument(help="Record index.")],
    size: Annotated[
        int | None, typer.Option(help="Tree size (default: the latest checkpoint's).")
    ] = None,
    ledger: LedgerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Prove that record N is in the tree of the given size."""
    from bias_ledger.cli import tlog_cmd
    from bias_ledger.ledger.proofs import inclusion
    from bias_ledger.ledger.reader import resolve_ledger_path

    if tlog_cmd.is_format2(resolve_ledger_path(ledger)):
        tlog_cmd.inclusion_v2(resolve_ledger_path(ledger), index, size, json_output)
        return
    proof = inclusion(resolve_ledger_path(ledger), index, size)
    if json_output:
        print_json(proof.to_json())
        return
    out().print(f"inclusion of record {proof.index} in tree size {proof.size}")
    out().print(f"leaf hash  {proof.leaf_hash.hex()}")
    out().print(f"root hash  {proof.root_hash.hex()}")
    for number, node in enumerate(proof.hashes):
        out().print(f"proof[{number}]  {node.hex()}")
    out().print("verified against the root: ok")


@proof_app.command("consistency")
def proof_consistency(
    old_size: Annotated[int, typer.Argument(help="Older tree size A.")],
    new_size: Annotated[int, typer.Argument(help="Newer tree size B.")],
    ledger: LedgerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Prove that the tree of size A is a prefix of the tree of size B."""
    from bias_ledger.cli import tlog_cmd
    from bias_ledger.ledger.proofs import consistency
    from bias_ledger.ledger.reader import resolve_ledger_path

    if tlog_cmd.is_format2(resolve_ledger_path(ledger)):
        tlog_cmd.consistency_v2(resolve_ledger_path(ledger), old_size, new_size, json_output)
        return
    proof = consistency(resolve_ledger_path(ledger), old_size, new_size)
    if json_output:
        print_json(proof.to_json())
        return
    out().print(f"consistency of tree size {proof.old_size} with tree size {proof.new_size}")
    out().print(f"old root  {proof.old_root.hex()}")
    out().print(f"new root  {proof.new_root.hex()}")
    for number, node in enumerate(proof.hashes):
        out().print(f"proof[{number}]  {node.hex()}")
    out().print("verified: ok")


def checkpoint(ledger: LedgerOption = None, json_output: JsonOption = False) -> None:
    """Print the latest signed checkpoint, to keep somewhere else."""
    import sys

    from bias_ledger.ledger.checkpoint import parse_signed_checkpoint
    from bias_ledger.ledger.reader import (
        CHECKPOINT_FILE,
        read_ledger_file,
        read_meta,
        resolve_ledger_path,
    )
    from bias_ledger.ledger.repair import missing_checkpoint

    path = resolve_ledger_path(ledger)
    if read_meta(path).format_version == 2:
        from bias_ledger.cli.tlog_cmd import checkpoint_v2

        checkpoint_v2(path, json_output)
        return
    checkpoint_path = path / CHECKPOINT_FILE
    data = read_ledger_file(checkpoint_path, missing_ok=True)
    if data is None:
        raise missing_checkpoint(path)
    parsed, signature = parse_signed_checkpoint(data, source=str(checkpoint_path))
    if json_output:
        print_json({**parsed.to_json(), "signed_checkpoint": data.decode("ascii")})
        return
    sys.stdout.write(data.decode("ascii"))


def fsck(
    ledger: LedgerOption = None,
    repair: Annotated[
        bool, typer.Option(help="Drop an interrupted append and rebuild the append state.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Check the ledger's files for an interrupted write; --repair fixes it (exit 3 if unfixed)."""
    from bias_ledger.cli import tlog_cmd
    from bias_ledger.ledger.reader import resolve_ledger_path
    from bias_ledger.ledger.repair import fsck as run_fsck

    if tlog_cmd.is_format2(resolve_ledger_path(ledger)):
        tlog_cmd.fsck_v2(resolve_ledger_path(ledger), json_output)
        return
    report = run_fsck(resolve_ledger_path(ledger), repair=repair)
    if json_output:
        print_json(report.to_json())
    else:
        for problem in report.problems:
            warning_line(problem)
        for note in report.notes:
            out().print(f"note: {note}", markup=False)
        for action in report.actions:
            out().print(f"repaired: {action}", markup=False)
        if report.clean:
            out().print(f"ok: {counted(report.records, 'record')}, no damage")
    if not report.clean and not repair:
        raise typer.Exit(int(ExitCode.VERIFICATION_FAILED))


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(log)
    app.command()(show)
    app.command()(verify)
    app.add_typer(proof_app, name="proof")
    app.command()(checkpoint)
    app.command()(fsck)
    from bias_ledger.cli import tlog_cmd

    tlog_cmd.register(app)
