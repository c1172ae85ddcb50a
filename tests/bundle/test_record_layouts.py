"""Every record layout keeps working end to end: results schema 2 (format 1 and 2), 3 and 4,
metric audits and NYC LL144 audits alike.

The committed fixtures are never regenerated: ``format1`` was made by v0.1.0, ``layouts/schema2``
by the last version that wrote results schema 2, ``layouts/schema3`` by the first that writes
schema 3, ``layouts/schema3-ll144`` by the last that writes schema 3, ``layouts/schema4`` and
``layouts/schema4-ll144`` by the first that writes schema 4 (tests/fixtures/layouts/generate.py,
generate_ll144.py). Each ledger and bundle verifies, recomputes, re-judges, renders and serves
as a gate baseline; tampering with a compact record's values is reported by the JSON path where
the record holds them.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import blake3
import pytest

from bias_ledger.results_layout import (
    COMPACT_SCHEMA_VERSION,
    RESULTS_SCHEMA_VERSION,
    compacted,
    expanded,
)

from .helpers import cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LAYOUTS = {
    "format1-schema2": FIXTURES / "format1",
    "format2-schema2": FIXTURES / "layouts" / "schema2",
    "format2-schema3": FIXTURES / "layouts" / "schema3",
    "format2-schema3-ll144": FIXTURES / "layouts" / "schema3-ll144",
    "format2-schema4": FIXTURES / "layouts" / "schema4",
    "format2-schema4-ll144": FIXTURES / "layouts" / "schema4-ll144",
}
PINNED = {  # blake3
    "schema2/bundle.zip": "acb413561388949e3c7533d0b44086443ce310787d8a6b6e36803a11e54b6b0b",
    "schema3/bundle.zip": "e6be50d922d0b6ff7d8a35c18fd43f23c6e6bec3922853c86a1e884536da7e79",
    "schema3-ll144/bundle.zip": "291f4e01c2cee331898c4d247c92b9220f44e5b4329262c582f8ff49d6f78ded",
    "schema4/bundle.zip": "67de2f4d168bb09837e0c0c90d86cac07dd9b9cb42f03e47c68533d906f5b9ba",
    "schema4-ll144/bundle.zip": "eec0355de6c5740fbeac64b16faffdac41c39ddd0bc614585a46b14b1add5479",
}
LL144 = {name for name in LAYOUTS if name.endswith("ll144")}


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
        schema = int(name.removesuffix("-ll144")[-1])
        assert versions == {schema}, name
        standards = {record["audit"].get("standard") for record in _audits(directory / "ledger")}
        assert standards == ({"nyc-ll144"} if name in LL144 else {None}), name


def test_ledger_and_bundle_verify(layout: Path) -> None:
    trusted: list[str | Path] = ["--trusted-keys", layout / "allowed_signers"]
    code, output = cli("verify", "--ledger", layout / "ledger", *trusted)
    assert code == 0, output
    code, output = cli("verify", layout / "bundle.zip", *trusted)
    assert code == 0, output


def test_bundle_recomputes_and_rejudges(layout: Path) -> None:
    policy: list[str | Path] = []
    if (layout / "policy.toml").exists():  # the LL144 layouts hold no verdict
        policy = ["--policy", layout / "policy.toml"]
    code, output = cli(
        "verify", layout / "bundle.zip", "--trusted-keys", layout / "allowed_signers",
        "--recompute", "--data", layout / "data.csv", *policy, "--json",
    )  # fmt: skip
    assert code == 0, output
    report = json.loads(output)["recompute"]
    done = [item for item in report["records"] if item["recomputed"]]
    assert len(done) == len(_audits(layout / "ledger"))
    assert all(item["mismatches"] == [] for item in done)
    if policy:
        assert any("re-judged" in str(item["verdict"]) for item in done)


def _judged_audit(layout: Path) -> int:
    """The last audit record a policy judged, without a baseline."""
    judged = [r for r in _audits(layout / "ledger") if r["audit"].get("policy")]
    return int(judged[-1]["index"])


def test_gate_rejudges_a_record_and_takes_a_bundle_as_baseline(layout: Path) -> None:
    if not (layout / "policy.toml").exists():
        pytest.skip("the LL144 layouts hold no policy verdict to re-judge")
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
        read = expanded(record["audit"])
        if "nyc_ll144" in read:  # the tables, their rate named by the tool type
            row = read["nyc_ll144"]["tables"][0]["rows"][0]
            shown = [row["category"][0], f"{row['rate']['value']:.4f}"]
            shown.append("Scoring rate" if read["nyc_ll144"]["rate"] == "scoring_rate" else "")
        else:
            feature = read["results"]
            per = (feature.get("per_class") or [{"results": feature}])[0]["results"]["features"]
            shown = [per[0]["groups"][0]["group"][0]]
        assert all(text in output for text in shown), (shown, output)
        # Every parameter is shown, those schema 4 derives from the statistics too.
        for name in ("min_group_size", "ci_level", "bootstrap", "seed"):
            if name in read["parameters"]:
                assert re.search(rf"param {name}\s", output), name
        assert "ci_level" in read["parameters"]
        report = layout / f"report-{index}.html"
        code, output = cli("report", "--ledger", ledger, index, "-o", report, *trusted)
        assert code == 0, output
        html = report.read_text(encoding="utf-8")
        if "nyc_ll144" in read:  # the report lists an LL144 audit's parameters, not its tables
            assert f"<td>tool_type</td><td>{read['parameters']['tool_type']}</td>" in html
        else:
            assert all(text in html for text in shown), shown
        if read.get("results", {}).get("task") == "binary_classification":
            assert "<svg" in html and "impact ratio" in html.lower()
        if "nyc_ll144" in read:
            summary = layout / f"summary-{index}.md"
            code, output = cli(
                "report", "--ledger", ledger, index, "--summary", "nyc-ll144", "-o", summary,
                *trusted,
            )  # fmt: skip
            assert code == 0, output
            page = summary.read_text(encoding="utf-8")
            assert f"**Type of tool:** {read['nyc_ll144']['tool_type']}" in page
            assert f"| {row['category'][0]} | {row['applicants']} | {shown[1]} |" in page
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
        assert compacted(before["audit"], 3) | {"environment": None} == after["audit"] | {
            "environment": None
        }


@pytest.mark.parametrize("kind", ["", "-ll144"])
def test_a_schema_4_record_holds_each_parameter_once_and_reads_as_schema_3(kind: str) -> None:
    """The same audits, made by the last schema-3 version (LL144) or the first (metrics) and
    the first schema-4 one: read through the accessor they are the same, value for value;
    the schema-4 record holds none of the values it derives."""
    old = _audits(LAYOUTS[f"format2-schema3{kind}"] / "ledger")
    new = _audits(LAYOUTS[f"format2-schema4{kind}"] / "ledger")
    ignored = {"environment": None, "schema_version": None}
    for before, after in zip(old, new, strict=True):
        assert after["audit"]["schema_version"] == RESULTS_SCHEMA_VERSION == 4
        assert expanded(after["audit"]) | ignored == expanded(before["audit"]) | ignored
        assert compacted(expanded(before["audit"])) | ignored == after["audit"] | ignored
        assert compacted(expanded(after["audit"]), 3) | ignored == before["audit"] | ignored
        audit = after["audit"]
        parameters, statistics = audit["parameters"], audit.get("statistics") or {}
        metric = audit.get("metric_parameters", parameters)
        if statistics.get("intervals"):
            assert not {"ci_level"} & set(parameters), after["index"]
            assert not {"bootstrap", "seed"} & set(metric), after["index"]
        if kind:
            assert not {"standard", "tool_type"} & set(parameters)
            assert not {"rate", "min_group_size", "ci_level"} & set(audit["nyc_ll144"])
            rows = [r for t in audit["nyc_ll144"]["tables"] for r in t["rows"]]
            intervals = [r["rate"]["interval"] for r in rows if "interval" in r["rate"]]
            assert all(set(item) == {"low", "high"} for item in intervals)
            assert "metric_parameters" not in audit or not {
                "label",
                "prediction",
                "score",
                "min_group_size",
                "sensitive",
            } & set(audit["metric_parameters"])


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


@pytest.mark.parametrize("layout_name", ["format2-schema3-ll144", "format2-schema4-ll144"])
def test_an_ll144_audits_metric_parameters_are_compared(layout_name: str) -> None:
    """An LL144 audit with a label records its metrics' parameters (reference groups, impact
    ratio denominator, threshold) apart: recomputation derives them again and reports one
    the record states differently, at its path."""
    from bias_ledger.bundle.recompute import recompute_payload

    directory = LAYOUTS[layout_name]
    audits = [a["audit"] for a in _audits(directory / "ledger")]
    payload = copy.deepcopy(next(a for a in audits if a.get("metric_parameters")))
    data = directory / "data.csv"
    assert recompute_payload(payload, data) == []
    references = payload["metric_parameters"]["references"]
    feature = sorted(references)[0]
    references[feature] = f"{references[feature]}x"
    found = [item.describe() for item in recompute_payload(payload, data)]
    assert len(found) == 1, found
    assert f"$.audit.metric_parameters.references.{feature}: recorded" in found[0], found
