"""The replay's IAM check: every AWS action a function performed must be allowed by its role as the program declares it.

`required(call)` turns one recorded API call into the IAM actions and resource ARNs AWS would authorise it against,
with the condition keys the request fills (a TransactWriteItems is authorised per contained item; a Query on an index
against the index ARN; Connect Participant calls are authorised by connection tokens, not IAM; a Connect, End User
Messaging or Transcribe call against the resource types the Service Authorization Reference lists for its action,
`iam_reference`). `RolePolicy.decide` evaluates identity policy statements (Allow/Deny, Action/NotAction,
Resource/NotResource with `*`/`?` wildcards, Condition blocks by `iam_conditions`: a statement whose condition cannot
be evaluated grants nothing and is reported). `RoleCheck` applies it to each function of the replay, for its own
calls and the ones Lambda makes with its role.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import urlparse

from sandbox.iam_conditions import Context, dynamodb_context, evaluate, list_bucket_context, transcribe_context
from sandbox.iam_reference import dependent_actions, resources

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
_START_TRANSCRIPTION = "transcribe:StartTranscriptionJob"
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


NO_CONTEXT: Context = MappingProxyType({})


class Request(NamedTuple):
    """One authorisation IAM makes for a call: an action on a resource, with the request's condition keys."""

    action: str
    resource: str
    context: Context = NO_CONTEXT


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


def required(
    service: str,
    operation: str,
    params: dict[str, Any],
    account: Account,
    partition_keys: Mapping[str, str] = MappingProxyType({}),
) -> list[Request]:
    """The authorisations IAM makes for one API call (`partition_keys`: table name -> its partition key attribute,
    for `dynamodb:LeadingKeys`)."""
    if service in TOKEN_AUTHORISED:
        return []
    if service == "dynamodb":
        return _dynamodb(operation, params, account, partition_keys)
    action = f"{service}:{_BATCH_ALIASES.get((service, operation), operation)}"
    if service == "sqs":
        return [Request(action, _queue_arn(account, params.get("QueueUrl", "")))]
    if service == "s3":
        bucket = params.get("Bucket", "")
        if "Key" in params:
            return [Request(action, f"arn:{account.partition}:s3:::{bucket}/{params['Key']}")]
        context = list_bucket_context(params) if action == "s3:ListBucket" else {}
        return [Request(action, f"arn:{account.partition}:s3:::{bucket}", MappingProxyType(context))]
    if service in ("connect", "social-messaging", "transcribe"):
        arns = resources(
            service, operation, params, partition=account.partition, region=account.region, account=account.account_id
        )
        requests = [Request(action, arn) for arn in arns]
        return _start_transcription(requests, params, account) if action == _START_TRANSCRIPTION else requests
    if service == "sns":
        return [Request(action, params.get("TopicArn") or params.get("TargetArn") or "*")]
    return [Request(action, "*")]


def _dynamodb(
    operation: str, params: dict[str, Any], account: Account, partition_keys: Mapping[str, str]
) -> list[Request]:
    def item(action: str, table: str, request: Mapping[str, Any]) -> Request:
        context = dynamodb_context(table, request, partition_keys, put=action == "PutItem")
        return Request(f"dynamodb:{action}", _table_arn(account, table), MappingProxyType(context))

    if operation == "TransactWriteItems":
        return [
            item(_TRANSACT_ACTIONS[op_type], op["TableName"], op)
            for entry in params.get("TransactItems", [])
            for op_type, op in [next(iter(entry.items()))]
        ]
    if operation == "TransactGetItems":
        return [item("GetItem", e["Get"]["TableName"], e["Get"]) for e in params.get("TransactItems", [])]
    if operation == "BatchWriteItem":
        return [
            item("PutItem", table, r["PutRequest"])
            if "PutRequest" in r
            else item("DeleteItem", table, r["DeleteRequest"])
            for table, requests in params.get("RequestItems", {}).items()
            for r in requests
        ]
    if operation == "BatchGetItem":
        return [Request("dynamodb:BatchGetItem", _table_arn(account, t)) for t in params.get("RequestItems", {})]
    if operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem") and "TableName" in params:
        return [item(operation, params["TableName"], params)]
    if "TableName" in params:
        return [Request(f"dynamodb:{operation}", _table_arn(account, params["TableName"], params.get("IndexName")))]
    if "StreamArn" in params:
        return [Request(f"dynamodb:{operation}", params["StreamArn"])]
    return [Request(f"dynamodb:{operation}", "*")]


