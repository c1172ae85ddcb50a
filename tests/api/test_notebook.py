"""The example notebook runs from top to bottom in a real Jupyter kernel: audit, views, append,
approve, gate, verify and export, each cell showing its result."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "examples" / "audit.ipynb"


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_example_notebook_runs(tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    outputs = [cell.get("outputs", []) for cell in notebook.cells if cell.cell_type == "code"]
    assert all(output["output_type"] != "error" for cell in outputs for output in cell)
    shown = outputs[1][0]["data"]
    assert "text/html" in shown and "demographic_parity_ratio" in shown["text/html"]
    assert shown["text/plain"].startswith("<AuditResult binary_classification of credit-model v1")
    shown_texts = [
        output["data"].get("text/plain", "")
        for cell in outputs
        for output in cell
        if output["output_type"] == "execute_result"
    ]
    gated = next(text for text in shown_texts if text.startswith("<GateResult "))
    assert "four-fifths" in gated and "recorded as record 2" in gated
    verified = next(text for text in shown_texts if text.startswith("<Verified "))
    assert "3 of 3 records" in verified
    assert next(text for text in shown_texts if text.startswith("<Exported "))
    assert "['audit', 'approval', 'audit']" in outputs[-1][0]["data"]["text/plain"]
