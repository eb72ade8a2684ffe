"""An IAM lint of every policy document the program declares, with parliament (duo-labs/parliament, pinned).

`policy_documents(graph)` finds every policy document in every resource's inputs, whatever the resource type (role
trust policies, `aws.iam.RolePolicy`, topic, queue, bucket and key policies, and any type added later): a JSON string
or object with a `Statement`. `lint(documents)` runs parliament on each and returns the findings that matter, as
readable lines.

Parliament checks actions and prefixes against its bundled copy of the AWS Service Authorization Reference
(`parliament/iam_definition.json`), resources against each action's resource types (RESOURCE_MISMATCH), condition
operators against condition key types (MISMATCHED_TYPE*, UNKNOWN_OPERATOR, UNKNOWN_CONDITION_FOR_ACTION) and the
policy's shape (MALFORMED*). Every finding fails the lint except two that AWS documents as correct for one kind of
policy (`EXEMPT`). parliament 1.6.4's database knows every action the stack grants today; it is older than AWS's
(it lacks e.g. End User Messaging's WhatsApp template actions). An action it does not know fails as UNKNOWN_ACTION:
check the Service Authorization Reference, and if AWS lists the action, allow that one action here, citing the page.

parliament 1.6.4 reads its data files through `pkg_resources`, which Python 3.12+ virtual environments lack and
setuptools 82 removed (duo-labs/parliament#247, open); `_import_parliament` lends it the one function it calls,
`resource_filename`, for the import only.
"""

from __future__ import annotations

import importlib
import importlib.resources
import json
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sandbox.program import ResourceGraph


@dataclass(frozen=True)
class Document:
    where: str
    """`<resource type> <logical name> <input path>`, e.g. `aws:iam/rolePolicy:RolePolicy x-policy policy`."""
    resource_type: str
    field: str
    policy: dict[str, Any]

    @property
    def is_trust_policy(self) -> bool:
        return self.resource_type == "aws:iam/role:Role" and self.field == "assumeRolePolicy"

    @property
    def is_key_policy(self) -> bool:
        return self.resource_type == "aws:kms/key:Key" and self.field == "policy"


EXEMPT = {
    # "MALFORMED: Statement contains neither Resource nor NotResource" on a role's trust policy: a trust policy names no
    # Resource, the role is the resource. IAM Access Analyzer's policy checks, MISSING_RESOURCE
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html): every policy type
    # except role trust policies needs Resource or NotResource. Parliament reports it anyway: duo-labs/parliament#229.
    ("MALFORMED", "is_trust_policy"): "Statement contains neither Resource nor NotResource",
    # RESOURCE_STAR on a key policy: "In a key policy, the value of the Resource element is "*", which means "this KMS
    # key." The asterisk ("*") identifies the KMS key to which the key policy is attached." (AWS KMS Developer Guide,
    # Elements in a key policy, https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html)
    ("RESOURCE_STAR", "is_key_policy"): "",
}
"""(finding, kind of document) -> the text the finding's detail must contain for the exemption to apply."""

NEWER_THAN_PARLIAMENT = {
    # Service Authorization Reference, "Actions, resources, and condition keys for AWS End User Messaging Social"
    # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsendusermessagingsocial.html):
    # "ListWhatsAppMessageTemplates — Grants permission to list WhatsApp message templates — List — waba*" and
    # "GetWhatsAppMessageTemplate — Grants permission to get details of a WhatsApp message template — Read — waba*";
    # the waba resource type is `arn:${Partition}:social-messaging:${Region}:${Account}:waba/${WabaId}`.
    "social-messaging:ListWhatsAppMessageTemplates": "waba",
    "social-messaging:GetWhatsAppMessageTemplate": "waba",
}
"""Actions AWS lists that parliament 1.6.4's database lacks (UNKNOWN_ACTION there) -> their one resource type;
tests/infra/test_outreach_policy.py checks their grants against it instead."""


def _as_policy(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str) and value.lstrip().startswith("{") and "Statement" in value:
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {"unparsable": value}
    if isinstance(value, dict) and "Statement" in value:
        return value
    return None


def _walk(value: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    found = _as_policy(value)
    if found is not None:
        yield path, found
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def policy_documents(graph: ResourceGraph) -> list[Document]:
    """Every policy document in every resource's inputs."""
    return [
        Document(f"{resource.type} {resource.name} {path}", resource.type, path, policy)
        for resource in graph.resources
        for path, policy in _walk(resource.inputs, "")
    ]


def _import_parliament() -> types.ModuleType:
    if "parliament" in sys.modules or "pkg_resources" in sys.modules:
        return importlib.import_module("parliament")
    stand_in = types.ModuleType("pkg_resources")
    stand_in.resource_filename = lambda package, name: str(importlib.resources.files(package) / name)  # type: ignore[attr-defined]
    sys.modules["pkg_resources"] = stand_in
    try:
        return importlib.import_module("parliament")
    finally:
        del sys.modules["pkg_resources"]


def wildcard_only(action: str) -> bool:
    """True when the action has no resource-level permissions (no resource type in the Service Authorization
    Reference, as parliament's copy has it): only `"Resource": "*"` grants it, so `*` there is no wildcard grant."""
    prefix, _, name = action.partition(":")
    for service in _import_parliament().iam_definition:
        if service["prefix"] == prefix:
            for privilege in service["privileges"]:
                if privilege["privilege"].lower() == name.lower():
                    return all(not r["resource_type"] for r in privilege["resource_types"])
    return False


def _exempt(document: Document, issue: str, detail: str) -> bool:
    if issue == "UNKNOWN_ACTION" and any(detail.endswith(f"Unknown action {a}") for a in NEWER_THAN_PARLIAMENT):
        return True
    return any(
        issue == exempt_issue and getattr(document, kind) and text in detail
        for (exempt_issue, kind), text in EXEMPT.items()
    )


def lint(documents: list[Document]) -> list[str]:
    """One line per finding that is not exempt: `<where>: <ISSUE> <detail>`."""
    parliament = _import_parliament()
    findings = []
    for document in documents:
        if "unparsable" in document.policy:
            findings.append(f"{document.where}: MALFORMED_JSON {document.policy['unparsable'][:80]}")
            continue
        analysed = parliament.analyze_policy_string(json.dumps(document.policy), ignore_private_auditors=True)
        for finding in analysed.findings:
            detail = json.dumps(finding.detail, default=str) if not isinstance(finding.detail, str) else finding.detail
            if not _exempt(document, finding.issue, detail):
                findings.append(f"{document.where}: {finding.issue} {detail}")
    return findings
