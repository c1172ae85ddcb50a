"""Report rendering benchmark: the HTML and Markdown report of one audit record with 3 sensitive
features (3 x 5 x 4 = 60 intersectional groups), with and without scores, judged by a policy.

Run: python benchmarks/bench_report.py [--rows N] [--repeat K] [--records R]
Prints the median time of K renders of each report (after one warm-up that imports matplotlib),
then (with --records) the time and peak memory of writing both reports of R such records, as
``export`` writes them (streamed; charts for at most 20 audits, here the newest of 5 models).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from bias_ledger import audit
from bias_ledger.bundle.derived import ReportData, ReportRecord, report_data, write_reports
from bias_ledger.ledger import canonical
from bias_ledger.policy.evaluate import evaluate_policy
from bias_ledger.policy.load import parse_policy
from bias_ledger.records.payloads import audit_payload
from bias_ledger.render.report_html import render_html
from bias_ledger.render.report_md import render_markdown

POLICY = """
version = 1
name = "bench"
[defaults]
min_group_size = 30
insufficient = "warn"
[[rules]]
name = "four-fifths"
four_fifths = true
[[rules]]
name = "parity"
summary = "demographic_parity_ratio"
min = 0.8
"""


def _frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["female", "male", "nonbinary"], rows, p=[0.48, 0.48, 0.04]),
            "race": rng.choice(["A", "B", "C", "D", "E"], rows, p=[0.1, 0.2, 0.2, 0.1, 0.4]),
            "age": rng.choice(["18-25", "26-40", "41-60", "60+"], rows),
            "label": rng.integers(0, 2, rows),
        }
    )
    frame["score"] = np.clip(0.3 * frame["label"] + 0.7 * rng.random(rows), 0, 1).round(4)
    frame["pred"] = (frame["score"] >= 0.5).astype(int)
    return frame


def _record(frame: pd.DataFrame, *, scores: bool) -> bytes:
    columns = {"score": "score", "threshold": 0.5} if scores else {"prediction": "pred"}
    result = audit(frame, label="label", sensitive=["sex", "race", "age"], **columns)
    groups = len(result.binary.features[-1].groups)
    assert groups == 60, groups
    report = evaluate_policy(parse_policy(POLICY, source="bench"), result.binary)
    record = {
        "kind": "audit",
        "index": 0,
        "timestamp": "2026-01-01T00:00:00Z",
        "signer": {"fingerprint": "SHA256:bench", "public_key": "ssh-ed25519 AAAA"},
        "audit": json.loads(json.dumps(audit_payload(result, report))),
    }
    return canonical.encode(record)


def _median(action: Callable[[], str], repeat: int) -> tuple[float, float, int]:
    """Median wall and CPU time of ``repeat`` runs (CPU time is steadier on a loaded machine)."""
    action()
    times, cpu = [], []
    size = 0
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        size = len(action().encode("utf-8"))
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times), statistics.median(cpu), size


def _many(raw: bytes, count: int) -> None:
    def records() -> Iterator[ReportRecord]:
        for index in range(count):
            record = json.loads(raw)
            record["audit"]["subject"]["model_name"] = f"model-{index % 5}"
            yield ReportRecord(index, "00" * 32, record)

    data = ReportData("bench/0", count, "00" * 32, "SHA256:bench", records, ())
    with tempfile.TemporaryDirectory() as directory:
        md_path, html_path = Path(directory, "report.md"), Path(directory, "report.html")
        with md_path.open("wb") as md, html_path.open("wb") as html:
            start, start_cpu = time.perf_counter(), time.process_time()
            write_reports(data, md, html)
            took, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        charts = html_path.read_bytes().count(b"<svg")
        sizes = html_path.stat().st_size / 1e6, md_path.stat().st_size / 1e6
    print(
        f"{count} records  both reports {took:6.2f} s, CPU {cpu:.2f} s "
        f"({cpu / count * 1000:.0f} ms CPU/record; "
        f"HTML {sizes[0]:.1f} MB, {charts} charts; Markdown {sizes[1]:.1f} MB), "
        f"peak RSS {peak:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--records", type=int, default=0)
    args = parser.parse_args()
    frame = _frame(args.rows)
    for scores in (False, True):
        raw = _record(frame, scores=scores)
        data = report_data(
            origin="bench/0",
            checkpoint_size=1,
            checkpoint_root="00" * 32,
            checkpoint_signer="SHA256:bench",
            records=[(0, "00" * 32, raw)],
            signers=[],
        )
        label = "with scores" if scores else "without scores"
        html, html_cpu, html_bytes = _median(partial(render_html, data), args.repeat)
        md, _, md_bytes = _median(partial(render_markdown, data), args.repeat)
        charts = render_html(data).count("<svg")
        print(
            f"{label:<15} HTML {html:6.2f} s, CPU {html_cpu:5.2f} s ({html_bytes / 1e6:.2f} MB, "
            f"{charts} charts)   "
            f"Markdown {md * 1000:6.1f} ms ({md_bytes / 1e3:.0f} kB)"
        )
    if args.records:
        _many(_record(frame, scores=True), args.records)


if __name__ == "__main__":
    main()
