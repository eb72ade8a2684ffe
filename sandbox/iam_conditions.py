"""IAM Condition blocks, decided against the condition keys the sandbox fills from one recorded call.

IAM User Guide, "Conditions with multiple context keys or values": operators are ANDed, the keys of one operator are
ANDed, the values of one key are ORed (NOR for a negated operator). A plain operator on a key absent from the request
is false, a negated one true; `ForAllValues` is true when the request has no value for the key (tests/sandbox/
test_iam_conditions.py quotes each rule). `request_context` fills the keys the stack's policies use: DynamoDB
`dynamodb:LeadingKeys` (the partition key value) and, for PutItem, `dynamodb:Attributes`; Transcribe
`transcribe:OutputBucketName`/`OutputKey`; S3 ListBucket's `s3:prefix`. A key it cannot fill, or an operator it does not know, is *unknown*: the
statement is not decided, and the check reports it rather than guessing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Context = Mapping[str, tuple[str, ...]]
"""Lower-cased condition key -> its values in the request (empty: the request has none). A key the sandbox cannot
fill is absent from the mapping."""

_STRING = {"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"}
_LIKE = {"StringLike", "StringNotLike"}
_ARN = {"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"}


@dataclass(frozen=True)
class Verdict:
    holds: bool
    unknown: tuple[str, ...] = ()
    """What could not be evaluated (a condition key the sandbox cannot fill, an operator it does not know)."""


def _glob(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def _arn_like(pattern: str, value: str) -> bool:
    """IAM User Guide, ARN condition operators: "Each of the six colon-delimited components of the ARN is checked
    separately and each can include multi-character match wildcards (*) or single-character match wildcards (?)"."""
    wanted, given = pattern.split(":", 5), value.split(":", 5)
    return len(wanted) == len(given) == 6 and all(_glob(w, g) for w, g in zip(wanted, given, strict=True))


def _matches(operator: str, pattern: str, value: str) -> bool:
    if operator in _STRING:
        return pattern.lower() == value.lower() if "IgnoreCase" in operator else pattern == value
    if operator in _LIKE:
        return _glob(pattern, value)
    return _arn_like(pattern, value)


def _key_holds(operator: str, qualifier: str, if_exists: bool, patterns: list[str], values: tuple[str, ...]) -> bool:
    negated = "Not" in operator

    def value_ok(value: str) -> bool:
        matched = any(_matches(operator, pattern, value) for pattern in patterns)
        return not matched if negated else matched

    if qualifier == "ForAllValues":
        return all(value_ok(v) for v in values)
    if qualifier == "ForAnyValue":
        return any(value_ok(v) for v in values)
    if not values:
        return if_exists or negated
    return value_ok(values[0])


def evaluate(condition: Mapping[str, Mapping[str, Any]], context: Context) -> Verdict:
    """Whether a statement's Condition block holds for a request, or what of it could not be evaluated."""
    unknown: list[str] = []
    holds = True
    for name, keys in condition.items():
        qualifier, _, operator = name.rpartition(":")
        if_exists = operator.endswith("IfExists")
        operator = operator.removesuffix("IfExists")
        if qualifier not in ("", "ForAllValues", "ForAnyValue") or operator not in _STRING | _LIKE | _ARN:
            unknown.append(f"operator {name}")
            continue
        for key, wanted in keys.items():
            values = context.get(key.lower())
            if values is None:
                unknown.append(f"condition key {key}")
                continue
            if not qualifier and len(values) > 1:
                unknown.append(f"{name} on multivalued {key}")
                continue
            patterns = [str(w) for w in (wanted if isinstance(wanted, list) else [wanted])]
            holds = holds and _key_holds(operator, qualifier, if_exists, patterns, values)
    return Verdict(holds and not unknown, tuple(unknown))


def _attribute_value(value: Any) -> str | None:
    """A key attribute's value as the request carries it: DynamoDB JSON ({"S": "x"}) or, before boto3's resource
    layer serialises it, the plain value."""
    if isinstance(value, Mapping):
        scalar = value.get("S", value.get("N", value.get("B")))
        return None if scalar is None else str(scalar)
    return None if value is None else str(value)


def dynamodb_context(
    table: str, request: Mapping[str, Any], partition_keys: Mapping[str, str], *, put: bool = False
) -> dict[str, tuple[str, ...]]:
    """The DynamoDB condition keys of one item request (`Key`, or `Item` for a put). DynamoDB Developer Guide, "Using
    IAM policy conditions for fine-grained access control": `dynamodb:LeadingKeys` "Represents the first key attribute
    of a table—in other words, the partition key"; `dynamodb:Attributes` the attribute names a request accesses (for a
    put, the item's)."""
    context: dict[str, tuple[str, ...]] = {}
    item = request.get("Item") if put else request.get("Key")
    partition_key = partition_keys.get(table.rsplit("table/", 1)[-1])
    if isinstance(item, Mapping) and partition_key:
        value = _attribute_value(item.get(partition_key))
        if value is not None:
            context["dynamodb:leadingkeys"] = (value,)
    if put and isinstance(item, Mapping):
        context["dynamodb:attributes"] = tuple(item)
    return context


def transcribe_context(params: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """StartTranscriptionJob's `transcribe:OutputBucketName` and `transcribe:OutputKey` (Service Authorization
    Reference, as parliament lists the action's condition keys): the request's parameters of the same names."""
    return {
        f"transcribe:{name.lower()}": (str(params[name]),) if params.get(name) else ()
        for name in ("OutputBucketName", "OutputKey")
    }


def list_bucket_context(params: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """ListObjects(V2)'s `s3:prefix` (Service Authorization Reference, parliament's copy: "Filters access by key name
    prefix"): the request's `Prefix`, none when it lists without one."""
    return {"s3:prefix": (str(params["Prefix"]),) if params.get("Prefix") else ()}


__all__ = ["Context", "Verdict", "dynamodb_context", "evaluate", "list_bucket_context", "transcribe_context"]
