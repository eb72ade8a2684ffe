"""The runtime's layers import downward only (docs/architecture.md, "Layers"), read from the source with `ast`: every
import counts, at module level, inside a function or under `if TYPE_CHECKING:`.

domain < support < ports < adapters | use cases < composition. Adapters and use cases stand side by side above the
ports: a use case knows an adapter only through its stage's `ports.py` (which may build on `shared_ports.py`), an
adapter implements a port and may use the records and rules below it. A stage package imports no other stage package;
what two stages share lives in a top-level module of the same layer or below.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"
PACKAGE = "whatsapp_buffer"
STAGES = ("ingest", "aggregator", "inbound", "outbound", "outreach")

DOMAIN, SUPPORT, PORTS, ADAPTERS, USE_CASES, COMPOSITION = (
    "domain",
    "support",
    "ports",
    "adapters",
    "use cases",
    "composition",
)
MAY_IMPORT = {
    DOMAIN: {DOMAIN},
    SUPPORT: {DOMAIN, SUPPORT},
    PORTS: {DOMAIN, PORTS},
    ADAPTERS: {DOMAIN, SUPPORT, PORTS, ADAPTERS},
    USE_CASES: {DOMAIN, SUPPORT, PORTS, USE_CASES},
    COMPOSITION: {DOMAIN, SUPPORT, PORTS, ADAPTERS, USE_CASES, COMPOSITION},
}
"""Which layers a module of each layer may import (its own included)."""

TOP_LEVEL = {
    "model": DOMAIN,
    "errors": DOMAIN,
    "clock": DOMAIN,
    "settings": DOMAIN,
    "environment": DOMAIN,
    "buffer_policy": DOMAIN,
    "storage_keys": DOMAIN,
    "render": DOMAIN,
    "attachments": DOMAIN,
    "notice_texts": DOMAIN,
    "end_of_turn": DOMAIN,
    "text_split": DOMAIN,
    "queue_text": DOMAIN,
    "observability": SUPPORT,
    "convert": SUPPORT,
    "shared_ports": PORTS,
    "chat_notice": USE_CASES,
    "bootstrap": COMPOSITION,
}
"""Every top-level module, by layer: a new one fails `test_every_runtime_module_has_a_layer` until it is placed."""
STAGE_DOMAIN = {
    "aggregator": {"debounce", "lifecycle", "merge"},
    "inbound": {"chat_routing"},
    "outbound": {"streaming", "interactive", "long_reply", "whatsapp_format", "service_window"},
    "ingest": {"webhook", "meta_content"},
    "outreach": {"request"},
}
"""Each stage's pure rules; its other modules (but `ports`) are its use cases."""
NOT_IN_DOMAIN = ("boto3", "botocore", "aws_lambda_powertools", "urllib3", "av", "PIL")
"""No AWS SDK, no Powertools, no media library below the ports."""
NOT_IN_USE_CASES = ("boto3", "botocore")
"""No AWS SDK in a use case: its adapter translates the SDK's errors into `whatsapp_buffer.errors`."""


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((RUNTIME / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(RUNTIME).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = modules()


def imports(name: str) -> Iterator[tuple[str, int]]:
    """(imported module or package, line) for every import in the module, wherever it stands."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                # `from whatsapp_buffer import clock` imports the module whatsapp_buffer.clock
                yield (f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base), node.lineno


def internal_imports(name: str) -> Iterator[tuple[str, int]]:
    for target, line in imports(name):
        if target == PACKAGE or target.startswith(PACKAGE + "."):
            while target not in MODULES:
                target = target.rpartition(".")[0]
            yield target, line


def layer_of(name: str) -> str | None:
    parts = name.split(".")[1:]
    if not parts:
        return DOMAIN
    head, rest = parts[0], parts[1:]
    if head == "entrypoints":
        return COMPOSITION
    if head == "adapters":
        return ADAPTERS
    if head in STAGES:
        if not rest:
            return DOMAIN
        if rest == ["ports"]:
            return PORTS
        return DOMAIN if rest[0] in STAGE_DOMAIN[head] else USE_CASES
    return TOP_LEVEL.get(head)


def unit_of(name: str) -> str:
    """The node of the package graph: a subpackage, or a top-level module."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {unit_of(name): set() for name in MODULES}
    for name in MODULES:
        for target, _ in internal_imports(name):
            if unit_of(target) != unit_of(name) and target != PACKAGE:
                graph[unit_of(name)].add(unit_of(target))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected set of more than one node (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_runtime_module_has_a_layer():
    assert [name for name in MODULES if layer_of(name) is None] == []


def test_no_import_cycle_between_runtime_subpackages_and_top_modules():
    assert cycles(package_graph()) == []


def test_each_layer_imports_only_the_layers_below_it():
    wrong = [
        f"{name}:{line} ({layer_of(name)}) imports {target} ({layer_of(target)})"
        for name in MODULES
        for target, line in internal_imports(name)
        if target != PACKAGE and layer_of(target) not in MAY_IMPORT[layer_of(name) or DOMAIN]
    ]
    assert wrong == []


def test_no_stage_imports_another_stage():
    wrong = [
        f"{name}:{line} imports {target}"
        for name in MODULES
        for target, line in internal_imports(name)
        if unit_of(name) in STAGES and unit_of(target) in STAGES and unit_of(target) != unit_of(name)
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [(DOMAIN, NOT_IN_DOMAIN), (USE_CASES, NOT_IN_USE_CASES)],
    ids=["the domain: no AWS SDK, framework or media library", "a use case: no AWS SDK"],
)
def test_a_layer_imports_none_of_the_libraries_kept_out_of_it(layer, forbidden):
    wrong = [
        f"{name}:{line} imports {target}"
        for name in MODULES
        if layer_of(name) == layer
        for target, line in imports(name)
        if target.split(".")[0] in forbidden
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"adapters": {"aggregator"}, "aggregator": {"adapters"}}, [["adapters", "aggregator"]]),
        (
            {"aggregator": {"inbound"}, "inbound": {"outbound"}, "outbound": {"aggregator"}},
            [["aggregator", "inbound", "outbound"]],
        ),
        ({"inbound": {"model", "adapters"}, "adapters": {"model"}, "model": set()}, []),
    ],
)
def test_the_cycle_finder_sees_the_cycles_the_runtime_once_had(graph, expected):
    assert cycles(graph) == expected


