"""`python -m sandbox plan`: what `pulumi preview` would create, offline, as a readable tree.

Runs the program under mocks (no Pulumi CLI, no AWS account) and prints each component's resources with the
settings that matter: runtime, memory, timeout and environment of functions; window, batch and filter of mappings;
FIFO, dead-letter queues and redrive; keys, stream and TTL of tables; policies as principal / actions / resources.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from components.stack_config import ConfigError
from sandbox.program import ACCOUNT_ID, DEFAULT_REGION, Resource, ResourceGraph, run_program


def parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """`["bufferSeconds=5", "aws:region=eu-west-1"]` -> config overrides; ValueError on a pair without '='."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects KEY=VALUE, got {pair!r}")
        overrides[key.strip()] = value.strip()
    return overrides


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a stack config key (e.g. bufferSeconds=5, aws:region=eu-west-1); repeatable",
    )
    parser.add_argument("--stack", default="dev", help="stack name the names derive from (default: dev)")


def run(args: argparse.Namespace) -> int:
    try:
        overrides = parse_overrides(args.overrides)
        graph = run_program(overrides, stack=args.stack)
    except (ConfigError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    region = overrides.get("aws:region", DEFAULT_REGION)
    print(render(graph, title=f"whatsapp-buffer / {args.stack} ({region}, account {ACCOUNT_ID}, mocked)"))
    return 0


def render(graph: ResourceGraph, title: str = "whatsapp-buffer") -> str:
    """The graph as an indented tree, components first, then the stack outputs."""
    lines = [f"{title}: {len(graph.resources)} resources"]
    roots = [resource for resource in graph.resources if _is_top_level(resource)]
    for root in sorted(roots, key=_order):
        _render_resource(graph, root, lines, depth=0)
    if graph.stack_outputs:
        lines.append("")
        lines.append("outputs:")
        width = max(len(key) for key in graph.stack_outputs)
        lines.extend(f"  {key.ljust(width)}  {value}" for key, value in graph.stack_outputs.items())
    return "\n".join(lines)


def _is_top_level(resource: Resource) -> bool:
    """A child of the stack itself, not of a component (whose URN also mentions the stack's type)."""
    return resource.parent is None or resource.parent.split("::")[2] == "pulumi:pulumi:Stack"


_TYPE_ORDER = (
    "whatsapp-buffer:index:Ingest",
    "whatsapp-buffer:index:Aggregator",
    "whatsapp-buffer:index:Inbound",
    "whatsapp-buffer:index:Outbound",
    "aws:sns/topic:Topic",
    "aws:kms/key:Key",
    "aws:dynamodb/table:Table",
    "aws:sqs/queue:Queue",
    "aws:lambda/function:Function",
)


def _order(resource: Resource) -> tuple[int, str]:
    rank = _TYPE_ORDER.index(resource.type) if resource.type in _TYPE_ORDER else len(_TYPE_ORDER)
    return rank, resource.name


def _render_resource(graph: ResourceGraph, resource: Resource, lines: list[str], depth: int) -> None:
    indent = "  " * depth
    kind = resource.type.split(":")[-1]
    physical = _physical_name(resource)
    lines.append(f"{indent}{kind} {resource.name}" + (f"  [{physical}]" if physical else ""))
    describe = _DESCRIBERS.get(resource.type)
    if describe is not None:
        lines.extend(f"{indent}    {detail}" for detail in describe(resource))
    for child in sorted(graph.children_of(resource.urn), key=_order):
        _render_resource(graph, child, lines, depth + 1)


def _physical_name(resource: Resource) -> str:
    value = resource.outputs.get("bucket" if resource.type == "aws:s3/bucket:Bucket" else "name")
    return value if isinstance(value, str) and value != resource.name else ""


def _short(value: Any) -> str:
    """An ARN or URL cut to the part a reader recognises (`arn:…:table/x/stream/…` -> `table/x/stream/…`)."""
    text = str(value)
    if text.startswith("https://sqs."):
        return "queue " + text.rsplit("/", 1)[-1]
    if text.startswith("arn:"):
        parts = text.split(":", 5)
        return f"{parts[2]}:{parts[5]}" if len(parts) == 6 else text
    return text


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _policy(document: Any) -> Iterable[str]:
    """Each statement as `Effect principal: actions on resources [conditions]`."""
    parsed = _json(document) or {}
    for statement in _listed(parsed.get("Statement") if isinstance(parsed, dict) else None):
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            principal = ",".join(str(p) for values in principal.values() for p in _listed(values))
        who = f" {_short(principal)}" if principal else ""
        actions = ", ".join(_listed(statement.get("Action")))
        resources = ", ".join(_short(r) for r in _listed(statement.get("Resource")))
        on = f" on {resources}" if resources else ""
        condition = statement.get("Condition")
        where = f"  if {json.dumps(condition, separators=(',', ':'))}" if condition else ""
        yield f"{statement.get('Effect', 'Allow')}{who}: {actions}{on}{where}"


def _function(r: Resource) -> Iterable[str]:
    i = r.inputs
    yield (
        f"{i.get('runtime')} {'/'.join(_listed(i.get('architectures')))}, {int(i.get('memorySize', 128))} MB, "
        f"timeout {int(i.get('timeout', 3))} s, handler {i.get('handler')}"
    )
    for layer in _listed(i.get("layers")):
        yield f"layer {_short(layer)}"
    variables = (i.get("environment") or {}).get("variables") or {}
    for key in sorted(variables):
        yield f"env {key}={variables[key]}"


def _mapping(r: Resource) -> Iterable[str]:
    i = r.inputs
    yield f"source {_short(i.get('eventSourceArn'))} -> {_short(i.get('functionName'))}"
    settings = [f"batch {int(i.get('batchSize', 0))}"]
    if i.get("tumblingWindowInSeconds") is not None:
        settings.append(f"tumbling window {int(i['tumblingWindowInSeconds'])} s")
    for key, label in (
        ("startingPosition", "start"),
        ("parallelizationFactor", "parallelization"),
        ("maximumRetryAttempts", "max retries"),
        ("maximumRecordAgeInSeconds", "max record age s"),
        ("bisectBatchOnFunctionError", "bisect on error"),
    ):
        if i.get(key) is not None:
            value = i[key]
            settings.append(f"{label} {int(value) if isinstance(value, float) else value}")
    yield ", ".join(settings)
    if i.get("functionResponseTypes"):
        yield "responses " + ", ".join(i["functionResponseTypes"])
    for entry in ((i.get("filterCriteria") or {}).get("filters")) or []:
        yield f"filter {entry.get('pattern')}"
    on_failure = ((i.get("destinationConfig") or {}).get("onFailure") or {}).get("destinationArn")
    if on_failure:
        yield f"on failure -> {_short(on_failure)}"


def _queue(r: Resource) -> Iterable[str]:
    i = r.inputs
    kind = "FIFO" if i.get("fifoQueue") else "standard"
    details = [kind]
    if i.get("fifoQueue"):
        details.append(f"content dedupe {'on' if i.get('contentBasedDeduplication') else 'off'}")
        details.append(f"dedupe scope {i.get('deduplicationScope')}, throughput {i.get('fifoThroughputLimit')}")
    details.append("SSE-SQS" if i.get("sqsManagedSseEnabled") else "UNENCRYPTED")
    details.append(f"visibility {int(i.get('visibilityTimeoutSeconds', 30))} s")
    details.append(f"retention {int(i.get('messageRetentionSeconds', 345600)) // 3600} h")
    yield ", ".join(details)
    redrive = _json(i.get("redrivePolicy"))
    if isinstance(redrive, dict):
        yield f"redrive -> {_short(redrive.get('deadLetterTargetArn'))} after {redrive.get('maxReceiveCount')} receives"


def _table(r: Resource) -> Iterable[str]:
    i = r.inputs
    keys = f"hash {i.get('hashKey')}" + (f", range {i.get('rangeKey')}" if i.get("rangeKey") else "")
    yield f"{keys}; {i.get('billingMode')}"
    for index in _listed(i.get("globalSecondaryIndexes")):
        schema = ", ".join(f"{k.get('keyType')} {k.get('attributeName')}" for k in _listed(index.get("keySchemas")))
        yield f"index {index.get('name')} ({schema}), projection {index.get('projectionType')}"
    stream = i.get("streamViewType") if i.get("streamEnabled") else "off"
    ttl = (i.get("ttl") or {}).get("attributeName") or "off"
    pitr = "on" if (i.get("pointInTimeRecovery") or {}).get("enabled") else "off"
    sse = "on" if (i.get("serverSideEncryption") or {}).get("enabled") else "off"
    yield f"stream {stream}, TTL {ttl}, PITR {pitr}, SSE {sse}"


def _topic(r: Resource) -> Iterable[str]:
    key = r.inputs.get("kmsMasterKeyId")
    yield f"SSE with {_short(key)}" if key else "UNENCRYPTED"


def _policy_of(field: str) -> Callable[[Resource], Iterable[str]]:
    return lambda r: _policy(r.inputs.get(field))


def _log_group(r: Resource) -> Iterable[str]:
    yield f"retention {int(r.inputs.get('retentionInDays', 0))} days"


def _subscription(r: Resource) -> Iterable[str]:
    i = r.inputs
    yield f"{_short(i.get('topic'))} -> {i.get('protocol')} {_short(i.get('endpoint'))}"
    redrive = _json(i.get("redrivePolicy"))
    if isinstance(redrive, dict):
        yield f"undeliverable -> {_short(redrive.get('deadLetterTargetArn'))}"
    if i.get("filterPolicy"):
        yield f"filter {i['filterPolicy']}"


def _permission(r: Resource) -> Iterable[str]:
    i = r.inputs
    yield f"{i.get('principal')} may {i.get('action')} {i.get('function')} from {_short(i.get('sourceArn'))}"


def _invoke_config(r: Resource) -> Iterable[str]:
    i = r.inputs
    on_failure = ((i.get("destinationConfig") or {}).get("onFailure") or {}).get("destination")
    yield f"async retries {int(i.get('maximumRetryAttempts', 2))}, on failure -> {_short(on_failure)}"


def _lifecycle(r: Resource) -> Iterable[str]:
    for rule in _listed(r.inputs.get("rules")):
        days = int((rule.get("expiration") or {}).get("days") or 0)
        yield f"rule {rule.get('id')} {rule.get('status')}: expire after {days} days"


def _public_access(r: Resource) -> Iterable[str]:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    yield ", ".join(f"{flag} {r.inputs.get(flag)}" for flag in flags)


_DESCRIBERS: dict[str, Callable[[Resource], Iterable[str]]] = {
    "aws:lambda/function:Function": _function,
    "aws:lambda/eventSourceMapping:EventSourceMapping": _mapping,
    "aws:sqs/queue:Queue": _queue,
    "aws:dynamodb/table:Table": _table,
    "aws:sns/topic:Topic": _topic,
    "aws:kms/key:Key": _policy_of("policy"),
    "aws:sns/topicPolicy:TopicPolicy": _policy_of("policy"),
    "aws:sqs/queuePolicy:QueuePolicy": _policy_of("policy"),
    "aws:s3/bucketPolicy:BucketPolicy": _policy_of("policy"),
    "aws:iam/rolePolicy:RolePolicy": _policy_of("policy"),
    "aws:iam/role:Role": _policy_of("assumeRolePolicy"),
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:sns/topicSubscription:TopicSubscription": _subscription,
    "aws:lambda/permission:Permission": _permission,
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": _invoke_config,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _lifecycle,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _public_access,
}
