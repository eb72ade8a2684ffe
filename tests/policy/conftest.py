"""The policy pack's validations, run on the program's resource graph under Pulumi mocks.

pulumi-policy's runtime is started by the Pulumi CLI (`pulumi preview --policy-pack policy`), which these tests do not
have: they call each policy's `validate` with the argument objects the runtime builds (ResourceValidationArgs from a
resource's inputs, StackValidationArgs from every resource's outputs), their properties wrapped in the runtime's
unknown-checking proxy, and collect what the policy reports.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import json
import sys
from collections.abc import Callable
from typing import Any

import pytest
from pulumi_policy import (
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import unknown_checking_proxy

from sandbox.program import PROJECT_DIR, ResourceGraph, run_program

PACK_DIR = PROJECT_DIR / "policy"
if str(PACK_DIR) not in sys.path:
    sys.path.insert(0, str(PACK_DIR))


def _load_pack():
    spec = importlib.util.spec_from_file_location("whatsapp_buffer_policy_pack", PACK_DIR / "__main__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the pack's server starts only under `__main__`, i.e. when the CLI runs it
    return module


PACK = _load_pack()
POLICIES = {policy.name: policy for policy in PACK.POLICIES}


def _options(resource) -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], False, [], None, [], resource.parent or "")


def stack_args(graph: ResourceGraph) -> StackValidationArgs:
    by_urn: dict[str, PolicyResource] = {}
    for r in graph.resources:
        parent = by_urn.get(r.parent) if r.parent else None
        props = unknown_checking_proxy(copy.deepcopy(r.outputs))
        by_urn[r.urn] = PolicyResource(r.type, props, r.urn, r.name, _options(r), None, parent, [], {})
    return StackValidationArgs(list(by_urn.values()))


def violations(policy_name: str, graph: ResourceGraph) -> list[str]:
    """What the policy reports on the graph, one message per violation; NotApplicable propagates."""
    policy = POLICIES[policy_name]
    found: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append(message)

    if isinstance(policy, ResourceValidationPolicy):
        for r in graph.resources:
            props = unknown_checking_proxy(copy.deepcopy(r.inputs))
            policy.validate(ResourceValidationArgs(r.type, props, r.urn, r.name, _options(r), None), report)
    else:
        policy.validate(stack_args(graph), report)
    return found


def applies(policy_name: str, graph: ResourceGraph) -> bool:
    try:
        violations(policy_name, graph)
    except _NotApplicableError:
        return False
    return True


def broken(graph: ResourceGraph, logical_name: str, change: Callable[[dict[str, Any]], None]) -> ResourceGraph:
    """A copy of the graph where `change` edited one resource's inputs and outputs (JSON policies parsed first)."""
    resources = []
    for resource in graph.resources:
        if resource.name == logical_name:
            edited = []
            for values in (resource.inputs, resource.outputs):
                values = copy.deepcopy(values)
                for key in ("policy", "redrivePolicy"):
                    if isinstance(values.get(key), str):
                        values[key] = json.loads(values[key])
                change(values)
                edited.append(values)
            resource = dataclasses.replace(resource, inputs=edited[0], outputs=edited[1])
        resources.append(resource)
    if all(r.name != logical_name for r in graph.resources):
        raise KeyError(logical_name)
    return ResourceGraph(resources=resources, stack_outputs=graph.stack_outputs)


def without(graph: ResourceGraph, logical_name: str) -> ResourceGraph:
    graph.get(logical_name)
    return ResourceGraph([r for r in graph.resources if r.name != logical_name], graph.stack_outputs)


@pytest.fixture(scope="session")
def sample_stack() -> ResourceGraph:
    return run_program()
