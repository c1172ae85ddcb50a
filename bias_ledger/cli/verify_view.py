"""``bias-ledger verify``: load trust anchors, verify a ledger or a bundle, show the outcome."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bias_ledger.cli.verify_output import Shown, check_report_path, show_failure, show_success
from bias_ledger.errors import InputError
from bias_ledger.ledger.files import read_regular
from bias_ledger.ledger.trust import TrustedKeys, load_allowed_signers
from bias_ledger.verify import Kept, Verification, VerificationFailed, verify_source


def load_trust(trusted_keys: Path | None, trusted_key: Sequence[str]) -> TrustedKeys | None:
    """The trust set from --trusted-keys and --trusted-key (their union), or None."""
    sets: list[TrustedKeys] = []
    if trusted_keys is not None:
        sets.append(load_allowed_signers(trusted_keys))
    if trusted_key:
        sets.append(TrustedKeys.from_fingerprints(trusted_key))
    if not sets:
        return None
    merged = sets[0]
    for other in sets[1:]:
        merged = replace(
            merged, keys={**other.keys, **merged.keys}, source=f"{merged.source} + {other.source}"
        )
    return merged


def _read_kept(since: Path | None) -> Kept | None:
    if since is None:
        return None
    try:
        return Kept(read_regular(since), str(since))
    except OSError as exc:
        raise InputError(f"{since}: cannot read the kept checkpoint ({exc.strerror})") from None


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
) -> None:
    from bias_ledger.bundle.verify import BundleSource, verify_bundle
    from bias_ledger.ledger.reader import resolve_ledger_path
    from bias_ledger.verify import LedgerSource

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
    kept = _read_kept(since)
    trust_source = "" if trusted is None else trusted.source

    def shown_as(outcome: Verification | VerificationFailed) -> Shown:
        return Shown(outcome, report=report, trust_source=trust_source, since=since)

    try:
        if bundle is not None:
            if trust_ledger_keys:
                raise InputError(
                    "--trust-ledger-keys does not apply to a bundle: a bundle's keys are never "
                    "trusted; pass --trusted-keys FILE or --trusted-key FINGERPRINT"
                )
            source = BundleSource(bundle)
            result = verify_bundle(source, trusted, since=kept)
        else:
            result = verify_source(
                LedgerSource(resolve_ledger_path(ledger)),
                trusted=trusted,
                trust_source_keys=trust_ledger_keys,
                since=kept,
            )
    except VerificationFailed as failure:
        show_failure(shown_as(failure), json_output)
        return
    shown = shown_as(result)
    if recompute and data is not None and bundle is not None:
        from bias_ledger.cli.bundle_view import recompute_shown

        done = recompute_shown(
            result, source.contents, data=data, predictions=predictions, policy=policy
        )
        shown = replace(
            shown,
            extra_checks=done.extra_checks,
            extra_warnings=done.extra_warnings,
            recompute=done.recompute,
            error=done.error,
        )
    if shown.error is not None:
        show_failure(shown, json_output)
    show_success(shown, json_output)
