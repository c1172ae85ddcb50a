"""Every record layout keeps working end to end: results schema 2 (format 1 and 2) and 3.

The committed fixtures are never regenerated: ``format1`` was made by v0.1.0, ``layouts/schema2``
by the last version that wrote results schema 2, ``layouts/schema3`` by the first that writes
schema 3 (tests/fixtures/layouts/generate.py). Each ledger and bundle verifies, recomputes,
re-judges, renders and serves as a gate baseline; tampering with a schema-3 record's values is
reported by the JSON path where the record holds them.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import blake3
import pytest

from bias_ledger.results_layout import COMPACT_SCHEMA_VERSION, compacted, expanded

from .helpers import cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LAYOUTS = {
    "format1-schema2": FIXTURES / "format1",
    "format2-schema2": FIXTURES / "layouts" / "schema2",
    "format2-schema3": FIXTURES / "layouts" / "schema3",
}
PINNED = {  # blake3
    "schema2/bundle.zip": "acb413561388949e3c7533d0b44086443ce310787d8a6b6e36803a11e54b6b0b",
    "schema3/bundle.zip": "e6be50d922d0b6ff7d8a35c18fd43f23c6e6bec3922853c86a1e884536da7e79",
}


def _records(ledger: Path) -> list[dict[str, Any]]:
    """A ledger's records in index order (format 1: records.log; format 2: records/)."""
    log = ledger / "records.log"
    if log.exists():
        lines = log.read_bytes().decode("utf-8").splitlines()
        return [json.JSONDecoder().raw_decode(line)[0] for line in lines]  # record, signature
    found = [json.loads(path.read_bytes()) for path in (ledger / "records").glob("*.json")]
    return sorted(found, key=lambda record: int(record["index"]))


def _audits(ledger: Path) -> list[dict[str, Any]]:
    return [record for record in _records(ledger) if record["kind"] == "audit"]


