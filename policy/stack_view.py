"""What the invariants read of a stack: the bridge's resources, their policy documents, their ARNs.

Only resources inside a `whatsapp-buffer:index:` component are guarded, so a team's own resources beside the bridge
are not judged by its rules. Properties arrive as the pack's runtime hands them over: mappings and sequences that
raise on a value unknown during preview (the runtime turns that into an advisory "can't run during preview").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

COMPONENT = "whatsapp-buffer:index:"
CONNECT_INSTANCE_ARN = re.compile(r"^arn:aws[a-z-]*:connect:[a-z0-9-]+:(\d{12}):instance/[0-9a-f-]{36}$")
"""A Connect instance's ARN (instance ids are UUIDs): no wildcard, one instance of one account."""


def ancestry(urn: str) -> list[str]:
    """The component types above a resource, from its URN `urn:pulumi:stack::project::parent$...$type::name`."""
    parts = urn.split("::")
    return parts[2].split("$")[:-1] if len(parts) >= 4 else []


def guarded(urn: str) -> bool:
    return any(kind.startswith(COMPONENT) for kind in ancestry(urn))


def inside(urn: str, component: str) -> bool:
    """True when the resource lives under the component `whatsapp-buffer:index:<component>`."""
    return f"{COMPONENT}{component}" in ancestry(urn)


def of_type(resources: Iterable[Any], *types: str) -> list[Any]:
    return [r for r in resources if r.resource_type in types and guarded(r.urn)]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | Mapping):
        return [value]
    return list(value) if isinstance(value, Sequence) else [value]


def document(value: Any) -> Mapping[str, Any]:
    """A policy (or redrive policy) given as JSON text or as an object."""
    if isinstance(value, str):
        return json.loads(value) if value.strip() else {}
    return value if isinstance(value, Mapping) else {}


def statements(value: Any) -> list[Mapping[str, Any]]:
    return [s for s in as_list(document(value).get("Statement")) if isinstance(s, Mapping)]


def service_principal(statement: Mapping[str, Any]) -> str | None:
    principal = statement.get("Principal")
    if isinstance(principal, Mapping) and set(principal) == {"Service"} and isinstance(principal["Service"], str):
        return principal["Service"]
    return None


def condition_values(statement: Mapping[str, Any], key: str, operators: Sequence[str]) -> list[str]:
    """Every value the statement's Condition compares `key` against with one of `operators`."""
    found: list[str] = []
    for operator, by_key in (statement.get("Condition") or {}).items():
        if operator in operators and key in by_key:
            found.extend(str(v) for v in as_list(by_key[key]))
    return found


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def prop(resource: Any, key: str, default: Any = None) -> Any:
    return resource.props.get(key, default)


def nested(value: Any, *keys: str) -> Any:
    """value[k1][k2]..., None where a level is missing."""
    for key in keys:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value
