"""The bridge's security and delivery invariants, as CrossGuard validation functions.

Each function takes the arguments the pack's runtime passes (ResourceValidationArgs or StackValidationArgs) and a
`report(message, urn=None)` callback; each message names the resource, what is wrong and what to set instead.
Where each rule comes from is in tests/policy, beside the test that pins it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from stack_view import (
    CONNECT_INSTANCE_ARN,
    as_list,
    condition_values,
    document,
    guarded,
    has_wildcard,
    inside,
    nested,
    of_type,
    prop,
    service_principal,
    statements,
)

Report = Callable[..., None]

TOPIC, TOPIC_POLICY = "aws:sns/topic:Topic", "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLES = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
ROLE, ROLE_POLICY, MANAGED_POLICY = "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"
FUNCTION, PERMISSION = "aws:lambda/function:Function", "aws:lambda/permission:Permission"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
QUEUE, SCHEDULE = "aws:sqs/queue:Queue", "aws:scheduler/schedule:Schedule"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

AWS_MANAGED_SNS_KEY = "alias/aws/sns"
RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
"""CloudWatch Logs PutRetentionPolicy retentionInDays, "Possible values" (0 or none: kept forever)."""
ASYNC_INVOKERS = {"sns.amazonaws.com", "s3.amazonaws.com", "events.amazonaws.com", "ses.amazonaws.com"}
"""Services that invoke a function asynchronously (Lambda developer guide, asynchronous invocation)."""
MESSAGE_PROTOCOLS = {"lambda", "sqs", "http", "https", "firehose"}
"""Subscriptions that carry the bridge's messages; email/sms ones notify a person of an alarm CloudWatch keeps."""
PUBLIC_ACLS = {"public-read", "public-read-write", "authenticated-read"}


# --- topics -----------------------------------------------------------------------------------------------------


def topic_encrypted_with_kms(args: Any, report: Report) -> None:
    if args.resource_type != TOPIC or not guarded(args.urn):
        return
    key = prop(args, "kmsMasterKeyId")
    if not key:
        report(
            f"SNS topic '{args.name}' is not encrypted: set kms_master_key_id to a customer managed KMS key whose key "
            "policy lets the publishing service use it (kms:GenerateDataKey*, kms:Decrypt, scoped by aws:SourceAccount)."
        )
    elif str(key).endswith(AWS_MANAGED_SNS_KEY):
        report(
            f"SNS topic '{args.name}' uses the AWS managed key {AWS_MANAGED_SNS_KEY}, whose key policy cannot be edited "
            "to let End User Messaging or Connect publish: use a customer managed KMS key."
        )


def _check_topic_admission(
    args: Any, report: Report, component: str, service: str, role: str, need_instance: bool
) -> None:
    topics = [t for t in of_type(args.resources, TOPIC) if inside(t.urn, component)]
    if not topics:
        args.not_applicable(f"no {component} in this stack")
    policies = of_type(args.resources, TOPIC_POLICY)
    for topic in topics:
        arn = prop(topic, "arn")
        attached = [p for p in policies if prop(p, "arn") == arn]
        if not attached:
            report(
                f"{role} '{topic.name}' has no TopicPolicy, so SNS's default policy lets the account's principals "
                f"publish: attach one allowing only sns:Publish by {service}.",
                topic.urn,
            )
            continue
        admitted = False
        for policy in attached:
            for s in statements(prop(policy, "policy")):
                if s.get("Effect") != "Allow":
                    continue
                where = f"{role} '{topic.name}' policy statement {s.get('Sid', '')!r}"
                if service_principal(s) != service:
                    report(f"{where} admits {s.get('Principal')!r}: only {service} may publish.", policy.urn)
                    continue
                admitted = True
                if as_list(s.get("Action")) != ["sns:Publish"]:
                    report(f"{where} allows {s.get('Action')!r}: allow only sns:Publish.", policy.urn)
                if as_list(s.get("Resource")) != [arn]:
                    report(f"{where} applies to {s.get('Resource')!r}: name only the topic's own ARN.", policy.urn)
                accounts = condition_values(s, "aws:SourceAccount", ("StringEquals",))
                if len(set(accounts)) != 1 or has_wildcard(accounts[0]):
                    report(
                        f"{where} is not scoped to one account: add Condition StringEquals aws:SourceAccount = "
                        "your account id (confused deputy).",
                        policy.urn,
                    )
                if need_instance:
                    sources = condition_values(s, "aws:SourceArn", ("ArnEquals", "StringEquals", "ArnLike"))
                    matches = [CONNECT_INSTANCE_ARN.match(a) for a in sources]
                    if len(sources) != 1 or not matches[0]:
                        report(
                            f"{where} admits every Connect instance ({sources or 'no aws:SourceArn'}): add Condition "
                            "ArnEquals aws:SourceArn = your instance's ARN, arn:aws:connect:REGION:ACCOUNT:instance/ID.",
                            policy.urn,
                        )
                    elif accounts and matches[0].group(1) != accounts[0]:
                        report(f"{where}: the instance {sources[0]} is not in aws:SourceAccount {accounts[0]}.")
        if not admitted:
            report(f"{role} '{topic.name}' admits no {service}: nothing can publish to it.", topic.urn)


