"""Which resources IAM authorises an Amazon Connect, End User Messaging Social or Transcribe call against, read from
the Service Authorization Reference as parliament ships it (`parliament/iam_definition.json`, pinned in requirements).

Each action lists resource types, required ones marked `*` (e.g. UpdateContactAttributes and StopContact: `contact*`,
`instance/${InstanceId}/contact/${ContactId}`; StartChatContact: `contact-flow*` and an optional `contact`). A
resource type's ARN template is filled from the request: a required one the request cannot name is an error, an
optional one is checked only when the request names it. Actions parliament lacks are in `NOT_IN_PARLIAMENT`, each
row citing the reference's page. Only the data file is read: importing parliament itself needs `pkg_resources`.
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

_PARAMETERS: dict[str, dict[str, tuple[str, ...]]] = {
    "connect": {"InstanceId": ("InstanceId",), "ContactId": CONTACT_ID_PARAMETERS, "ContactFlowId": ("ContactFlowId",)},
    # botocore socialmessaging: a number is `originationPhoneNumberId` (GetLinkedWhatsAppBusinessAccountPhoneNumber:
    # `id`), "phone-number-id-…" or its ARN; a WhatsApp Business Account is `id`, "waba-…" or its ARN.
    "social-messaging": {"OriginationPhoneNumberId": ("originationPhoneNumberId", "id"), "WabaId": ("id",)},
    "transcribe": {"JobName": ("TranscriptionJobName",)},
}
_ID_PREFIXES = {"OriginationPhoneNumberId": "phone-number-id-", "WabaId": "waba-"}
"""The id forms whose ARN drops the prefix (`phone-number-id/${OriginationPhoneNumberId}`, `waba/${WabaId}`)."""

SERVICE_AUTHORIZATION_SOCIAL = (
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsendusermessagingsocial.html"
)
NOT_IN_PARLIAMENT: dict[tuple[str, str], tuple[str, list[tuple[str, bool]]]] = {
    ("social-messaging", "ListWhatsAppMessageTemplates"): (SERVICE_AUTHORIZATION_SOCIAL, [("waba", True)]),
    ("social-messaging", "GetWhatsAppMessageTemplate"): (SERVICE_AUTHORIZATION_SOCIAL, [("waba", True)]),
}
"""(prefix, action) -> (the Service Authorization Reference page that lists it, its resource types as (name,
required)), for actions parliament 1.6.4 does not have ("Actions, resources, and condition keys for AWS End User
Messaging Social": both template reads take `waba*`). A test fails when parliament gains one: then drop its row."""
_VARIABLE = re.compile(r"\$\{(\w+)\}")


class NotInReference(ValueError):
    """The sandbox cannot tell what IAM checks for this call: the action, or a resource it requires, is unknown."""


def _definition_path() -> Path:
    spec = importlib.util.find_spec("parliament")
    if spec is None or not spec.submodule_search_locations:
        raise NotInReference("parliament (requirements.txt) is not installed: no Service Authorization Reference")
    return Path(next(iter(spec.submodule_search_locations))) / "iam_definition.json"


@functools.cache
def _services() -> dict[str, dict[str, Any]]:
    """The reference's services by prefix, parsed once per process (the file is about 10 MB of JSON)."""
    return {service["prefix"]: service for service in json.loads(_definition_path().read_text(encoding="utf-8"))}


@functools.cache
def _service(prefix: str) -> tuple[dict[str, list[tuple[str, bool]]], dict[str, str]]:
    """(action -> [(resource type, required)], resource type -> ARN template) of one service prefix."""
    service = _services().get(prefix)
    if service is not None:
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
    if action not in actions and (prefix, action) in NOT_IN_PARLIAMENT:
        return NOT_IN_PARLIAMENT[(prefix, action)][1]
    if action not in actions:
        raise NotInReference(f"{prefix}:{action} is not in parliament's Service Authorization Reference")
    return actions[action]


def _lookup(params: dict[str, Any], dotted: str) -> str:
    value: Any = params
    for key in dotted.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


def _value(prefix: str, variable: str, params: dict[str, Any]) -> str:
    for name in _PARAMETERS.get(prefix, {}).get(variable, ()):
        value = _lookup(params, name)
        if value:
            # An instance may be named by its ARN (botocore InstanceId: "You can find the instance ID in the ARN").
            return value.rsplit("instance/", 1)[-1] if variable == "InstanceId" else value
    return ""


def _fill(template: str, values: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda match: values[match.group(1)], template)


def resources(
    prefix: str, operation: str, params: dict[str, Any], *, partition: str, region: str, account: str
) -> list[str]:
    """The ARNs IAM authorises one call against, one per resource type the request names."""
    _, templates = _service(prefix)
    known = {"Partition": partition, "Region": region, "Account": account}
    types = resource_types(prefix, operation)
    if not types:
        return ["*"]  # no resource-level permissions: only "Resource": "*" grants the action
    arns = []
    for resource_type, required in types:
        template = templates[resource_type]
        values = {v: known.get(v) or _value(prefix, v, params) for v in _VARIABLE.findall(template)}
        missing = [v for v, value in values.items() if not value]
        if missing:
            if required:
                raise NotInReference(
                    f"{prefix}:{operation} requires a {resource_type} but the request names no {missing}"
                )
            continue
        named = [value for value in values.values() if value.startswith("arn:")]
        if named:  # the request names the resource by its ARN
            arns.append(named[0])
            continue
        arns.append(_fill(template, {v: value.removeprefix(_ID_PREFIXES.get(v, "")) for v, value in values.items()}))
    return arns


def connect_resources(
    operation: str, params: dict[str, Any], *, partition: str, region: str, account: str
) -> list[str]:
    """The ARNs IAM authorises one Connect call against."""
    return resources("connect", operation, params, partition=partition, region=region, account=account)


@functools.cache
def dependent_actions(prefix: str, action: str) -> tuple[str, ...]:
    """The actions the reference lists as also needed to call `action` (e.g. transcribe:StartTranscriptionJob:
    s3:GetObject)."""
    service = _services().get(prefix)
    if service is not None:
        return tuple(
            dependent
            for privilege in service["privileges"]
            if privilege["privilege"] == action
            for resource_type in privilege["resource_types"]
            for dependent in resource_type["dependent_actions"]
        )
    raise NotInReference(f"service prefix {prefix} is not in the Service Authorization Reference")


__all__ = [
    "CONTACT_ID_PARAMETERS",
    "NOT_IN_PARLIAMENT",
    "NotInReference",
    "connect_resources",
    "dependent_actions",
    "resource_types",
    "resources",
]
