"""The pipeline's wiring, read from the resources the Pulumi program declares (run under mocks).

Nothing here is a second copy of the infrastructure: which handler each function runs, its environment, its role's
policy, the SNS subscriptions, the stream mapping's window/batch/filter/retry settings and the SQS mapping all come
from `sandbox.program.run_program(...)`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sandbox.iam_check import Account, RolePolicy
from sandbox.program import ResourceGraph

FUNCTION = "aws:lambda/function:Function"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
QUEUE = "aws:sqs/queue:Queue"
TABLE = "aws:dynamodb/table:Table"
TOPIC = "aws:sns/topic:Topic"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
SCHEDULE = "aws:scheduler/schedule:Schedule"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
PERMISSION = "aws:lambda/permission:Permission"
CONNECT_ASSOCIATION = "aws:connect/lambdaFunctionAssociation:LambdaFunctionAssociation"


@dataclass
class FunctionSpec:
    key: str
    """Which handler: ingest, aggregator, inbound or outbound (the handler module's name)."""
    name: str
    arn: str
    handler: str
    env: dict[str, str]
    role_arn: str
    policy: RolePolicy
    timeout_s: float
    memory_mb: int
    async_retries: int = 2
    async_failure_arn: str | None = None
    """Where an async invoke that exhausted its retries goes (DLQ or on-failure destination)."""
    async_failure_is_destination: bool = False
    """True for an on-failure destination (Lambda sends an invocation record), False for a dead-letter queue (the event)."""


@dataclass
class QueueSpec:
    name: str
    arn: str
    url: str
    fifo: bool
    visibility_timeout_s: float
    content_based_dedup: bool = False
    dead_letter_arn: str | None = None
    max_receive_count: int | None = None


@dataclass
class TableSpec:
    name: str
    arn: str
    hash_key: str
    range_key: str | None
    attributes: list[dict[str, str]]
    stream_view: str | None
    stream_arn: str | None
    ttl_attribute: str | None
    indexes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StreamMapping:
    function: str
    table: str
    window_s: float
    batch_size: int
    filters: list[str]
    max_retries: int
    bisect: bool
    report_item_failures: bool
    on_failure_arn: str | None


@dataclass
class QueueMapping:
    function: str
    queue: str
    batch_size: int
    report_item_failures: bool


@dataclass
class Subscription:
    topic_arn: str
    function: str
    filter_policy: str | None
    redrive_dlq_arn: str | None


@dataclass
class ScheduleSpec:
    """An EventBridge Scheduler schedule whose target is one of the functions."""

    name: str
    expression: str
    function: str
    input: str | None
    role_arn: str


@dataclass
class EventRuleSpec:
    """An EventBridge rule on the default bus and the function it targets."""

    name: str
    arn: str
    pattern: dict[str, Any]
    function: str
    may_invoke: bool
    """The function's resource policy lets events.amazonaws.com invoke it from this rule (else Lambda refuses)."""


@dataclass
class Wiring:
    account: Account
    functions: dict[str, FunctionSpec]
    queues: dict[str, QueueSpec]
    tables: dict[str, TableSpec]
    buckets: list[str]
    topics: dict[str, str]
    """logical name -> topic ARN"""
    stream_mappings: list[StreamMapping]
    queue_mappings: list[QueueMapping]
    subscriptions: list[Subscription]
    stack_outputs: dict[str, Any]
    schedules: list[ScheduleSpec] = field(default_factory=list)
    event_rules: list[EventRuleSpec] = field(default_factory=list)
    connect_invocable: dict[str, str] = field(default_factory=dict)
    """Function key -> the Connect instance id whose flows may invoke it (associated, and admitted by a Permission)."""

    def queue_by_arn(self, arn: str) -> QueueSpec:
        return next(q for q in self.queues.values() if q.arn == arn)

    def queue_by_url(self, url: str) -> QueueSpec | None:
        return next((q for q in self.queues.values() if q.url == url), None)


def _json(value: Any) -> Any:
    if isinstance(value, str) and value.strip().startswith(("{", "[")):
        return json.loads(value)
    return value


def _out(resource: Any, *keys: str, default: Any = None) -> Any:
    for key in keys:
        value = resource.outputs.get(key, resource.inputs.get(key))
        if value not in (None, ""):
            return value
    return default


def _policies(graph: ResourceGraph) -> dict[str, RolePolicy]:
    """Role ARN -> every statement attached to it (inline role policies, inline_policies, managed attachments)."""
    by_ref: dict[str, RolePolicy] = {}
    role_refs: dict[str, str] = {}
    for role in graph.by_type(ROLE):
        arn = _out(role, "arn")
        policy = RolePolicy(_out(role, "name", default=role.name))
        by_ref[arn] = policy
        for ref in (arn, _out(role, "name"), _out(role, "id"), role.name):
            if ref:
                role_refs[ref] = arn
        for inline in role.inputs.get("inlinePolicies") or []:
            if inline.get("policy"):
                policy.add_document(inline["policy"])
    for attached in graph.by_type(ROLE_POLICY):
        role_arn = role_refs.get(attached.inputs.get("role", ""))
        if role_arn:
            by_ref[role_arn].add_document(attached.inputs["policy"])
    managed = {_out(p, "arn"): p.inputs.get("policy") for p in graph.by_type(POLICY)}
    for attachment in graph.by_type(ROLE_POLICY_ATTACHMENT):
        role_arn = role_refs.get(attachment.inputs.get("role", ""))
        document = managed.get(attachment.inputs.get("policyArn"))
        if role_arn and document:
            by_ref[role_arn].add_document(document)
    return by_ref


def from_graph(graph: ResourceGraph, *, region: str, account_id: str) -> Wiring:
    account = Account(region, account_id)
    policies = _policies(graph)

    functions: dict[str, FunctionSpec] = {}
    for fn in graph.by_type(FUNCTION):
        handler = fn.inputs["handler"]
        key = handler.rsplit(".", 2)[-2]
        role_arn = fn.inputs["role"]
        dead_letter = (fn.inputs.get("deadLetterConfig") or {}).get("targetArn")
        functions[key] = FunctionSpec(
            key=key,
            name=_out(fn, "name"),
            arn=_out(fn, "arn"),
            handler=handler,
            env=dict((fn.inputs.get("environment") or {}).get("variables") or {}),
            role_arn=role_arn,
            policy=policies.get(role_arn, RolePolicy(role_arn)),
            timeout_s=float(fn.inputs.get("timeout") or 3),
            memory_mb=int(fn.inputs.get("memorySize") or 128),
            async_failure_arn=dead_letter,
        )
    for config in graph.by_type(INVOKE_CONFIG):
        spec = next((f for f in functions.values() if config.inputs.get("functionName") in (f.name, f.arn)), None)
        if spec is None:
            continue
        if config.inputs.get("maximumRetryAttempts") is not None:
            spec.async_retries = int(config.inputs["maximumRetryAttempts"])
        on_failure = ((config.inputs.get("destinationConfig") or {}).get("onFailure") or {}).get("destination")
        if on_failure:
            spec.async_failure_arn, spec.async_failure_is_destination = on_failure, True

    queues: dict[str, QueueSpec] = {}
    for q in graph.by_type(QUEUE):
        redrive = _json(q.inputs.get("redrivePolicy")) or {}
        name = _out(q, "name")
        queues[name] = QueueSpec(
            name=name,
            arn=_out(q, "arn"),
            url=_out(q, "url", "id"),
            fifo=bool(q.inputs.get("fifoQueue")),
            visibility_timeout_s=float(q.inputs.get("visibilityTimeoutSeconds") or 30),
            content_based_dedup=bool(q.inputs.get("contentBasedDeduplication")),
            dead_letter_arn=redrive.get("deadLetterTargetArn"),
            max_receive_count=int(redrive["maxReceiveCount"]) if "maxReceiveCount" in redrive else None,
        )

    tables: dict[str, TableSpec] = {}
    for t in graph.by_type(TABLE):
        name = _out(t, "name")
        ttl = t.inputs.get("ttl") or {}
        tables[name] = TableSpec(
            name=name,
            arn=_out(t, "arn"),
            hash_key=t.inputs["hashKey"],
            range_key=t.inputs.get("rangeKey"),
            attributes=list(t.inputs.get("attributes") or []),
            stream_view=t.inputs.get("streamViewType") if t.inputs.get("streamEnabled") else None,
            stream_arn=_out(t, "streamArn"),
            ttl_attribute=ttl.get("attributeName") if ttl.get("enabled", True) else None,
            indexes=list(t.inputs.get("globalSecondaryIndexes") or []),
        )

    def table_for_stream(arn: str) -> str:
        return next(t.name for t in tables.values() if t.stream_arn == arn or arn.startswith(t.arn + "/stream/"))

    stream_mappings, queue_mappings = [], []
    for m in graph.by_type(MAPPING):
        source = m.inputs["eventSourceArn"]
        function = functions[_function_key(functions, m.inputs["functionName"])]
        reports = "ReportBatchItemFailures" in (m.inputs.get("functionResponseTypes") or [])
        if ":dynamodb:" in source:
            filters = [f["pattern"] for f in ((m.inputs.get("filterCriteria") or {}).get("filters") or [])]
            on_failure = ((m.inputs.get("destinationConfig") or {}).get("onFailure") or {}).get("destinationArn")
            stream_mappings.append(
                StreamMapping(
                    function=function.key,
                    table=table_for_stream(source),
                    window_s=float(m.inputs.get("tumblingWindowInSeconds") or 0),
                    batch_size=int(m.inputs.get("batchSize") or 100),
                    filters=filters,
                    max_retries=int(
                        m.inputs.get("maximumRetryAttempts", -1)
                        if m.inputs.get("maximumRetryAttempts") is not None
                        else -1
                    ),
                    bisect=bool(m.inputs.get("bisectBatchOnFunctionError")),
                    report_item_failures=reports,
                    on_failure_arn=on_failure,
                )
            )
        else:
            queue_mappings.append(
                QueueMapping(
                    function=function.key,
                    queue=next(q.name for q in queues.values() if q.arn == source),
                    batch_size=int(m.inputs.get("batchSize") or 10),
                    report_item_failures=reports,
                )
            )

    subscriptions = []
    for s in graph.by_type(SUBSCRIPTION):
        if s.inputs.get("protocol") != "lambda":
            continue
        redrive = _json(s.inputs.get("redrivePolicy")) or {}
        subscriptions.append(
            Subscription(
                topic_arn=s.inputs["topic"],
                function=_function_key(functions, s.inputs["endpoint"]),
                filter_policy=s.inputs.get("filterPolicy"),
                redrive_dlq_arn=redrive.get("deadLetterTargetArn"),
            )
        )

    schedules = [
        ScheduleSpec(
            name=_out(s, "name", default=s.name),
            expression=s.inputs["scheduleExpression"],
            function=_function_key(functions, s.inputs["target"]["arn"]),
            input=s.inputs["target"].get("input"),
            role_arn=s.inputs["target"]["roleArn"],
        )
        for s in graph.by_type(SCHEDULE)
        if ":lambda:" in s.inputs["target"]["arn"]
    ]
    event_rules = _event_rules(graph, functions)
    buckets = [_out(b, "bucket", "id") for type_ in BUCKETS for b in graph.by_type(type_)]
    topics = {t.name: _out(t, "arn") for t in graph.by_type(TOPIC)}
    return Wiring(
        account=account,
        functions=functions,
        queues=queues,
        tables=tables,
        buckets=buckets,
        topics=topics,
        stream_mappings=stream_mappings,
        queue_mappings=queue_mappings,
        subscriptions=subscriptions,
        stack_outputs=dict(graph.stack_outputs),
        schedules=schedules,
        event_rules=event_rules,
        connect_invocable=connect_invocable(graph, functions, account),
    )


def _event_rules(graph: ResourceGraph, functions: dict[str, FunctionSpec]) -> list[EventRuleSpec]:
    """Each EventBridge rule with a Lambda target, and whether the function's resource policy admits the rule
    (a Permission for events.amazonaws.com whose SourceArn is the rule, or no SourceArn)."""
    rules = {_out(r, "name"): r for r in graph.by_type(EVENT_RULE)}
    permissions = [p for p in graph.by_type(PERMISSION) if p.inputs.get("principal") == "events.amazonaws.com"]
    specs = []
    for target in graph.by_type(EVENT_TARGET):
        rule = rules.get(target.inputs.get("rule"))
        if rule is None or not rule.inputs.get("eventPattern"):
            continue
        try:
            key = _function_key(functions, target.inputs["arn"])
        except KeyError:
            continue
        arn = _out(rule, "arn")
        admitted = any(
            p.inputs.get("action") == "lambda:InvokeFunction"
            and _function_key(functions, p.inputs.get("function", "")) == key
            and p.inputs.get("sourceArn") in (None, arn)
            for p in permissions
        )
        specs.append(EventRuleSpec(_out(rule, "name"), arn, json.loads(rule.inputs["eventPattern"]), key, admitted))
    return specs


def connect_invocable(graph: ResourceGraph, functions: dict[str, FunctionSpec], account: Account) -> dict[str, str]:
    """The functions an instance's flows can invoke, as Connect needs it (admin guide, "Grant Amazon Connect access
    to your AWS Lambda functions"): associated with the instance (AssociateLambdaFunction) and admitted by the
    function's resource policy (a Permission for connect.amazonaws.com whose SourceArn, if any, is the instance)."""
    invocable = {}
    for association in graph.by_type(CONNECT_ASSOCIATION):
        instance = str(association.inputs.get("instanceId") or "")
        try:
            key = _function_key(functions, str(association.inputs.get("functionArn") or ""))
        except KeyError:
            continue
        instance_arn = account.arn("connect", f"instance/{instance}")
        if any(
            p.inputs.get("principal") == "connect.amazonaws.com"
            and p.inputs.get("action") == "lambda:InvokeFunction"
            and _function_key(functions, p.inputs.get("function", "")) == key
            and p.inputs.get("sourceArn") in (None, instance_arn)
            for p in graph.by_type(PERMISSION)
        ):
            invocable[key] = instance
    return invocable


def _function_key(functions: dict[str, FunctionSpec], ref: str) -> str:
    """The function a name, ARN (qualified or not) or key refers to."""
    for spec in functions.values():
        if ref in (spec.arn, spec.name, spec.key) or ref.startswith(spec.arn + ":"):
            return spec.key
    raise KeyError(f"no function {ref!r} in the program")