def in_topic_publishable_only_by_end_user_messaging(args: Any, report: Report) -> None:
    _check_topic_admission(args, report, "Ingest", "social-messaging.amazonaws.com", "in-topic", need_instance=False)


def out_topic_publishable_only_by_the_connect_instance(args: Any, report: Report) -> None:
    _check_topic_admission(args, report, "Inbound", "connect.amazonaws.com", "out-topic", need_instance=True)


# --- the media bucket -------------------------------------------------------------------------------------------


def _denies_plain_http(statement: Mapping[str, Any], arn: str) -> bool:
    return (
        statement.get("Effect") == "Deny"
        and statement.get("Principal") in ("*", {"AWS": "*"})
        and "s3:*" in as_list(statement.get("Action"))
        and {arn, f"{arn}/*"} <= set(as_list(statement.get("Resource")))
        and nested(statement, "Condition", "Bool", "aws:SecureTransport") in ("false", False)
    )


def _expires_everything(rule: Mapping[str, Any]) -> bool:
    days = nested(rule, "expiration", "days")
    scope = rule.get("filter") or {}
    whole_bucket = not scope or (set(scope) <= {"prefix"} and not scope.get("prefix"))
    return rule.get("status") == "Enabled" and isinstance(days, int | float) and days > 0 and whole_bucket


def bucket_private_tls_only_with_expiry(args: Any, report: Report) -> None:
    buckets = of_type(args.resources, *BUCKETS)
    if not buckets:
        args.not_applicable("no bucket in the bridge")
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    for bucket in buckets:
        name, arn = prop(bucket, "bucket"), prop(bucket, "arn")
        mine = [r for r in args.resources if r.resource_type != bucket.resource_type and prop(r, "bucket") == name]
        blocks = [r for r in mine if r.resource_type == PUBLIC_ACCESS_BLOCK]
        if not any(all(prop(b, f) is True for f in flags) for b in blocks):
            report(
                f"bucket '{bucket.name}' is not private: add a BucketPublicAccessBlock with {', '.join(flags)} true.",
                bucket.urn,
            )
        if prop(bucket, "acl") in PUBLIC_ACLS:
            report(f"bucket '{bucket.name}' has the public ACL {prop(bucket, 'acl')}: remove it.", bucket.urn)
        denies = [s for r in mine if r.resource_type == BUCKET_POLICY for s in statements(prop(r, "policy"))]
        if not any(_denies_plain_http(s, arn) for s in denies):
            report(
                f"bucket '{bucket.name}' accepts plain HTTP: its BucketPolicy needs a Deny of s3:* to Principal * on "
                f"{arn} and {arn}/* when Bool aws:SecureTransport is false.",
                bucket.urn,
            )
        rules = [rule for r in mine if r.resource_type in LIFECYCLES for rule in as_list(prop(r, "rules"))]
        if not any(_expires_everything(rule) for rule in rules):
            report(
                f"bucket '{bucket.name}' keeps customer media forever: add a BucketLifecycleConfiguration rule, "
                "status Enabled, on the whole bucket, with expiration days > 0.",
                bucket.urn,
            )


# --- IAM ----------------------------------------------------------------------------------------------------------


