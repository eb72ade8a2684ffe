"""Policy documents as data: statements are plain dicts whose values may be Pulumi Outputs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pulumi

Statement = Mapping[str, Any]


def allow(actions: Sequence[str], resources: Sequence[pulumi.Input[str]], sid: str | None = None) -> Statement:
    """An Allow statement for an identity policy (a Lambda role)."""
    statement: dict[str, Any] = {"Effect": "Allow", "Action": list(actions), "Resource": list(resources)}
    if sid:
        statement["Sid"] = sid
    return statement


def allow_service(
    service: str,
    actions: Sequence[str],
    resources: pulumi.Input[str] | Sequence[pulumi.Input[str]],
    conditions: Mapping[str, Any],
    sid: str | None = None,
) -> Statement:
    """An Allow statement for a resource policy (topic, queue, key) admitting one AWS service principal."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": list(actions),
        "Resource": resources,
        "Condition": dict(conditions),
    }
    if sid:
        statement["Sid"] = sid
    return statement


def document(statements: Iterable[Statement]) -> pulumi.Output[str]:
    """A policy JSON string, resolved once every Output inside the statements is known."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})