@pytest.fixture(params=sorted(LAYOUTS))
def layout(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A copy of one layout's fixtures (gate and report write beside the ledger)."""
    copied = tmp_path / str(request.param)
    shutil.copytree(LAYOUTS[request.param], copied)
    return copied


@pytest.mark.parametrize("name", sorted(PINNED))
def test_the_layout_fixtures_are_the_committed_bytes(name: str) -> None:
    data = (FIXTURES / "layouts" / name).read_bytes()
    assert blake3.blake3(data).hexdigest() == PINNED[name]


def test_the_fixtures_hold_the_layouts_they_are_named_for() -> None:
    for name, directory in LAYOUTS.items():
        versions = {
            record["audit"].get("schema_version") for record in _audits(directory / "ledger")
        }
        assert versions == ({3} if name.endswith("schema3") else {2}), name


def test_ledger_and_bundle_verify(layout: Path) -> None:
    trusted: list[str | Path] = ["--trusted-keys", layout / "allowed_signers"]
    code, output = cli("verify", "--ledger", layout / "ledger", *trusted)
    assert code == 0, output
    code, output = cli("verify", layout / "bundle.zip", *trusted)
    assert code == 0, output


def test_bundle_recomputes_and_rejudges(layout: Path) -> None:
    code, output = cli(
        "verify", layout / "bundle.zip", "--trusted-keys", layout / "allowed_signers",
        "--recompute", "--data", layout / "data.csv", "--policy", layout / "policy.toml",
        "--json",
    )  # fmt: skip
    assert code == 0, output
    report = json.loads(output)["recompute"]
    done = [item for item in report["records"] if item["recomputed"]]
    assert len(done) == len(_audits(layout / "ledger"))
    assert any("re-judged" in str(item["verdict"]) for item in done)


def _judged_audit(layout: Path) -> int:
    """The last audit record a policy judged, without a baseline."""
    judged = [r for r in _audits(layout / "ledger") if r["audit"].get("policy")]
    return int(judged[-1]["index"])


def test_gate_rejudges_a_record_and_takes_a_bundle_as_baseline(layout: Path) -> None:
    index = _judged_audit(layout)
    recorded = _records(layout / "ledger")[index]["audit"]["policy"]["verdict"]
    code, output = cli(
        "gate", "--ledger", layout / "ledger", "--record", str(index), "--policy",
        layout / "policy.toml", "--trusted-keys", layout / "allowed_signers", "--no-record",
        "--json",
    )  # fmt: skip
    assert code == (0 if recorded == "pass" else 1), output
    assert json.loads(output)["verdict"] == recorded
    code, output = cli(
        "gate", "--ledger", layout / "ledger", "--record", str(index), "--policy",
        layout / "policy.toml", "--baseline", layout / "bundle.zip", "--approved-by",
        layout / "allowed_signers", "--no-record", "--json",
    )  # fmt: skip
    assert code in (0, 1), output
    assert json.loads(output)["baseline"]["kind"] == "bundle"


def test_show_report_and_exports_render_every_audit(layout: Path) -> None:
    ledger = layout / "ledger"
    trusted: list[str | Path] = ["--trusted-keys", layout / "allowed_signers"]
    for record in _audits(ledger):
        index = str(record["index"])
        code, output = cli("show", "--ledger", ledger, index, "--wide")
        assert code == 0, output
        feature = expanded(record["audit"])["results"]
        groups = (feature.get("per_class") or [{"results": feature}])[0]["results"]["features"]
        assert groups[0]["groups"][0]["group"][0] in output
        report = layout / f"report-{index}.html"
        code, output = cli("report", "--ledger", ledger, index, "-o", report, *trusted)
        assert code == 0, output
        html = report.read_text(encoding="utf-8")
        assert groups[0]["groups"][0]["group"][0] in html
        if (
            record["audit"]["parameters"].get("task", "binary_classification")
            == "binary_classification"
        ):
            assert "<svg" in html and "impact ratio" in html.lower()
        card = layout / f"card-{index}.json"
        code, output = cli("export", "--ledger", ledger, "--cyclonedx", card, index)
        assert code == 0, output
        metrics = json.loads(card.read_text())["components"][0]["modelCard"]
        assert metrics["quantitativeAnalysis"]["performanceMetrics"]


def test_a_schema_3_record_expands_to_the_schema_2_layout() -> None:
    """The same audit, made by the last schema-2 version and the first schema-3 one: the
    schema-3 payload read through the accessor is the schema-2 payload, value for value."""
    old = _audits(LAYOUTS["format2-schema2"] / "ledger")
    new = _audits(LAYOUTS["format2-schema3"] / "ledger")
    for before, after in zip(old, new, strict=True):
        read = expanded(after["audit"])
        for part in ("results", "statistics"):
            assert read[part] == before["audit"][part], (after["index"], part)
        assert compacted(before["audit"]) | {"environment": None} == after["audit"] | {
            "environment": None
        }


def _leaves(value: Any, path: str) -> Iterator[str]:
    """The JSON path of every number, string and boolean under ``value`` (compare's paths)."""
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _leaves(value[key], f"{path}.{key}")
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from _leaves(item, f"{path}[{position}]")
    elif value is not None:
        yield path


def _at(document: Any, path: str) -> tuple[Any, Any]:
    """The container and key of the value at ``path`` (``$.a.b[2].c``)."""
    import re

    steps = re.findall(r"\.([^.\[]+)|\[(\d+)\]", path[1:])
    parent, key = document, None
    for name, position in steps[:-1]:
        parent = parent[name] if name else parent[int(position)]
    name, position = steps[-1]
    key = name if name else int(position)
    return parent, key


def _by_metric(path: str) -> str:
    """Disparities are compared by metric: ``[metric=NAME]`` for ``[position]``."""
    import re

    return re.sub(r"disparities\[[^\]]*\]", "disparities[*]", path)


def _tampered(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    return f"{value}x"


def test_recompute_of_a_schema_3_record_compares_every_value_it_holds() -> None:
    """Nothing the compact layout moved is skipped: each value of a schema-3 record's results
    and statistics, changed on its own, is reported at its own JSON path."""
    from bias_ledger.bundle.recompute import recompute_payload

    directory = LAYOUTS["format2-schema3"]
    record = _audits(directory / "ledger")[0]  # scores, bootstrap, two features, a verdict
    assert record["audit"]["schema_version"] == COMPACT_SCHEMA_VERSION
    data = directory / "data.csv"
    assert recompute_payload(record["audit"], data) == []
    leaves = [
        path
        for part in ("results", "statistics")
        for path in _leaves(record["audit"][part], f"$.audit.{part}")
    ]
    assert len(leaves) > 1000
    from bias_ledger.bundle import recompute

    fresh = recompute._rerun(record["audit"], 0, data, None)
    payload = record["audit"]
    for path in leaves:
        parent, key = _at({"audit": payload}, path)
        kept = parent[key]
        parent[key] = _tampered(kept)
        found = [_by_metric(item.path) for item in recompute.compared(payload, fresh)]
        parent[key] = kept
        at = _by_metric(path)
        assert found and all(f.startswith(at) or at.startswith(f) for f in found), (path, found)


@pytest.mark.parametrize(
    ("where", "change", "reported"),
    [
        (
            "results.features[0].groups[1].metrics.selection_rate.interval",
            lambda interval: interval.update(low=interval["low"] - 0.01),
            ".groups[1].metrics.selection_rate.interval.low",
        ),
        (
            "results.features[0].groups[1].metrics.selection_rate.interval",
            lambda interval: interval.update(level=0.9),
            ".groups[1].metrics.selection_rate.interval.level: recorded 0.9, recomputed None",
        ),
        (
            "results.features[0].impact_ratios[1]",
            lambda item: item.update(selection_rate={"value": 0.5}),
            ".impact_ratios[1].selection_rate: recorded {'value': 0.5}, recomputed None",
        ),
        (
            "statistics.significance[0].tests[0]",
            lambda test: test.update(count=3),
            ".significance[0].tests[0].count: recorded 3, recomputed None",
        ),
    ],
)
def test_a_tampered_schema_3_value_is_reported_with_its_path(
    where: str, change: Any, reported: str
) -> None:
    """A changed value, and a derived one put back into the record, are differences."""
    from bias_ledger.bundle.recompute import recompute_payload

    directory = LAYOUTS["format2-schema3"]
    payload = copy.deepcopy(_audits(directory / "ledger")[-1]["audit"])  # Wilson, two features
    parent, key = _at(payload, "$." + where)
    change(parent[key])
    found = [item.describe() for item in recompute_payload(payload, directory / "data.csv")]
    assert len(found) == 1 and reported in found[0], found
