"""Reading the declared stack: policies parsed from JSON, functions by handler, what each role allows."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session

from sandbox.program import DEFAULT_REGION, Resource, ResourceGraph

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"


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


def _qualified_type(urn: str) -> str:
    return urn.split("::")[2]


def alias_urn(spec: dict[str, Any], resource: Resource) -> str:
    """An alias spec resolved against the resource it is on, as the engine resolves it: name, type and parent
    default to the resource's own; noParent = a child of the stack."""
    stack, project = resource.urn.split("::")[0].removeprefix("urn:pulumi:"), resource.urn.split("::")[1]
    name, type_ = spec["name"] or resource.name, spec["type"] or resource.type
    parent = None if spec["noParent"] else (spec["parentUrn"] or resource.parent)
    qualified = (
        type_
        if parent is None or _qualified_type(parent) == "pulumi:pulumi:Stack"
        else (f"{_qualified_type(parent)}${type_}")
    )
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def aliases_of(graph: ResourceGraph, resource: Resource) -> set[str]:
    """Every URN the engine takes `resource` for besides its own: its own aliases, and each alias of its parent
    applied to it (a child inherits its parent's aliases, with the parent's old name in place of the new one where the
    child's name begins with the parent's: the SDK's `inherited_child_alias`, pulumi/runtime/resource.py; "wrapping
    resources in a component: { parent: <root-stack> } on each child", pulumi.com/docs/iac/operations/
    stack-management/refactoring-with-aliases)."""
    own = {alias if isinstance(alias, str) else alias_urn(alias, resource) for alias in resource.aliases}
    parent = next((r for r in graph.resources if r.urn == resource.parent), None)
    if parent is None:
        return own
    # The resource's own name and type, and each of its own aliases' (the SDK's `all_aliases`).
    names_and_types = {(resource.name, resource.type)} | {
        (urn.rsplit("::", 1)[1], _qualified_type(urn).rsplit("$", 1)[-1]) for urn in own
    }
    inherited = set()
    for parent_alias in aliases_of(graph, parent):
        old_parent_name = parent_alias.rsplit("::", 1)[1]
        prefix = parent_alias[: parent_alias.rfind("::")]
        for name, type_ in names_and_types:
            if name.startswith(parent.name):
                name = old_parent_name + name[len(parent.name) :]
            inherited.add(f"{prefix}${type_}::{name}")
    return own | inherited


def operations_called(botocore_name: str) -> set[str]:
    """Every `self._client.<method>(` (and paginator) of a class whose client is `boto3.client(<name>)`, in runtime/:
    found in the code, so a new call is checked the day it is written."""
    client = botocore.session.get_session().create_client(
        botocore_name, region_name=DEFAULT_REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    operations: set[str] = set()
    for path in RUNTIME.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef):
                body = ast.get_source_segment(source, node) or ""
                if f'boto3.client("{botocore_name}")' in body:
                    methods = re.findall(r"self\._client\.(\w+)\(", body)
                    methods += re.findall(r'get_paginator\("(\w+)"\)', body)
                    operations |= {client.meta.method_to_api_mapping[m] for m in methods if m != "get_paginator"}
    return operations
