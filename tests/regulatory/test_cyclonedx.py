"""export --cyclonedx: a CycloneDX 1.6 model card, valid against CycloneDX's own JSON schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from tests.ledger.helpers import write_small_csv
from tests.regulatory.cli import Cli
from tests.regulatory.ll144_data import write_selection_csv

pytestmark = pytest.mark.slow  # real processes, a few seconds each

LL144_DECLARATION = [
    "--data-source", "test", "--data-description", "synthetic applicants",
    "--test-data-reason", "the tool has not been used yet", "--distribution-date",
    "2026-02-01", "--auditor", "Example Audits LLC",
]  # fmt: skip


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    made = Cli.create(tmp_path_factory.mktemp("cyclonedx"))
    data = write_small_csv(made.root / "data.csv")
    model = made.root / "model.onnx"
    model.write_bytes(b"not really onnx\n" * 100)
    made.run(
        "audit", data, "--label", "label", "--prediction", "pred", "--sensitive", "group",
        "--model", model, "--model-name", 'credit "model"', "--model-version", "3", "-q",
    )  # fmt: skip
    selection = write_selection_csv(made.root / "selection.csv")
    made.run(
        "audit", selection, "--standard", "nyc-ll144", "--prediction", "selected",
        "--model-name", "screener", *LL144_DECLARATION, "-q",
    )  # fmt: skip
    return made


def validate(path: Path) -> dict[str, Any]:
    text = path.read_text()
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, str(error).splitlines()[0]
    bom: dict[str, Any] = json.loads(text)
    return bom


def metrics(bom: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = bom["components"][0]["modelCard"]["quantitativeAnalysis"][
        "performanceMetrics"
    ]
    return found


def test_binary_audit_metrics_with_intervals(cli: Cli) -> None:
    out = cli.root / "binary.cdx.json"
    cli.run("export", "--cyclonedx", out, "0")
    bom = validate(out)
    component = bom["components"][0]
    assert component["type"] == "machine-learning-model"
    assert component["name"] == 'credit "model"' and component["version"] == "3"
    assert {h["alg"] for h in component["hashes"]} == {"SHA-256", "BLAKE3"}
    record = cli.json("show", "0")["record"]["audit"]
    group = next(
        g for f in record["results"]["features"] for g in f["groups"] if g["group"] == ["a"]
    )
    rate = group["metrics"]["selection_rate"]
    found = next(
        m for m in metrics(bom) if m["type"] == "selection_rate" and m["slice"] == "group=a"
    )
    assert float(found["value"]) == rate["value"]
    assert float(found["confidenceInterval"]["lowerBound"]) == rate["interval"]["low"]
    assert any(m["type"] == "impact_ratio" for m in metrics(bom))


def test_ll144_audit_rates_and_ratios(cli: Cli) -> None:
    out = cli.root / "ll144.cdx.json"
    done = cli.json("export", "--cyclonedx", out, "--model", "screener")
    assert done["record"] == 1
    bom = validate(out)
    by_slice = {(m["type"], m["slice"]): m for m in metrics(bom)}
    # Hand-computed in test_ll144_tables; without an exclusion female/Asian (1 of 1) is the
    # intersection's most selected category.
    assert float(by_slice["selection_rate", "sex=female, race_ethnicity=Black"]["value"]) == 0.6
    assert float(by_slice["impact_ratio", "sex=male, race_ethnicity=Black"]["value"]) == (
        pytest.approx((8 / 20) / (1 / 1))
    )


def test_output_inside_the_ledger_is_refused(cli: Cli) -> None:
    done = cli.run("export", "--cyclonedx", cli.root / "ledger" / "bom.json", code=2)
    assert "inside the ledger" in done.stderr