def test_a_function_local_or_type_only_import_counts(tmp_path, monkeypatch):
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from whatsapp_buffer.adapters.raw_table import RawTable\n"
        "def f():\n"
        "    from whatsapp_buffer.inbound import send_burst\n"
    )
    path = tmp_path / "probe.py"
    path.write_text(source)
    monkeypatch.setitem(MODULES, "whatsapp_buffer.aggregator.probe", path)
    assert sorted(target for target, _ in internal_imports("whatsapp_buffer.aggregator.probe")) == [
        "whatsapp_buffer.adapters.raw_table",
        "whatsapp_buffer.inbound.send_burst",
    ]


def classes_of(layer: str) -> dict[str, str]:
    """Class name -> the module that defines it, for every module of `layer`."""
    return {
        node.name: name
        for name in MODULES
        if layer_of(name) == layer
        for node in ast.walk(ast.parse(MODULES[name].read_text()))
        if isinstance(node, ast.ClassDef)
    }


def test_no_adapter_shares_its_name_with_a_port():
    """docs/architecture.md, "Layers": a port is named after what its use case needs, its adapter after the AWS
    resource or service it speaks to, so a name read in bootstrap or a test means one of them only."""
    ports, adapters = classes_of(PORTS), classes_of(ADAPTERS)
    assert sorted(f"{name} ({adapters[name]} and {ports[name]})" for name in set(ports) & set(adapters)) == []