@functools.cache
def _resource_types() -> dict[str, bool]:
    """action (lowercase) -> whether the Service Authorization Reference (parliament's copy) lists a resource type."""
    import parliament

    return {
        f"{service['prefix']}:{p['privilege']}".lower(): any(r["resource_type"] for r in p["resource_types"])
        for service in parliament.iam_definition
        for p in service["privileges"]
    }


def takes_only_every_resource(action: str) -> bool:
    """The documented exception: an action with no resource type in the reference is granted on "*" only."""
    return _resource_types().get(action.lower()) is False


def _identity_documents(args: Any) -> list[tuple[str, Any]]:
    if args.resource_type in (ROLE_POLICY, MANAGED_POLICY):
        return [(args.name, prop(args, "policy"))]
    if args.resource_type == ROLE:
        return [
            (f"{args.name} inline policy {p.get('name', '')!r}", p.get("policy"))
            for p in as_list(prop(args, "inlinePolicies"))
            if isinstance(p, Mapping)
        ]
    return []


def iam_without_wildcards(args: Any, report: Report) -> None:
    if not guarded(args.urn):
        return
    for where, policy in _identity_documents(args):
        for s in statements(policy):
            sid = f"{where} statement {s.get('Sid', '')!r}"
            for element in ("NotAction", "NotResource"):
                if element in s:
                    report(f"{sid} uses {element}, which grants everything else: list what it allows instead.")
            actions = [str(a) for a in as_list(s.get("Action"))]
            for action in actions:
                if has_wildcard(action) or ":" not in action:
                    report(f"{sid} allows {action!r}: name each action the function calls.")
            for resource in (str(r) for r in as_list(s.get("Resource"))):
                if resource == "*":
                    scoped = [a for a in actions if not takes_only_every_resource(a)]
                    if scoped:
                        report(
                            f'{sid} allows {scoped} on every resource: name the ARNs ("*" is only for actions the '
                            "Service Authorization Reference lists without a resource type, e.g. dynamodb:ListStreams)."
                        )
                elif resource.startswith("arn:") and (
                    any(has_wildcard(part) for part in resource.split(":")[1:5]) or resource.split(":", 5)[-1] == "*"
                ):
                    report(f"{sid} allows {resource!r}, every resource of a service, region or account: name it.")


# --- asynchronous paths -------------------------------------------------------------------------------------------


def _function_keys(function: Any) -> set[str]:
    return {str(v) for v in (prop(function, "name"), prop(function, "arn")) if v}


def _catches_failures(function: Any, configs: list[Any]) -> bool:
    keys = _function_keys(function)
    if nested(prop(function, "deadLetterConfig"), "targetArn"):
        return True
    return any(
        str(prop(c, "functionName")) in keys and nested(prop(c, "destinationConfig"), "onFailure", "destination")
        for c in configs
    )