def _start_transcription(requests: list[Request], params: dict[str, Any], account: Account) -> list[Request]:
    """StartTranscriptionJob with its condition keys (`transcribe:OutputBucketName`, `transcribe:OutputKey`) and the
    dependent action the reference lists, s3:GetObject on the media; the transcript is written with the caller's S3
    permissions too (s3:PutObject on the output key)."""
    context = MappingProxyType(transcribe_context(params))
    requests = [Request(r.action, r.resource, context) for r in requests]
    media = str((params.get("Media") or {}).get("MediaFileUri") or "")
    if media.startswith("s3://") and "s3:GetObject" in dependent_actions("transcribe", "StartTranscriptionJob"):
        requests.append(Request("s3:GetObject", f"arn:{account.partition}:s3:::{media[len('s3://') :]}"))
    if params.get("OutputBucketName"):
        key = params.get("OutputKey") or f"{params.get('TranscriptionJobName')}.json"
        requests.append(Request("s3:PutObject", f"arn:{account.partition}:s3:::{params['OutputBucketName']}/{key}"))
    return requests


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

    def decide(self, action: str, resource: str, context: Context = NO_CONTEXT) -> Decision:
        """Explicit Deny wins, else any Allow; a statement whose Condition cannot be evaluated is noted, and grants
        nothing (a Deny so noted denies: the stricter reading)."""
        allowed, unevaluated = False, []
        for statement in self.statements:
            if not self._statement_applies(statement, action, resource):
                continue
            effect = statement.get("Effect")
            if statement.get("Condition"):
                verdict = evaluate(statement["Condition"], context)
                if verdict.unknown:
                    unevaluated.append(f"{statement.get('Sid') or 'a statement'} ({'; '.join(verdict.unknown)})")
                    if effect == "Deny":
                        return Decision(False, tuple(unevaluated))
                    continue
                if not verdict.holds:
                    continue
            if effect == "Deny":
                return Decision(False, tuple(unevaluated))
            allowed = allowed or effect == "Allow"
        return Decision(allowed, tuple(unevaluated))

    def allows(self, action: str, resource: str, context: Context = NO_CONTEXT) -> bool:
        return self.decide(action, resource, context).allowed


@dataclass(frozen=True)
class Decision:
    allowed: bool
    unevaluated: tuple[str, ...] = ()
    """Statements that matched the action and resource but whose Condition the sandbox could not evaluate."""


class IamDenied(Exception):
    """A function performed an action its role does not allow."""

    def __init__(self, function: str, role: str, action: str, resource: str, unevaluated: tuple[str, ...] = ()) -> None:
        message = f"IAM: role {role} of function {function} does not allow {action} on {resource}"
        if unevaluated:
            message += f" (conditions the sandbox cannot evaluate: {', '.join(unevaluated)})"
        super().__init__(message)
        self.function, self.role, self.action, self.resource = function, role, action, resource
        self.unevaluated = unevaluated


def check(function: str, policy: RolePolicy, requests: Iterable[Request | tuple[str, str]]) -> None:
    """Raise IamDenied for the first request the role does not allow."""
    for action, resource, *context in requests:
        decision = policy.decide(action, resource, *context)
        if not decision.allowed:
            raise IamDenied(function, policy.role, action, resource, decision.unevaluated)


class RoleCheck:
    """The replay's check of every function against its role: the calls its handler made (recorded in its worker) and
    the calls Lambda makes with its role on its behalf (reading a stream, polling a queue, writing a dead letter)."""

    def __init__(
        self, functions: Mapping[str, Any], account: Account, partition_keys: Mapping[str, str] = MappingProxyType({})
    ) -> None:
        self._functions = functions
        """function key -> its spec (`name`, `policy`)."""
        self._account = account
        self._partition_keys = partition_keys
        """table name -> its partition key attribute (`dynamodb:LeadingKeys`)."""

    def calls(self, key: str, calls: Iterable[Any]) -> None:
        """Check recorded API calls (anything with `service`, `operation`, `params`)."""
        spec = self._functions[key]
        for call in calls:
            requests = required(call.service, call.operation, call.params, self._account, self._partition_keys)
            check(spec.name, spec.policy, requests)

    def service_side(self, key: str, pairs: list[tuple[str, str]]) -> None:
        """Check (action, resource) pairs Lambda itself performs with the function's role."""
        spec = self._functions[key]
        check(spec.name, spec.policy, pairs)


__all__ = [
    "Account",
    "Decision",
    "IamDenied",
    "Request",
    "RoleCheck",
    "RolePolicy",
    "TOKEN_AUTHORISED",
    "check",
    "required",
]
