"""SNS topics that one AWS service publishes to, and Lambda functions subscribed to them with a dead-letter path."""

from __future__ import annotations

import json
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


def service_topic(
    name: str,
    parent: pulumi.Resource,
    context: StackContext,
    *,
    service: str,
    source_arn: str | None = None,
) -> ServiceTopic:
    """A standard topic only `service` may publish to, encrypted with a key that service may use.

    Both policies require `aws:SourceAccount` = this account, so another account's use of the same service cannot
    publish here (confused deputy). `source_arn` narrows the topic policy to the service acting for that resource
    (`ArnEquals`), or for the resources it matches when it holds a `*` (`ArnLike`).
    """
    source_account = {"StringEquals": {"aws:SourceAccount": context.account_id}}
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
                    service, ["kms:GenerateDataKey*", "kms:Decrypt"], "*", source_account, sid="ServiceEncryptsMessages"
                ),
            ]
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    topic = aws.sns.Topic(name, kms_master_key_id=key.arn, opts=pulumi.ResourceOptions(parent=parent))
    conditions: dict[str, dict[str, Any]] = {k: dict(v) for k, v in source_account.items()}
    if source_arn is not None:
        conditions["ArnLike" if "*" in source_arn else "ArnEquals"] = {"aws:SourceArn": source_arn}
    policy = aws.sns.TopicPolicy(
        f"{name}-policy",
        arn=topic.arn,
        policy=iam.document(
            [iam.allow_service(service, ["sns:Publish"], topic.arn, conditions, sid="OnlyServicePublishes")]
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return ServiceTopic(topic=topic, key=key, policy=policy)


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
