"""Reading the declared stack: policies parsed from JSON, functions by handler, what each role allows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sandbox.program import Resource, ResourceGraph


def policy(resource: Resource, field: str = "policy") -> dict[str, Any]:
    """A policy input parsed from its JSON string."""
    return json.loads(resource.inputs[field])


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document["Statement"]
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def env(resource: Resource) -> dict[str, str]:
    return resource.inputs["environment"]["variables"]


def function(graph: ResourceGraph, short_name: str) -> Resource:
    """The function whose handler is whatsapp_buffer.entrypoints.<short_name>.handler."""
    handler = f"whatsapp_buffer.entrypoints.{short_name}.handler"
    (found,) = [r for r in graph.by_type("aws:lambda/function:Function") if r.inputs["handler"] == handler]
    return found


def role_statements(graph: ResourceGraph, short_name: str) -> Iterator[dict[str, Any]]:
    """Every statement of the inline policies on the role of the function `short_name`."""
    role_arn = function(graph, short_name).inputs["role"]
    (role,) = [r for r in graph.by_type("aws:iam/role:Role") if r.outputs["arn"] == role_arn]
    for role_policy in graph.by_type("aws:iam/rolePolicy:RolePolicy"):
        if role_policy.inputs["role"] == role.outputs["name"]:
            yield from statements(policy(role_policy))


def allowed(graph: ResourceGraph, short_name: str) -> dict[str, set[str]]:
    """action -> the resources the function's role allows it on."""
    result: dict[str, set[str]] = {}
    for statement in role_statements(graph, short_name):
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            result.setdefault(action, set()).update(as_list(statement["Resource"]))
    return result