def async_paths_dead_lettered(args: Any, report: Report) -> None:
    resources = args.resources
    functions = of_type(resources, FUNCTION)
    configs = of_type(resources, INVOKE_CONFIG)
    invoked_async: dict[str, str] = {}
    for subscription in of_type(resources, SUBSCRIPTION):
        protocol = prop(subscription, "protocol")
        if protocol in MESSAGE_PROTOCOLS and not nested(
            document(prop(subscription, "redrivePolicy")), "deadLetterTargetArn"
        ):
            report(
                f"subscription '{subscription.name}' ({protocol}) has no dead-letter queue: set redrive_policy "
                '{"deadLetterTargetArn": <an SQS queue SNS may send to>} so a delivery SNS gives up on is kept.',
                subscription.urn,
            )
        if protocol == "lambda":
            invoked_async[str(prop(subscription, "endpoint"))] = f"subscription '{subscription.name}'"
    for permission in of_type(resources, PERMISSION):
        if prop(permission, "principal") in ASYNC_INVOKERS:
            invoked_async[str(prop(permission, "function"))] = f"{prop(permission, 'principal')}"
    for function in functions:
        callers = [who for key, who in invoked_async.items() if key in _function_keys(function)]
        if callers and not _catches_failures(function, configs):
            report(
                f"function '{function.name}' is invoked asynchronously ({callers[0]}) with no on-failure destination: "
                "add a FunctionEventInvokeConfig with destination_config.on_failure (or a dead_letter_config).",
                function.urn,
            )
    queues = {prop(q, "arn"): q for q in of_type(resources, QUEUE)}
    for mapping in of_type(resources, MAPPING):
        source = str(prop(mapping, "eventSourceArn", ""))
        service = source.split(":")[2] if source.count(":") >= 5 else ""
        if service in ("dynamodb", "kinesis") and not nested(
            prop(mapping, "destinationConfig"), "onFailure", "destinationArn"
        ):
            report(
                f"event source mapping '{mapping.name}' reads a stream with no on-failure destination: set "
                "destination_config.on_failure.destination_arn (an SQS queue or SNS topic) so a batch it gives up "
                "on is kept.",
                mapping.urn,
            )
        if service == "sqs" and source in queues:
            queue = queues[source]
            if not nested(document(prop(queue, "redrivePolicy")), "deadLetterTargetArn"):
                report(
                    f"queue '{queue.name}' feeds a function with no dead-letter queue: set redrive_policy "
                    "deadLetterTargetArn and maxReceiveCount.",
                    queue.urn,
                )
    for schedule in of_type(resources, SCHEDULE):
        target = prop(schedule, "target") or {}
        sweep = (
            str(prop(schedule, "scheduleExpression", "")).startswith(("rate(", "cron("))
            and nested(target, "retryPolicy", "maximumRetryAttempts") == 0
            and isinstance(target.get("input"), str)
        )
        if not nested(target, "deadLetterConfig", "arn") and not sweep:
            report(
                f"schedule '{schedule.name}' has no dead-letter queue: set target.dead_letter_config.arn, or make it "
                "a recurring run with a fixed input and no retries, which the next run makes up for.",
                schedule.urn,
            )


# --- logs and the outreach function -------------------------------------------------------------------------------


def function_log_retention(args: Any, report: Report) -> None:
    groups = {prop(g, "name"): g for g in of_type(args.resources, LOG_GROUP)}
    for function in of_type(args.resources, FUNCTION):
        name = nested(prop(function, "loggingConfig"), "logGroup") or f"/aws/lambda/{prop(function, 'name')}"
        group = groups.get(name)
        if group is None:
            report(
                f"function '{function.name}' logs to {name}, which this program does not declare, so Lambda creates "
                "it keeping logs forever: declare the LogGroup with retention_in_days.",
                function.urn,
            )
        elif prop(group, "retentionInDays") not in RETENTION_DAYS:
            report(
                f"log group '{group.name}' of function '{function.name}' keeps logs forever "
                f"(retention_in_days {prop(group, 'retentionInDays')!r}): set one of {RETENTION_DAYS}.",
                group.urn,
            )


def outreach_invocable_by_connect_only(args: Any, report: Report) -> None:
    functions = [f for f in of_type(args.resources, FUNCTION) if inside(f.urn, "Outreach")]
    if not functions:
        args.not_applicable("no Outreach in this stack")
    for function in functions:
        keys = _function_keys(function)
        for url in of_type(args.resources, FUNCTION_URL):
            if str(prop(url, "functionName")) in keys:
                report(f"outreach function '{function.name}' has a function URL '{url.name}': remove it.", url.urn)
        for permission in of_type(args.resources, PERMISSION):
            if str(prop(permission, "function")) not in keys:
                continue
            where = f"permission '{permission.name}' on outreach function '{function.name}'"
            source = str(prop(permission, "sourceArn") or "")
            instance = CONNECT_INSTANCE_ARN.match(source)
            if prop(permission, "principal") != "connect.amazonaws.com":
                report(f"{where} admits {prop(permission, 'principal')!r}: only connect.amazonaws.com.", permission.urn)
            elif prop(permission, "action") != "lambda:InvokeFunction":
                report(f"{where} allows {prop(permission, 'action')!r}: allow only lambda:InvokeFunction.")
            elif not instance:
                report(
                    f"{where} has source_arn {source or 'unset'}: set your Connect instance's ARN "
                    "(arn:aws:connect:REGION:ACCOUNT:instance/ID), no wildcard (Lambda compares it with StringLike).",
                    permission.urn,
                )
            elif prop(permission, "sourceAccount") not in (None, instance.group(1)):
                report(f"{where}: source_account {prop(permission, 'sourceAccount')} is not the instance's account.")
