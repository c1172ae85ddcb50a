"""The verification core's layering (issue 10): sources depend on the core, never the reverse,
and the verify command's modules import each other in one direction only (real import graph)."""

from __future__ import annotations

import grimp
import pytest


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("bias_ledger")


@pytest.mark.parametrize(
    "imported",
    ["bias_ledger.bundle", "bias_ledger.render", "bias_ledger.cli", "bias_ledger.metrics",
     "bias_ledger.policy", "bias_ledger.io"],
)  # fmt: skip
def test_the_core_imports_no_source_renderer_or_engine(
    graph: grimp.ImportGraph, imported: str
) -> None:
    chains = graph.find_shortest_chains(
        importer="bias_ledger.verify", imported=imported, as_packages=True
    )
    assert chains == set(), chains


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("bias_ledger.cli.verify_view", "bias_ledger.cli.verify_output"),
        ("bias_ledger.cli.verify_output", "bias_ledger.workflows.verify"),
        ("bias_ledger.bundle.verify", "bias_ledger.verify.core"),
    ],
)
def test_no_import_cycle(graph: grimp.ImportGraph, first: str, second: str) -> None:
    assert graph.find_shortest_chain(importer=second, imported=first) is None


def test_the_bundle_source_renders_nothing(graph: grimp.ImportGraph) -> None:
    """Reports are informative views: verifying a bundle never reaches a renderer."""
    for module in ("bias_ledger.bundle.verify", "bias_ledger.bundle.read"):
        chain = graph.find_shortest_chain(importer=module, imported="bias_ledger.render")
        assert chain is None, chain
