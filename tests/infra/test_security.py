"""Security properties of the whole declared stack, checked generically over the resource graph.

Each property is a check that lists violations, so a resource added later is covered without a new test. Each
check runs on the sample stack and on a stack with every optional resource (alarm topic, scoped numbers), and each is
shown to catch a deliberately broken copy of the graph: a check that could never fail would prove nothing.
Specific policies (who publishes where, what each role may do) are pinned in test_stack_policies.py.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from iam_lint import wildcard_only
from infra_helpers import as_list, policy, statements

from components.stack_config import LOG_RETENTION_DAYS
from sandbox.program import ACCOUNT_ID, Resource, ResourceGraph, deployed_graph

TABLE = "aws:dynamodb/table:Table"
QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
KEY = "aws:kms/key:Key"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET_PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
POLICY_ATTACHMENTS = ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment")
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
FUNCTION = "aws:lambda/function:Function"

INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/00000000-0000-0000-0000-000000000000"
SOURCE_ACCOUNT_ONLY = {"social-messaging.amazonaws.com"}
"""Services whose topic grants can only be scoped by account: End User Messaging documents aws:SourceAccount, and
its events carry no source ARN a condition could name. Every other publishing service must also match a source ARN."""
EXPECTED_SOURCE_ARNS = {INSTANCE}
"""What an aws:SourceArn condition may name besides this stack's own resources (its alarms among them, each by its
ARN): the configured Connect instance."""

SERVICE_KEY_ACTIONS = {"kms:GenerateDataKey*", "kms:Decrypt"}
"""All a publishing service needs of a topic's key (the SNS docs' grant for AWS services and encrypted topics)."""

Check = Callable[[ResourceGraph], list[str]]


@pytest.fixture(
    scope="module",
    params=[{}, {"alarmEmail": "ops@example.com", "whatsappPhoneNumberIds": "phone-number-id-0a1b"}],
    ids=["sample-stack", "every-optional-resource"],
)
def stack(request) -> ResourceGraph:
    return deployed_graph(request.param, stack="dev")


def _arn(resource: Resource) -> str:
    return resource.outputs["arn"]


def _own_arns(graph: ResourceGraph) -> set[str]:
    return {r.outputs["arn"] for r in graph.resources if isinstance(r.outputs.get("arn"), str)}


def _conditions(statement: dict[str, Any], key: str) -> list[str]:
    """Every value any operator of the statement's Condition compares `key` against."""
    found: list[str] = []
    for by_key in (statement.get("Condition") or {}).values():
        if key in by_key:
            found.extend(as_list(by_key[key]))
    return found


# --- the checks -----------------------------------------------------------------------------------------------------


