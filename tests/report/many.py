"""A report of many audit records, written as ``export`` writes it (both reports streamed from a
record source that builds each record when it is read): ``python -m tests.report.many N DIR``
writes DIR/report.md and DIR/report.html and prints the process's peak RSS in KiB."""

from __future__ import annotations

import json
import resource
import sys
from collections.abc import Iterator
from pathlib import Path

from bias_ledger.render.report_blocks import ReportRecord

MODELS = 5
"""Records audit these models in turn: the newest audit of each is charted."""
HOSTILE_MODEL = '<b>bold</b> & "q" <script>x</script>'


def template() -> bytes:
    """One real audit record (5 groups, a policy), as canonical bytes, made by the library."""
    import numpy as np
    import pandas as pd

    from bias_ledger import audit
    from bias_ledger.ledger import canonical
    from bias_ledger.policy.evaluate import evaluate_policy
    from bias_ledger.policy.load import parse_policy
    from bias_ledger.records.payloads import audit_payload

    rng = np.random.default_rng(3)
    rows = 400
    frame = pd.DataFrame(
        {
            "race": rng.choice(["A", "B", "C", "D", "E"], rows),
            "label": rng.integers(0, 2, rows),
            "pred": rng.integers(0, 2, rows),
        }
    )
    result = audit(frame, label="label", sensitive=["race"], prediction="pred")
    policy = parse_policy(
        'version = 1\nname = "p"\n[[rules]]\nname = "four-fifths"\nfour_fifths = true\n',
        source="test",
    )
    record = {
        "format_version": 1,
        "kind": "audit",
        "timestamp": "2026-01-01T00:00:00Z",
        "signer": {"fingerprint": "SHA256:test", "public_key": "ssh-ed25519 AAAA"},
        "audit": json.loads(
            json.dumps(audit_payload(result, evaluate_policy(policy, result.binary)))
        ),
    }
    return canonical.encode(record)


def source(count: int, raw: bytes) -> Iterator[ReportRecord]:
    """Record ``i`` audits model ``i % MODELS``; each is parsed afresh, as a bundle reader does."""
    for index in range(count):
        record = json.loads(raw)
        model = HOSTILE_MODEL if index % MODELS == 0 else f"model-{index % MODELS}"
        record["audit"]["subject"]["model_name"] = model
        record["index"] = index
        yield ReportRecord(index, f"{index:064x}", record)


def write(count: int, directory: Path) -> None:
    from bias_ledger.bundle.derived import ReportData, write_reports

    raw = template()
    data = ReportData(
        origin="test.example/many",
        checkpoint_size=count,
        checkpoint_root="ab" * 32,
        checkpoint_signer="SHA256:test",
        records=lambda: source(count, raw),
        signers=(("SHA256:test", "ssh-ed25519 AAAA"),),
    )
    with (directory / "report.md").open("wb") as md, (directory / "report.html").open("wb") as html:
        write_reports(data, md, html)


if __name__ == "__main__":
    write(int(sys.argv[1]), Path(sys.argv[2]))
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
