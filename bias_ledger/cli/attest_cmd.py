"""``bias-ledger attest RECORD -o FILE``: an in-toto attestation of an audit, DSSE-signed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bias_ledger.cli.options import JsonOption, KeyOption, LedgerOption


def attest(
    index: Annotated[int, typer.Argument(help="The audit record to attest.")],
    output: Annotated[
        Path,
        typer.Option("-o", "--output", help="The attestation file (JSON Lines of DSSE envelopes)."),
    ],
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="The audited model file, to add its SHA-256 when the record has only BLAKE3.",
            show_default=False,
        ),
    ] = None,
    key: KeyOption = None,
    ledger: LedgerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Write an in-toto Statement (subject: the model) about audit record N, in DSSE envelopes.

    The predicate links the record to the signed log; with a gate verdict an in-toto
    test-result Statement follows. Check it with: bias-ledger verify --attestation FILE.
    """
    from bias_ledger.cli.key_cmd import ask_passphrase
    from bias_ledger.cli.output import out, print_json
    from bias_ledger.exports.intoto import attest_record
    from bias_ledger.ledger.reader import resolve_ledger_path
    from bias_ledger.outputs import check_output_path, write_output
    from bias_ledger.render.formats import ATTESTATION
    from bias_ledger.signing import load_signing_key

    ATTESTATION.for_path(output, option="attest -o")
    path = resolve_ledger_path(ledger)
    check_output_path(output, ledger=path, what="attest -o")
    signing_key = load_signing_key(key, ask_passphrase=ask_passphrase)
    attestation = attest_record(path, index, signing_key, model=model)
    data = attestation.jsonl()
    write_output(output, data, ledger=path, what="attest -o")
    types = [str(s["predicateType"]) for s in attestation.statements]
    if json_output:
        print_json({"path": str(output), "record": index, "predicate_types": types})
        return
    out().print(
        f"wrote {output}: {len(types)} DSSE envelope(s) ({', '.join(types)}) about record "
        f"{index}; check with: bias-ledger verify --attestation {output} --trusted-keys FILE",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.command()(attest)
