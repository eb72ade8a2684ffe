"""The program a replay deploys: run once per process for each set of overrides, and each replay's copy its own."""

import pulumi

from sandbox.program import ResourceGraph, deployed_graph, run_program


def _aggregator_buffer_seconds(graph) -> str:
    functions = graph.by_type("aws:lambda/function:Function")
    (aggregator,) = [function for function in functions if function.inputs["name"].endswith("-aggregator")]
    return aggregator.inputs["environment"]["variables"]["BUFFER_SECONDS"]


def _plain(value):
    """A value as data: an asset or archive (no equality of its own) by its class and path."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, pulumi.asset.Asset | pulumi.asset.Archive):
        return (type(value).__name__, getattr(value, "path", None))
    return value


def _declared(graph: ResourceGraph) -> list:
    """The resources in URN order (the program registers them concurrently) as data, and the stack's outputs."""
    resources = sorted(graph.resources, key=lambda resource: resource.urn)
    return [_plain(vars(resource)) for resource in resources] + [_plain(graph.stack_outputs)]


def test_a_replay_deploys_what_the_program_declares_under_its_overrides():
    overrides = {"bufferSeconds": "20", "transcribeLanguages": "en-US"}
    assert _declared(deployed_graph(overrides)) == _declared(run_program(overrides, stack="sandbox"))
    assert _aggregator_buffer_seconds(deployed_graph({"bufferSeconds": "30"})) == "30"
    assert _aggregator_buffer_seconds(deployed_graph({"bufferSeconds": "20"})) == "20"


def test_what_one_replay_changes_in_its_copy_never_reaches_the_next():
    first = deployed_graph({"bufferSeconds": "25"})
    first.get("whatsapp-buffer-buffered-ingest-raw-table").inputs.clear()
    first.resources.pop()
    first.stack_outputs.clear()

    second = deployed_graph({"bufferSeconds": "25"})

    assert _declared(second) == _declared(run_program({"bufferSeconds": "25"}, stack="sandbox"))
