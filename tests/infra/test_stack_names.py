"""Names derive from project + stack, so two stacks in one account never collide; every function gets its contract."""

from __future__ import annotations

import pytest
from infra_helpers import env, function

from components.context import StackContext
from sandbox.program import run_program
from whatsapp_buffer.settings import ENVIRONMENT, SETTINGS

NAMED_OUTPUTS = ("name", "bucket", "arn", "url")


def _physical_names(graph) -> set[str]:
    names = set()
    for resource in graph.resources:
        for key in NAMED_OUTPUTS:
            if isinstance(resource.outputs.get(key), str):
                names.add(resource.outputs[key])
    return names


def test_two_stacks_have_disjoint_resource_names():
    staging = _physical_names(run_program(stack="staging"))
    production = _physical_names(run_program(stack="production"))

    assert staging and production
    assert staging.isdisjoint(production)


def test_explicit_names_carry_project_and_stack(graph):
    assert function(graph, "ingest").outputs["name"] == "whatsapp-buffer-dev-ingest"
    assert graph.get("whatsapp-buffer-stream-aggregator-bursts").outputs["name"] == "whatsapp-buffer-dev-bursts.fifo"
    assert (
        graph.get("whatsapp-buffer-stream-aggregator-bursts-dlq").outputs["name"]
        == "whatsapp-buffer-dev-bursts-dlq.fifo"
    )


@pytest.mark.parametrize(("suffix", "limit"), [("aggregator", 64), ("bursts-dlq.fifo", 80)])
def test_long_stack_names_are_shortened_within_the_limit_and_stay_unique(suffix, limit):
    first = StackContext("whatsapp-buffer", "a-very-long-feature-branch-stack-name-number-1", "1", "us-east-1")
    second = StackContext("whatsapp-buffer", "a-very-long-feature-branch-stack-name-number-2", "1", "us-east-1")

    names = {first.physical_name(suffix, limit), second.physical_name(suffix, limit)}

    assert len(names) == 2
    assert all(len(name) <= limit and name.endswith(f"-{suffix}") for name in names)


@pytest.mark.parametrize("short_name", sorted(ENVIRONMENT))
def test_function_sets_every_variable_its_runtime_settings_read(graph, short_name):
    variables = env(function(graph, short_name))

    assert set(ENVIRONMENT[short_name]) <= set(variables)
    # An optional setting left unset (declared default None, e.g. reengagementTemplate) is the empty string.
    optional = {s.env for s in SETTINGS if s.env and s.default is None}
    assert all(
        isinstance(variables[name], str) and (variables[name] or name in optional) for name in ENVIRONMENT[short_name]
    )
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"} <= set(variables)


@pytest.mark.parametrize("short_name", sorted(ENVIRONMENT))
def test_function_environment_satisfies_its_runtime_settings_class(graph, short_name):
    from whatsapp_buffer import environment as settings

    parsers = {
        "ingest": settings.IngestSettings,
        "aggregator": settings.AggregatorSettings,
        "inbound": settings.InboundSettings,
        "outbound": settings.OutboundSettings,
        "sweeper": settings.SweeperSettings,
        "outreach": settings.OutreachSettings,
    }

    parsers[short_name].from_env(env(function(graph, short_name)))
