"""Which resources IAM authorises an Amazon Connect call against, read from the Service Authorization Reference as
parliament ships it (`parliament/iam_definition.json`; parliament is pinned in requirements.txt).

Each action lists resource types, required ones marked `*` (e.g. UpdateContactAttributes and StopContact: `contact*`,
`instance/${InstanceId}/contact/${ContactId}`; StartChatContact: `contact-flow*` and an optional `contact`). A
resource type's ARN template is filled from the request: a required one the request cannot name is an error, an
optional one is checked only when the request names it. Only the data file is read: importing parliament itself needs
`pkg_resources`.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

CONTACT_ID_PARAMETERS = ("ContactId", "InitialContactId", "RelatedContactId", "PersistentChat.SourceContactId")
"""Where a Connect request names its contact: StopContact `ContactId`, UpdateContactAttributes `InitialContactId`,
StartChatContact the contact it relates to or continues (the optional `contact` resource of that action)."""

_PARAMETERS = {
    "InstanceId": ("InstanceId",),
    "ContactId": CONTACT_ID_PARAMETERS,
    "ContactFlowId": ("ContactFlowId",),
}
_VARIABLE = re.compile(r"\$\{(\w+)\}")


class NotInReference(ValueError):
    """The sandbox cannot tell what IAM checks for this call: the action, or a resource it requires, is unknown."""


def _definition_path() -> Path:
    spec = importlib.util.find_spec("parliament")
    if spec is None or not spec.submodule_search_locations:
        raise NotInReference("parliament (requirements.txt) is not installed: no Service Authorization Reference")
    return Path(next(iter(spec.submodule_search_locations))) / "iam_definition.json"


@functools.cache
def _service(prefix: str) -> tuple[dict[str, list[tuple[str, bool]]], dict[str, str]]:
    """(action -> [(resource type, required)], resource type -> ARN template) of one service prefix."""
    for service in json.loads(_definition_path().read_text(encoding="utf-8")):
        if service["prefix"] == prefix:
            actions = {
                p["privilege"]: [
                    (r["resource_type"].rstrip("*"), r["resource_type"].endswith("*"))
                    for r in p["resource_types"]
                    if r["resource_type"]
                ]
                for p in service["privileges"]
            }
            return actions, {r["resource"]: r["arn"] for r in service["resources"]}
    raise NotInReference(f"service prefix {prefix} is not in the Service Authorization Reference")


def resource_types(prefix: str, action: str) -> list[tuple[str, bool]]:
    """The action's resource types as (name, required)."""
    actions, _ = _service(prefix)
    if action not in actions:
        raise NotInReference(f"{prefix}:{action} is not in parliament's Service Authorization Reference")
    return actions[action]


def _lookup(params: dict[str, Any], dotted: str) -> str:
    value: Any = params
    for key in dotted.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


def _value(variable: str, params: dict[str, Any]) -> str:
    for name in _PARAMETERS.get(variable, ()):
        value = _lookup(params, name)
        if value:
            # An instance may be named by its ARN (botocore InstanceId: "You can find the instance ID in the ARN").
            return value.rsplit("instance/", 1)[-1] if variable == "InstanceId" else value
    return ""


def _fill(template: str, values: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda match: values[match.group(1)], template)


def connect_resources(
    operation: str, params: dict[str, Any], *, partition: str, region: str, account: str
) -> list[str]:
    """The ARNs IAM authorises one Connect call against, one per resource type the request names."""
    _, templates = _service("connect")
    known = {"Partition": partition, "Region": region, "Account": account}
    types = resource_types("connect", operation)
    if not types:
        return ["*"]  # no resource-level permissions: only "Resource": "*" grants the action
    arns = []
    for resource_type, required in types:
        template = templates[resource_type]
        values = {v: known.get(v) or _value(v, params) for v in _VARIABLE.findall(template)}
        missing = [v for v, value in values.items() if not value]
        if missing:
            if required:
                raise NotInReference(
                    f"connect:{operation} requires a {resource_type} but the request names no {missing}"
                )
            continue
        arns.append(_fill(template, values))
    return arns


__all__ = ["CONTACT_ID_PARAMETERS", "NotInReference", "connect_resources", "resource_types"]
