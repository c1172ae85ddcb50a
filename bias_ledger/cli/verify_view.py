"""``bias-ledger verify`` of a format-1 ledger or a bundle: check the options, call the library
(:mod:`bias_ledger.workflows.verify`), show the outcome."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bias_ledger.cli.verify_output import Shown, check_report_path, show_failure, show_success
from bias_ledger.errors import InputError
from bias_ledger.verify import VerificationFailed
from bias_ledger.workflows.trust import load_trust
from bias_ledger.workflows.verify import (
    RecomputeInputs,
    verify_bundle_file,
    verify_ledger_dir,
)

__all__ = ["load_trust", "run_verify"]


def run_verify(
    *,
    bundle: Path | None,
    ledger: Path | None,
    trusted_keys: Path | None,
    trusted_key: Sequence[str],
    trust_ledger_keys: bool,
    since: Path | None,
    recompute: bool,
    data: Path | None,
    predictions: Path | None,
    json_output: bool,
    policy: Path | None = None,
    report: Path | None = None,
    witnesses: Path | None = None,
) -> None:
    from bias_ledger.ledger.reader import resolve_ledger_path

    check_report_path(report)
    if bundle is None and (recompute or policy is not None):
        raise InputError(
            "--recompute and --policy apply to a bundle: bias-ledger verify BUNDLE --recompute"
        )
    if recompute and data is None:
        raise InputError("--recompute needs --data FILE (and --predictions FILE if one was used)")
    if not recompute and (data is not None or predictions is not None or policy is not None):
        raise InputError("--data, --predictions and --policy are used with --recompute")
    trusted = load_trust(trusted_keys, trusted_key)
    trust_source = "" if trusted is None else trusted.source
    try:
        if bundle is not None:
            if trust_ledger_keys:
                raise InputError(
                    "--trust-ledger-keys does not apply to a bundle: a bundle's keys are never "
                    "trusted; pass --trusted-keys FILE or --trusted-key FINGERPRINT"
                )
            inputs = None
            if recompute and data is not None:
                inputs = RecomputeInputs(data, predictions, policy)
            result = verify_bundle_file(
                bundle, trusted=trusted, since=since, witnesses=witnesses, recompute=inputs
            )
        else:
            result = verify_ledger_dir(
                resolve_ledger_path(ledger),
                trusted=trusted,
                trust_ledger_keys=trust_ledger_keys,
                since=since,
                witnesses=witnesses,
            )
    except VerificationFailed as failure:
        show_failure(
            Shown(failure, report=report, trust_source=trust_source, since=since), json_output
        )
        return
    show_success(Shown(result, report=report, trust_source=trust_source, since=since), json_output)
