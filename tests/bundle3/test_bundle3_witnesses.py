"""A format-3 bundle carries the ledger's cosigned checkpoint; ``verify --witnesses`` counts
its cosignatures against the policy's quorum (real witness servers on 127.0.0.1)."""

from __future__ import annotations

import json
from pathlib import Path

from bias_ledger.ledger.keys import fingerprint
from bias_ledger.ledger.note import parse_note
from tests.bundle3.helpers import members, rewrite
from tests.witness.test_ledger_witnesses import (
    KEY,
    Witnesses,
    append,
    both,
    cli,
    new_ledger,
    policy_file,
    witnesses,
)

__all__ = ["witnesses"]  # the module-scoped fixture of real witness servers


def test_a_format3_bundle_carries_the_cosignatures_and_verify_counts_them(
    tmp_path: Path, witnesses: Witnesses
) -> None:
    path = new_ledger(tmp_path, "bundle", witnesses)
    append(path, witnesses)
    append(path, witnesses)
    bundle = tmp_path / "audit.tar"
    code, output = cli("export", "-o", bundle, "--all", "--ledger", path)
    assert code == 0, output
    items = members(bundle)
    carried = dict(items)["checkpoint"]
    assert carried == (path / "checkpoint").read_bytes() and carried.count("— ".encode()) == 3
    two = policy_file(tmp_path / "two.policy", 2, *both(witnesses))
    trust = ("--trusted-key", fingerprint(KEY.public_key()))
    code, output = cli("verify", bundle, "--witnesses", two, *trust)
    assert code == 0 and "cosigned by w1, w2 (quorum met)" in output, output
    code, output = cli("verify", bundle, *trust, "--json")  # listed, not counted
    listed = [c["witness"] for c in json.loads(output)["cosignatures"]]
    assert code == 0 and sorted(listed) == ["w1.example/witness", "w2.example/witness"], output
    log_only = (
        carried[: carried.index(b"\n\n") + 2] + parse_note(carried).signatures[0].line().encode()
    )
    stripped = rewrite(bundle, [(n, log_only if n == "checkpoint" else d) for n, d in items])
    code, output = cli("verify", stripped, *trust)
    assert code == 0, output  # the log's own signature still holds
    code, output = cli("verify", stripped, "--witnesses", two, *trust)
    assert code == 3 and "got 0 (none)" in output, output
