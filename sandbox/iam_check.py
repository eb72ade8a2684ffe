"""The replay's IAM check: every AWS action a function performed must be allowed by its role as the program declares it.

`required(call)` turns one recorded API call into the IAM actions and resource ARNs AWS would authorise it against
(a TransactWriteItems is authorised per contained item; a Query on an index against the index ARN; Connect
Participant calls are authorised by connection tokens, not IAM; a Connect call against the resource types the Service
Authorization Reference lists for its action, `iam_reference`). `RolePolicy.allows` evaluates identity policy
statements (Allow/Deny, Action/NotAction, Resource/NotResource with `*`/`?` wildcards). Conditions are not
evaluated: the check is about which actions on which resources, the part the program can get wrong. `RoleCheck`
applies it to each function of the replay, for its own calls and the ones Lambda makes with its role.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from sandbox.iam_reference import connect_resources

TOKEN_AUTHORISED = frozenset({"connectparticipant", "execute-api"})
"""Services whose calls IAM never sees (Connect Participant signs with the participant/connection token)."""

_BATCH_ALIASES = {
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
    ("s3", "HeadObject"): "GetObject",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "CreateMultipartUpload"): "PutObject",
    ("s3", "UploadPart"): "PutObject",
    ("s3", "CompleteMultipartUpload"): "PutObject",
}
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@dataclass(frozen=True)
class Account:
    region: str
    account_id: str
    partition: str = "aws"

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        account = self.account_id if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"


def _table_arn(account: Account, table: str, index: str | None = None) -> str:
    base = table if table.startswith("arn:") else account.arn("dynamodb", f"table/{table}")
    return f"{base}/index/{index}" if index else base


def _queue_arn(account: Account, queue_url: str) -> str:
    if queue_url.startswith("arn:"):
        return queue_url
    parts = [p for p in urlparse(queue_url).path.split("/") if p]
    owner, name = (parts[-2], parts[-1]) if len(parts) >= 2 else (account.account_id, parts[-1])
    return f"arn:{account.partition}:sqs:{account.region}:{owner}:{name}"


def _phone_arn(account: Account, origination_id: str) -> str:
    if origination_id.startswith("arn:"):
        return origination_id
    return account.arn("social-messaging", f"phone-number-id/{origination_id.removeprefix('phone-number-id-')}")


def required(service: str, operation: str, params: dict[str, Any], account: Account) -> list[tuple[str, str]]:
    """The (action, resource ARN) pairs IAM checks for one API call."""
    if service in TOKEN_AUTHORISED:
        return []
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            pairs = []
            for entry in params.get("TransactItems", []):
                op_type, op = next(iter(entry.items()))
                pairs.append((f"dynamodb:{_TRANSACT_ACTIONS[op_type]}", _table_arn(account, op["TableName"])))
            return pairs
        if operation == "TransactGetItems":
            return [
                ("dynamodb:GetItem", _table_arn(account, e["Get"]["TableName"]))
                for e in params.get("TransactItems", [])
            ]
        if operation == "BatchWriteItem":
            pairs = []
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    pairs.append(
                        (
                            "dynamodb:PutItem" if "PutRequest" in request else "dynamodb:DeleteItem",
                            _table_arn(account, table),
                        )
                    )
            return pairs
        if operation == "BatchGetItem":
            return [("dynamodb:BatchGetItem", _table_arn(account, t)) for t in params.get("RequestItems", {})]
        if "TableName" in params:
            return [(f"dynamodb:{operation}", _table_arn(account, params["TableName"], params.get("IndexName")))]
        if "StreamArn" in params:
            return [(f"dynamodb:{operation}", params["StreamArn"])]
        return [(f"dynamodb:{operation}", "*")]
    action = f"{service}:{_BATCH_ALIASES.get((service, operation), operation)}"
    if service == "sqs":
        return [(action, _queue_arn(account, params.get("QueueUrl", "")))]
    if service == "s3":
        bucket = params.get("Bucket", "")
        if "Key" in params:
            return [(action, f"arn:{account.partition}:s3:::{bucket}/{params['Key']}")]
        return [(action, f"arn:{account.partition}:s3:::{bucket}")]
    if service == "social-messaging":
        # Service Authorization Reference: the number calls take `phone-number-id/${OriginationPhoneNumberId}`, the
        # template calls (whose `id` is a `waba-…` or its ARN) `waba/${WabaId}`.
        number = params.get("originationPhoneNumberId") or params.get("id")
        if isinstance(number, str) and ("waba-" in number or ":waba/" in number):
            if number.startswith("arn:"):
                return [(action, number)]
            return [(action, account.arn("social-messaging", f"waba/{number.removeprefix('waba-')}"))]
        return [(action, _phone_arn(account, number) if number else "*")]
    if service == "connect":
        arns = connect_resources(
            operation, params, partition=account.partition, region=account.region, account=account.account_id
        )
        return [(action, arn) for arn in arns]
    if service == "sns":
        return [(action, params.get("TopicArn") or params.get("TargetArn") or "*")]
    if service == "transcribe":
        return _transcribe(action, params, account)
    return [(action, "*")]


def _transcribe(action: str, params: dict[str, Any], account: Account) -> list[tuple[str, str]]:
    """Service Authorization Reference: StartTranscriptionJob has no resource type and the dependent action
    s3:GetObject (the media is read, and the transcript written, with the caller's S3 permissions);
    GetTranscriptionJob is authorised on `transcription-job/${JobName}`."""
    if action == "transcribe:StartTranscriptionJob":
        pairs = [(action, "*")]
        media = str((params.get("Media") or {}).get("MediaFileUri") or "")
        if media.startswith("s3://"):
            pairs.append(("s3:GetObject", f"arn:{account.partition}:s3:::{media[len('s3://') :]}"))
        if params.get("OutputBucketName"):
            key = params.get("OutputKey") or f"{params.get('TranscriptionJobName')}.json"
            pairs.append(("s3:PutObject", f"arn:{account.partition}:s3:::{params['OutputBucketName']}/{key}"))
        return pairs
    return [(action, account.arn("transcribe", f"transcription-job/{params.get('TranscriptionJobName', '')}"))]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _matches(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    regex = "^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$"
    return re.match(regex, value, flags=re.DOTALL) is not None


@dataclass
class RolePolicy:
    """All identity-policy statements attached to one role."""

    role: str
    statements: list[dict[str, Any]] = field(default_factory=list)

    def add_document(self, document: str | dict[str, Any]) -> None:
        doc = json.loads(document) if isinstance(document, str) else document
        statements = doc.get("Statement", [])
        self.statements.extend([statements] if isinstance(statements, dict) else statements)

    def _statement_applies(self, statement: dict[str, Any], action: str, resource: str) -> bool:
        if "Action" in statement:
            action_ok = any(_matches(p, action, case_sensitive=False) for p in _as_list(statement["Action"]))
        else:
            action_ok = not any(_matches(p, action, case_sensitive=False) for p in _as_list(statement.get("NotAction")))
        if not action_ok:
            return False
        if "Resource" in statement:
            return any(_matches(p, resource, case_sensitive=True) for p in _as_list(statement["Resource"]))
        return not any(_matches(p, resource, case_sensitive=True) for p in _as_list(statement.get("NotResource")))

    def allows(self, action: str, resource: str) -> bool:
        applicable = [s for s in self.statements if self._statement_applies(s, action, resource)]
        if any(s.get("Effect") == "Deny" for s in applicable):
            return False
        return any(s.get("Effect") == "Allow" for s in applicable)


class IamDenied(Exception):
    """A function performed an action its role does not allow."""

    def __init__(self, function: str, role: str, action: str, resource: str) -> None:
        super().__init__(f"IAM: role {role} of function {function} does not allow {action} on {resource}")
        self.function, self.role, self.action, self.resource = function, role, action, resource


def check(function: str, policy: RolePolicy, pairs: list[tuple[str, str]]) -> None:
    """Raise IamDenied for the first (action, resource) the role does not allow."""
    for action, resource in pairs:
        if not policy.allows(action, resource):
            raise IamDenied(function, policy.role, action, resource)


class RoleCheck:
    """The replay's check of every function against its role: the calls its handler made (recorded in its worker) and
    the calls Lambda makes with its role on its behalf (reading a stream, polling a queue, writing a dead letter)."""

    def __init__(self, functions: Mapping[str, Any], account: Account) -> None:
        self._functions = functions
        """function key -> its spec (`name`, `policy`)."""
        self._account = account

    def calls(self, key: str, calls: Iterable[Any]) -> None:
        """Check recorded API calls (anything with `service`, `operation`, `params`)."""
        spec = self._functions[key]
        for call in calls:
            check(spec.name, spec.policy, required(call.service, call.operation, call.params, self._account))

    def service_side(self, key: str, pairs: list[tuple[str, str]]) -> None:
        """Check (action, resource) pairs Lambda itself performs with the function's role."""
        spec = self._functions[key]
        check(spec.name, spec.policy, pairs)


__all__ = ["Account", "IamDenied", "RoleCheck", "RolePolicy", "TOKEN_AUTHORISED", "check", "required"]
