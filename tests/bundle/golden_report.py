"""Golden reports: a fixed record rendered to report.md and report.html.

Regenerate with ``python -m tests.bundle.golden_report`` from the repository root, only when the
report bytes change on purpose, and then bump ``REPORT_VERSION`` in ``bias_ledger/bundle/model.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bias_ledger.bundle.derived import report_data
from bias_ledger.render.report_html import render_html
from bias_ledger.render.report_md import render_markdown

GOLDEN = Path(__file__).parent / "golden"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"
FINGERPRINT = "SHA256:lbmsoA0yIEcEiVDRnMWuzm+nV+3ZEEpVIURqFoeSspg"


def _value(number: float | None, reason: str = "0/0: no rows") -> dict[str, Any]:
    return {"value": None, "reason": reason} if number is None else {"value": number}


def _group(name: str, counts: tuple[int, int, int, int], rate: float | None) -> dict[str, Any]:
    tp, fp, tn, fn = counts
    metrics = {"selection_rate": _value(rate), "true_positive_rate": _value(tp / (tp + fn))}
    metrics["precision_score"] = {"value": 0.75, "interval": {"low": 0.5, "high": 0.9,
                                  "level": 0.95, "method": "wilson"}}  # fmt: skip
    return {
        "group": [name],
        "counts": {
            "true_positives": tp,
            "false_positives": fp,
            "true_negatives": tn,
            "false_negatives": fn,
        },  # fmt: skip
        "metrics": metrics,
        "sufficient": name != "@tiny",
    }


def record() -> dict[str, Any]:
    groups = [
        _group("<script>alert(1)</script>", (10, 5, 20, 5), 0.375),
        _group('=HYPERLINK("http://x","y")', (30, 10, 40, 20), 0.4),
        _group("@tiny", (1, 0, 1, 0), None),
    ]
    feature = {
        "features": ["group|name"],
        "reference": ['=HYPERLINK("http://x","y")'],
        "groups": groups,
        "disparities": [
            {
                "metric": "selection_rate",
                "between_groups_difference": _value(0.025),
                "between_groups_ratio": _value(0.9375),
                "to_overall_difference": _value(-0.01),
                "to_overall_ratio": _value(0.97),
                "to_reference": [],
                "excluded_groups": [["@tiny"]],
            }
        ],
        "summaries": {"demographic_parity_difference": _value(0.025)},
        "impact_ratios": [
            {
                "group": ["<script>alert(1)</script>"],
                "selection_rate": _value(0.375),
                "impact_ratio": _value(0.9375),
                "below_four_fifths": False,
            },
            {
                "group": ["@tiny"],
                "selection_rate": _value(None),
                "impact_ratio": _value(None),
                "below_four_fifths": None,
            },
            {
                "group": ["*bold* _it_"],
                "selection_rate": _value(0.2),
                "impact_ratio": _value(0.5),
                "below_four_fifths": True,
            },
        ],  # fmt: skip
    }
    audit = {
        "subject": {"model_name": "credit|model", "model_version": "`1`", "artifact": None},
        "inputs": [
            {
                "role": "data",
                "name": "data<1>.csv",
                "format": "csv",
                "size": 1234,
                "blake3": "ab" * 32,
                "rows": 142,
            }
        ],  # fmt: skip
        "parameters": {"label": "y", "prediction": "p", "sensitive": ["group|name"]},
        "data": {"rows": 142, "dropped_rows": 0},
        "results": {
            "task": "binary_classification",
            "overall": groups[1],
            "features": [feature],
            "notes": ["group '@tiny' is undefined for selection_rate"],
        },  # fmt: skip
        "policy": {
            "policy": {"name": "four-fifths", "version": 1, "digest": "cd" * 32},
            "verdict": "fail",
            "outcomes": [
                {
                    "rule": "four-fifths",
                    "status": "fail",
                    "message": "group = *bold* _it_: impact_ratio = 0.5, expected >= 0.8",
                }
            ],
        },  # fmt: skip
        "warnings": ["-1 row dropped"],
        "environment": {"bias_ledger": "0.1.0", "python": "3.11.7"},
    }
    return {
        "format_version": 1, "kind": "audit", "index": 0,
        "timestamp": "2026-01-02T03:04:05.678901Z",
        "previous_hash": None, "origin": "example.org/audits/0123456789abcdef",
        "signer": {"fingerprint": FINGERPRINT, "public_key": KEY},
        "labels": {"ci_url": "https://ci.example/run/1"}, "audit": audit,
    }  # fmt: skip


def render() -> dict[str, str]:
    raw = json.dumps(record(), sort_keys=True, separators=(",", ":")).encode()
    data = report_data(
        origin="example.org/audits/0123456789abcdef",
        checkpoint_size=1,
        checkpoint_root="ef" * 32,
        checkpoint_signer=FINGERPRINT,
        records=[(0, "12" * 32, raw)],
        signers=[(FINGERPRINT, KEY)],
    )
    return {"report.md": render_markdown(data), "report.html": render_html(data)}


if __name__ == "__main__":
    for name, text in render().items():
        (GOLDEN / name).write_text(text, encoding="utf-8")
        print(f"wrote {GOLDEN / name}")
