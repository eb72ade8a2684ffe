"""SNS topics that one AWS service publishes to, and Lambda functions subscribed to them with a dead-letter path."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import iam
from components.context import StackContext


@dataclass
class ServiceTopic:
    topic: aws.sns.Topic
    key: aws.kms.Key
    policy: aws.sns.TopicPolicy


def encrypted_topic(
    name: str, parent: pulumi.Resource, context: StackContext, *, service: str
) -> tuple[aws.sns.Topic, aws.kms.Key]:
    """A standard topic `name`, encrypted with its key `<name>-key` that `service` (from this account) may use.

    Without a `topic_policy` the topic keeps SNS's default, account-wide policy: every caller adds one.
    """
    key = aws.kms.Key(
        f"{name}-key",
        description=f"{context.prefix}: encrypts the {name} SNS topic",
        enable_key_rotation=True,
        deletion_window_in_days=7,
        policy=iam.document(
            [
                {
                    # The account root keeps full control of the key (the default AWS key policy); without it the
                    # key could become unmanageable. IAM policies in the account decide who else may use it.
                    "Sid": "AccountAdministersKey",
                    "Effect": "Allow",
                    "Principal": {"AWS": context.arn("iam", "root", region=False)},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                # In a key policy "*" means "this key".
                iam.allow_service(
                    service,
                    ["kms:GenerateDataKey*", "kms:Decrypt"],
                    "*",
                    _source_account(context),
                    sid="ServiceEncryptsMessages",
                ),
            ]
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    topic = aws.sns.Topic(name, kms_master_key_id=key.arn, opts=pulumi.ResourceOptions(parent=parent))
    return topic, key


def topic_policy(
    name: str,
    parent: pulumi.Resource,
    context: StackContext,
    topic: aws.sns.Topic,
    *,
    service: str,
    source_arns: Sequence[pulumi.Input[str]] = (),
) -> aws.sns.TopicPolicy:
    """`<name>-policy`: only `service` may publish to `topic`, acting for this account (`aws:SourceAccount`, so
    another account's use of the same service cannot publish here: confused deputy) and, given `source_arns`, for one
    of those resources only (`aws:SourceArn`, `ArnEquals` on exact ARNs: several values of one key are ORed)."""
    conditions = _source_account(context)
    if source_arns:
        arns = list(source_arns)
        conditions["ArnEquals"] = {"aws:SourceArn": arns[0] if len(arns) == 1 else arns}
    return aws.sns.TopicPolicy(
        f"{name}-policy",
        arn=topic.arn,
        policy=iam.document(
            [iam.allow_service(service, ["sns:Publish"], topic.arn, conditions, sid="OnlyServicePublishes")]
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def service_topic(
    name: str,
    parent: pulumi.Resource,
    context: StackContext,
    *,
    service: str,
    source_arn: pulumi.Input[str] | None = None,
) -> ServiceTopic:
    """An encrypted topic (`encrypted_topic`) only `service` may publish to (`topic_policy`), acting for this account
    and, given `source_arn`, for that one resource."""
    topic, key = encrypted_topic(name, parent, context, service=service)
    policy = topic_policy(
        name, parent, context, topic, service=service, source_arns=[source_arn] if source_arn is not None else ()
    )
    return ServiceTopic(topic=topic, key=key, policy=policy)


def _source_account(context: StackContext) -> dict[str, dict[str, Any]]:
    return {"StringEquals": {"aws:SourceAccount": context.account_id}}


@dataclass
class Subscription:
    subscription: aws.sns.TopicSubscription
    permission: aws.lambda_.Permission
    dead_letter_policy: aws.sqs.QueuePolicy
    invoke_config: aws.lambda_.FunctionEventInvokeConfig


ASYNC_RETRY_ATTEMPTS = 2
"""Lambda retries a failed SNS-triggered invoke this many times before the event goes to the dead-letter queue."""


def subscribe_function(
    name: str,
    parent: pulumi.Resource,
    *,
    topic: aws.sns.Topic,
    function: aws.lambda_.Function,
    dead_letter_queue: aws.sqs.Queue,
    filter_policy: dict[str, Any] | None = None,
) -> Subscription:
    """Subscribe `function` to `topic`; whatever cannot be delivered or processed lands in `dead_letter_queue`.

    Two failure paths share the queue: SNS redrives messages it cannot deliver (subscription redrive policy; the queue
    policy admits SNS for this topic only), and Lambda sends events whose invokes failed after the retries (the
    function's role must allow sqs:SendMessage on the queue).
    """
    opts = pulumi.ResourceOptions(parent=parent)
    permission = aws.lambda_.Permission(
        f"{name}-invoke-permission",
        action="lambda:InvokeFunction",
        function=function.name,
        principal="sns.amazonaws.com",
        source_arn=topic.arn,
        opts=opts,
    )
    dead_letter_policy = aws.sqs.QueuePolicy(
        f"{name}-dlq-policy",
        queue_url=dead_letter_queue.url,
        policy=iam.document(
            [
                iam.allow_service(
                    "sns.amazonaws.com",
                    ["sqs:SendMessage"],
                    dead_letter_queue.arn,
                    {"ArnEquals": {"aws:SourceArn": topic.arn}},
                    sid="TopicRedrivesUndeliverable",
                )
            ]
        ),
        opts=opts,
    )
    invoke_config = aws.lambda_.FunctionEventInvokeConfig(
        f"{name}-invoke-config",
        function_name=function.name,
        maximum_retry_attempts=ASYNC_RETRY_ATTEMPTS,
        destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
            on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                destination=dead_letter_queue.arn
            ),
        ),
        opts=opts,
    )
    subscription = aws.sns.TopicSubscription(
        f"{name}-subscription",
        topic=topic.arn,
        protocol="lambda",
        endpoint=function.arn,
        redrive_policy=dead_letter_queue.arn.apply(lambda arn: json.dumps({"deadLetterTargetArn": arn})),
        # SNS's default scope: the policy is matched against the message attributes.
        filter_policy=json.dumps(filter_policy) if filter_policy else None,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[permission, dead_letter_policy]),
    )
    return Subscription(
        subscription=subscription,
        permission=permission,
        dead_letter_policy=dead_letter_policy,
        invoke_config=invoke_config,
    )
