"""Open, change and rewrite bundle zips for tests; run the real CLI in-process."""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from bias_ledger.bundle.zip_writer import write_zip
from bias_ledger.cli.app import app


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_members(path: Path, items: dict[str, bytes]) -> Path:
    path.write_bytes(write_zip(items))
    return path


def write_raw(path: Path, items: Iterable[tuple[str, bytes]]) -> Path:
    """A zip with exactly these entries, in this order, duplicates allowed."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns on duplicate names: that is the point
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in items:
                archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    path.write_bytes(buffer.getvalue())
    return path


def manifest(items: dict[str, bytes]) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(items["bundle.json"])
    return value


def dump(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode()


def cli(*args: str | Path) -> tuple[int, str]:
    """Run ``bias-ledger`` in-process; return the exit code and stdout + stderr."""
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    return result.exit_code, result.output


def rederive(items: dict[str, bytes]) -> dict[str, bytes]:
    """Regenerate the derived members, as a forger who knows the format would."""
    from bias_ledger.bundle.derived import derived_members, report_data
    from bias_ledger.ledger import sshsig
    from bias_ledger.ledger.keys import fingerprint, public_key_openssh

    listed = manifest(items)
    key = sshsig.embedded_public_key(items["checkpoint.sig"].decode())
    records = []
    signers = {(fingerprint(key), public_key_openssh(key))}
    for item in listed["records"]:
        raw = items[f"records/{item['index']}.json"]
        signer = json.loads(raw)["signer"]
        signers.add((signer["fingerprint"], signer["public_key"]))
        records.append((item["index"], item["record_hash"], raw))
    data = report_data(
        origin=listed["origin"],
        checkpoint_size=listed["checkpoint"]["size"],
        checkpoint_root=listed["checkpoint"]["root_hash"],
        checkpoint_signer=fingerprint(key),
        records=records,
        signers=signers,
    )
    return {**items, **derived_members(data)}
