"""The package's layering (issue 10), on the real import graph: every top-level module and
package sits in one layer of docs/ARCHITECTURE.md and imports only downwards; no import cycle
anywhere; the verification core depends on no source, renderer or engine.

Imports under ``if TYPE_CHECKING:`` are left out: they are never executed, and a renderer may
name the type of what it renders. The graph is built without grimp's cache: a cache kept from
another checkout of the same package would describe other files.
"""

from __future__ import annotations

from collections.abc import Iterator

import grimp
import pytest

LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__",),
    ("cli",),
    ("api",),
    ("workflows",),
    ("gate",),
    ("bundle", "records", "exports"),
    ("render",),
    ("standards",),
    ("_audit", "results_schema"),
    ("_request",),
    ("_audit_model",),
    ("views", "engines", "policy", "gate_trust", "history", "outputs", "signing", "baselines",
     "provenance"),
    ("io", "results_json", "verify"),
    ("witness",),
    ("metrics", "ledger", "input_options", "results_layout", "toml_text"),
    ("_version", "errors", "wording"),
)  # fmt: skip
"""Top to bottom; the names in one layer are independent of each other."""

PLACED_AHEAD = {"_request", "input_options", "results_schema"}
"""Modules of another lane's branch (registry), placed before they are merged."""

KNOWN_UPWARD: dict[tuple[str, str], str] = {}
"""Imports against the layers, each named with why, so that none can spread: none left (the
format-2 append's witness push moved up to workflows/append.py)."""


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("bias_ledger", exclude_type_checking_imports=True, cache_dir=None)


def test_every_top_level_module_has_a_layer(graph: grimp.ImportGraph) -> None:
    tops = {name.split(".")[1] for name in graph.modules if name.count(".") >= 1}
    layered = {name for layer in LAYERS for name in layer}
    assert tops - layered == set(), "place the new module in LAYERS and docs/ARCHITECTURE.md"
    assert layered - tops - PLACED_AHEAD == set(), "a layer names a module that does not exist"


def _against_layers(graph: grimp.ImportGraph) -> list[str]:
    """Every import against :data:`LAYERS` but the known one, as ``importer -> imported``."""
    layers = [grimp.Layer(*layer, independent=True) for layer in LAYERS]
    illegal = graph.find_illegal_dependencies_for_layers(layers=layers, containers={"bias_ledger"})
    shown = []
    for dependency in sorted(illegal, key=lambda item: (item.importer, item.imported)):
        pairs = {
            (head, tail)
            for route in dependency.routes
            for head in route.heads
            for tail in route.tails
        }
        direct = all(not route.middle for route in dependency.routes)
        if not (direct and pairs <= set(KNOWN_UPWARD)):
            chains = [
                " -> ".join((min(r.heads), *r.middle, min(r.tails))) for r in dependency.routes
            ]
            shown.append(f"{dependency.importer} -> {dependency.imported}: {'; '.join(chains)}")
    return shown


def test_imports_point_down_the_layers(graph: grimp.ImportGraph) -> None:
    shown = _against_layers(graph)
    assert shown == [], "imports against the layers:\n" + "\n".join(shown)
    for importer, imported in KNOWN_UPWARD:  # once it is gone, its exemption goes too
        assert graph.direct_import_exists(importer=importer, imported=imported), importer


def test_an_upward_import_is_found() -> None:
    made = grimp.build_graph("bias_ledger", exclude_type_checking_imports=True, cache_dir=None)
    made.add_import(importer="bias_ledger.verify.core", imported="bias_ledger.render.terminal")
    assert _against_layers(made) == [
        "bias_ledger.verify -> bias_ledger.render: "
        "bias_ledger.verify.core -> bias_ledger.render.terminal"
    ]
    made.remove_import(importer="bias_ledger.verify.core", imported="bias_ledger.render.terminal")
    # Siblings of one layer are independent too.
    made.add_import(importer="bias_ledger.io.read", imported="bias_ledger.verify.core")
    assert _against_layers(made) == [
        "bias_ledger.io -> bias_ledger.verify: bias_ledger.io.read -> bias_ledger.verify.core"
    ]


def _cycles(graph: grimp.ImportGraph) -> Iterator[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    skip = set(KNOWN_UPWARD)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next((c for c in children if (node, c) not in skip), None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    yield sorted(component)


def test_no_import_cycle_anywhere(graph: grimp.ImportGraph) -> None:
    assert list(_cycles(graph)) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    made = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b", "p.c"):
        made.add_module(name)
    made.add_import(importer="p.a", imported="p.b")
    made.add_import(importer="p.b", imported="p.c")
    assert list(_cycles(made)) == []
    made.add_import(importer="p.c", imported="p.a")
    assert list(_cycles(made)) == [["p.a", "p.b", "p.c"]]


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
