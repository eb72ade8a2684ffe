"""The policy pack's validations, run on the program's resource graph under Pulumi mocks (tests/policy's helpers).

pulumi-policy's runtime is started by the Pulumi CLI (`pulumi preview --policy-pack policy`), which these tests do not
have: policy/offline.py calls each policy's `validate` with the argument objects the runtime builds, and these tests
use it on the declared stack and on copies of it with one resource broken.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import sys
from collections.abc import Callable
from typing import Any

from sandbox.program import PROJECT_DIR, ResourceGraph

sys.path.insert(0, str(PROJECT_DIR / "policy"))

from invariants import RETENTION_DAYS, takes_only_every_resource  # noqa: E402 - the pack's folder is not a package
from offline import POLICIES, applies, stack_args, violations  # noqa: E402

__all__ = [
    "POLICIES",
    "PROJECT_DIR",
    "RETENTION_DAYS",
    "applies",
    "broken",
    "stack_args",
    "takes_only_every_resource",
    "violations",
    "without",
]


def broken(graph: ResourceGraph, logical_name: str, change: Callable[[dict[str, Any]], None]) -> ResourceGraph:
    """A copy of the graph where `change` edited one resource's inputs and outputs (JSON policies parsed first)."""
    graph.get(logical_name)
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
    return ResourceGraph(resources=resources, stack_outputs=graph.stack_outputs)


def without(graph: ResourceGraph, logical_name: str) -> ResourceGraph:
    graph.get(logical_name)
    return ResourceGraph([r for r in graph.resources if r.name != logical_name], graph.stack_outputs)