def unencrypted_at_rest(graph: ResourceGraph) -> list[str]:
    problems = []
    for table in graph.by_type(TABLE):
        if not (table.inputs.get("serverSideEncryption") or {}).get("enabled"):
            problems.append(f"table {table.name} has no server-side encryption")
    for queue in graph.by_type(QUEUE):
        if not (queue.inputs.get("sqsManagedSseEnabled") or queue.inputs.get("kmsMasterKeyId")):
            problems.append(f"queue {queue.name} is not encrypted")
    rotating_keys = {_arn(k) for k in graph.by_type(KEY) if k.inputs.get("enableKeyRotation")}
    for topic in graph.by_type(TOPIC):
        if topic.inputs.get("kmsMasterKeyId") not in rotating_keys:
            problems.append(f"topic {topic.name} is not encrypted with a rotating key of this stack")
    encrypted_buckets = {
        config.inputs["bucket"]
        for config in graph.by_type(BUCKET_ENCRYPTION)
        if any(
            (rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm") in ("AES256", "aws:kms")
            for rule in config.inputs.get("rules") or []
        )
    }
    for bucket in graph.by_type(BUCKET):
        if bucket.outputs["bucket"] not in encrypted_buckets:
            problems.append(f"bucket {bucket.name} has no default encryption")
    return problems


def buckets_accepting_plain_http(graph: ResourceGraph) -> list[str]:
    problems = []
    for bucket in graph.by_type(BUCKET):
        name, arn = bucket.outputs["bucket"], _arn(bucket)
        denies = [
            s
            for p in graph.by_type(BUCKET_POLICY)
            if p.inputs["bucket"] == name
            for s in statements(policy(p))
            if s["Effect"] == "Deny"
            and s.get("Principal") in ("*", {"AWS": "*"})
            and "s3:*" in as_list(s["Action"])
            and {arn, f"{arn}/*"} <= set(as_list(s["Resource"]))
            and (s.get("Condition") or {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        ]
        if not denies:
            problems.append(f"bucket {bucket.name} does not deny requests without TLS on itself and its objects")
    return problems


def buckets_open_to_the_public(graph: ResourceGraph) -> list[str]:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    blocked = {
        b.inputs["bucket"] for b in graph.by_type(BUCKET_PUBLIC_ACCESS) if all(b.inputs.get(f) is True for f in flags)
    }
    problems = [
        f"bucket {b.name} does not block public access"
        for b in graph.by_type(BUCKET)
        if b.outputs["bucket"] not in blocked
    ]
    problems += [
        f"bucket {b.name} has ACL {b.inputs['acl']}"
        for b in graph.by_type(BUCKET)
        if b.inputs.get("acl") not in (None, "private")
    ]
    return problems


def loose_resource_policies(graph: ResourceGraph) -> list[str]:
    """Topic and queue policies admit exactly one AWS service, for this resource only, from this account's sources."""
    problems = []
    own = _own_arns(graph)
    topics = {_arn(t): t for t in graph.by_type(TOPIC)}
    guarded = {p.inputs["arn"] for p in graph.by_type(TOPIC_POLICY)}
    problems += [
        f"topic {t.name} keeps the default (account-wide) policy" for arn, t in topics.items() if arn not in guarded
    ]
    queues_by_url = {q.outputs["url"]: q for q in graph.by_type(QUEUE)}
    documents = [(p, p.inputs["arn"], "sns:Publish") for p in graph.by_type(TOPIC_POLICY)]
    documents += [
        (p, _arn(queues_by_url[p.inputs["queueUrl"]]), "sqs:SendMessage") for p in graph.by_type(QUEUE_POLICY)
    ]
    for resource_policy, resource_arn, only_action in documents:
        for s in statements(policy(resource_policy)):
            where = f"{resource_policy.name} {s.get('Sid', '')}".strip()
            principal = s.get("Principal")
            service = (
                principal.get("Service") if isinstance(principal, dict) and set(principal) == {"Service"} else None
            )
            if s["Effect"] != "Allow":
                continue
            if not isinstance(service, str) or not service.endswith(".amazonaws.com"):
                problems.append(f"{where} admits {principal!r}, not one AWS service principal")
                continue
            if as_list(s["Action"]) != [only_action]:
                problems.append(f"{where} allows {s['Action']!r}, not only {only_action}")
            if as_list(s["Resource"]) != [resource_arn]:
                problems.append(f"{where} applies to {s['Resource']!r}, not only its own resource")
            accounts = _conditions(s, "aws:SourceAccount")
            sources = _conditions(s, "aws:SourceArn")
            if not accounts and not sources:
                problems.append(f"{where} has no source condition (confused deputy)")
            if any(a != ACCOUNT_ID for a in accounts):
                problems.append(f"{where} admits source account {accounts}")
            if any(arn not in own | EXPECTED_SOURCE_ARNS for arn in sources):
                problems.append(f"{where} admits sources {sources} outside this stack")
            if service not in SOURCE_ACCOUNT_ONLY and not sources:
                problems.append(f"{where} admits every {service} resource of the account, not one source ARN")
    return problems


def loose_key_policies(graph: ResourceGraph) -> list[str]:
    """Keys admit the account's administrators (kms:*, the AWS default) and services only from this account."""
    problems = []
    root = {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    for key in graph.by_type(KEY):
        for s in statements(policy(key)):
            principal = s.get("Principal")
            if principal == root:
                continue
            service = (
                principal.get("Service") if isinstance(principal, dict) and set(principal) == {"Service"} else None
            )
            if not service:
                problems.append(f"key {key.name} admits {principal!r}")
            elif not set(as_list(s["Action"])) <= SERVICE_KEY_ACTIONS:
                problems.append(f"key {key.name} gives {service} {s['Action']!r}")
            elif _conditions(s, "aws:SourceAccount") != [ACCOUNT_ID]:
                problems.append(f"key {key.name} admits {service} from any account")
    return problems


def wildcard_identity_permissions(graph: ResourceGraph) -> list[str]:
    """Every permission a role holds is inline in this program, names its actions, and names its resources.

    `*` is the only resource an action without resource-level permissions takes (dynamodb:ListStreams): not a wildcard.
    """
    problems = [f"{a.name} attaches a managed policy" for t in POLICY_ATTACHMENTS for a in graph.by_type(t)]
    for document in [*graph.by_type(ROLE_POLICY), *graph.by_type(MANAGED_POLICY)]:
        for s in statements(policy(document)):
            if "NotAction" in s or "NotResource" in s:
                problems.append(f"{document.name} uses NotAction/NotResource")
            for action in as_list(s.get("Action", [])):
                service, _, name = action.partition(":")
                if not service or not name or "*" in action:
                    problems.append(f"{document.name} allows {action}")
            scoped = [a for a in as_list(s.get("Action", [])) if not wildcard_only(a)]
            if "*" in as_list(s.get("Resource", [])) and scoped:
                problems.append(f"{document.name} allows {scoped} on every resource")
    return problems


def log_groups_without_retention(graph: ResourceGraph) -> list[str]:
    """Every function logs to a group this program created with a retention (else Lambda creates one kept forever)."""
    groups = {g.inputs["name"]: g for g in graph.by_type(LOG_GROUP)}
    problems = [
        f"log group {g.name} keeps logs forever"
        for g in groups.values()
        if g.inputs.get("retentionInDays") not in LOG_RETENTION_DAYS
    ]
    for function in graph.by_type(FUNCTION):
        configured = (function.inputs.get("loggingConfig") or {}).get("logGroup")
        name = configured or f"/aws/lambda/{function.outputs['name']}"
        if name not in groups:
            problems.append(f"function {function.name} logs to {name}, which this program does not create")
    return problems


CHECKS: dict[str, Check] = {
    "encryption at rest": unencrypted_at_rest,
    "TLS-only buckets": buckets_accepting_plain_http,
    "public access blocked": buckets_open_to_the_public,
    "service-scoped resource policies": loose_resource_policies,
    "key policies": loose_key_policies,
    "no wildcard permissions": wildcard_identity_permissions,
    "log retention": log_groups_without_retention,
}


@pytest.mark.parametrize("check", CHECKS.values(), ids=CHECKS.keys())
def test_the_declared_stack_has_the_property(stack, check):
    assert check(stack) == []


def test_the_checks_see_every_kind_of_resource_they_guard(stack):
    # GIVEN the declared stack THEN the checks above are not vacuous: each kind they guard exists
    for kind in (TABLE, QUEUE, TOPIC, KEY, BUCKET, TOPIC_POLICY, QUEUE_POLICY, ROLE_POLICY, LOG_GROUP, FUNCTION):
        assert stack.by_type(kind), kind


def test_log_retention_follows_the_config_for_every_group():
    graph = deployed_graph({"logRetentionDays": "90"}, stack="dev")

    assert {g.inputs["retentionInDays"] for g in graph.by_type(LOG_GROUP)} == {90}


def test_the_alarm_topic_admits_only_this_stacks_alarms_each_by_its_arn():
    graph = deployed_graph({"alarmEmail": "ops@example.com"}, stack="dev")
    topic_arn = _arn(graph.get("whatsapp-buffer-alarm-notifications-topic"))
    alarms = [_arn(a) for a in graph.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")]

    (statement,) = statements(policy(graph.get("whatsapp-buffer-alarm-notifications-topic-policy")))

    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Resource"] == topic_arn
    admitted = statement["Condition"].pop("ArnEquals")["aws:SourceArn"]
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    assert sorted(admitted) == sorted(alarms) and len(set(admitted)) == len(alarms) == 20
    assert all(a.startswith(f"arn:aws:cloudwatch:us-east-1:{ACCOUNT_ID}:alarm:whatsapp-buffer-dev-") for a in admitted)


# --- each check catches a broken stack ----------------------------------------------------------------------------


def _broken(graph: ResourceGraph, logical_name: str, change: Callable[[dict[str, Any]], None]) -> ResourceGraph:
    """A copy of the graph where `change` edited one resource's inputs (policies as parsed JSON under "policy")."""
    resources = []
    for resource in graph.resources:
        if resource.name == logical_name:
            inputs = copy.deepcopy(resource.inputs)
            if isinstance(inputs.get("policy"), str):
                inputs["policy"] = json.loads(inputs["policy"])
                change(inputs)
                inputs["policy"] = json.dumps(inputs["policy"])
            else:
                change(inputs)
            resource = dataclasses.replace(resource, inputs=inputs)
        resources.append(resource)
    return ResourceGraph(resources=resources, stack_outputs=graph.stack_outputs)


def _without(graph: ResourceGraph, logical_name: str) -> ResourceGraph:
    return ResourceGraph([r for r in graph.resources if r.name != logical_name], graph.stack_outputs)


def _first_statement(inputs: dict[str, Any]) -> dict[str, Any]:
    return statements(inputs["policy"])[0]


def _set(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda inputs: inputs.update(values)


def _statement(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda inputs: _first_statement(inputs).update(values)


def _drop_condition(operator: str) -> Callable[[dict[str, Any]], None]:
    return lambda inputs: _first_statement(inputs)["Condition"].pop(operator)


BREAKAGES: dict[str, tuple[Check, Callable[[ResourceGraph], ResourceGraph]]] = {
    "table without SSE": (
        unencrypted_at_rest,
        lambda g: _broken(
            g, "whatsapp-buffer-connect-bridge-sessions-table", _set(serverSideEncryption={"enabled": False})
        ),
    ),
    "queue without SSE": (
        unencrypted_at_rest,
        lambda g: _broken(g, "whatsapp-buffer-stream-aggregator-failures", _set(sqsManagedSseEnabled=False)),
    ),
    "topic without a key": (
        unencrypted_at_rest,
        lambda g: _broken(g, "whatsapp-buffer-buffered-ingest-in-topic", _set(kmsMasterKeyId=None)),
    ),
    "topic on the AWS managed key": (
        unencrypted_at_rest,
        lambda g: _broken(g, "whatsapp-buffer-connect-bridge-out-topic", _set(kmsMasterKeyId="alias/aws/sns")),
    ),
    "bucket without default encryption": (
        unencrypted_at_rest,
        lambda g: _without(g, "whatsapp-buffer-connect-bridge-media-encryption"),
    ),
    "bucket policy missing": (
        buckets_accepting_plain_http,
        lambda g: _without(g, "whatsapp-buffer-connect-bridge-media-policy"),
    ),
    "TLS deny only on the bucket, not its objects": (
        buckets_accepting_plain_http,
        lambda g: _broken(
            g, "whatsapp-buffer-connect-bridge-media-policy", lambda i: _first_statement(i)["Resource"].pop()
        ),
    ),
    "public policies allowed": (
        buckets_open_to_the_public,
        lambda g: _broken(g, "whatsapp-buffer-connect-bridge-media-public-access-block", _set(blockPublicPolicy=False)),
    ),
    "public-read ACL": (
        buckets_open_to_the_public,
        lambda g: _broken(g, "whatsapp-buffer-connect-bridge-media", _set(acl="public-read")),
    ),
    "topic without a policy": (
        loose_resource_policies,
        lambda g: _without(g, "whatsapp-buffer-buffered-ingest-in-topic-policy"),
    ),
    "topic open to everyone": (
        loose_resource_policies,
        lambda g: _broken(g, "whatsapp-buffer-buffered-ingest-in-topic-policy", _statement(Principal="*")),
    ),
    "topic allowing subscribe": (
        loose_resource_policies,
        lambda g: _broken(
            g, "whatsapp-buffer-connect-bridge-out-topic-policy", _statement(Action=["sns:Publish", "sns:Subscribe"])
        ),
    ),
    "Connect publishing from any instance": (
        loose_resource_policies,
        lambda g: _broken(g, "whatsapp-buffer-connect-bridge-out-topic-policy", _drop_condition("ArnEquals")),
    ),
    "End User Messaging of any account": (
        loose_resource_policies,
        lambda g: _broken(g, "whatsapp-buffer-buffered-ingest-in-topic-policy", _drop_condition("StringEquals")),
    ),
    "another account as source": (
        loose_resource_policies,
        lambda g: _broken(
            g,
            "whatsapp-buffer-connect-bridge-out-topic-policy",
            lambda i: _first_statement(i)["Condition"]["StringEquals"].update({"aws:SourceAccount": "999999999999"}),
        ),
    ),
    "dead-letter queue fed by any topic": (
        loose_resource_policies,
        lambda g: _broken(
            g,
            "whatsapp-buffer-buffered-ingest-ingest-dlq-policy",
            _statement(Condition={"ArnLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:*"}}),
        ),
    ),
    "key usable by a service of any account": (
        loose_key_policies,
        lambda g: _broken(
            g, "whatsapp-buffer-buffered-ingest-in-topic-key", lambda i: statements(i["policy"])[1].pop("Condition")
        ),
    ),
    "key open to everyone": (
        loose_key_policies,
        lambda g: _broken(
            g,
            "whatsapp-buffer-connect-bridge-out-topic-key",
            lambda i: statements(i["policy"])[1].update(Principal="*"),
        ),
    ),
    "wildcard action": (
        wildcard_identity_permissions,
        lambda g: _broken(g, "whatsapp-buffer-stream-aggregator-aggregator-policy", _statement(Action=["dynamodb:*"])),
    ),
    "every resource": (
        wildcard_identity_permissions,
        lambda g: _broken(g, "whatsapp-buffer-connect-bridge-outbound-policy", _statement(Resource="*")),
    ),
    "log group kept forever": (
        log_groups_without_retention,
        lambda g: _broken(g, "whatsapp-buffer-connect-bridge-inbound-logs", _set(retentionInDays=0)),
    ),
    "function without its log group": (
        log_groups_without_retention,
        lambda g: _without(g, "whatsapp-buffer-buffered-ingest-ingest-logs"),
    ),
}


@pytest.mark.parametrize(("check", "break_it"), BREAKAGES.values(), ids=BREAKAGES.keys())
def test_each_check_catches_a_stack_that_breaks_its_property(graph, check, break_it):
    # GIVEN the sample stack passes the check
    assert check(graph) == []
    # WHEN one resource loses the property THEN the check names a violation
    assert check(break_it(graph))
