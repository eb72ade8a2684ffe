"""SQS queues the way every queue of this program is built: encrypted, and with a dead-letter queue where one is needed."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.context import StackContext

FOURTEEN_DAYS = 14 * 24 * 3600
"""The longest SQS keeps a message: dead letters wait there for a human."""


def encrypted_queue(
    name: str,
    parent: pulumi.Resource,
    *,
    fifo_name: str | None = None,
    visibility_timeout_seconds: int = 30,
    retention_seconds: int = 4 * 24 * 3600,
    redrive_policy: pulumi.Input[str] | None = None,
) -> aws.sqs.Queue:
    """A queue with SQS-managed SSE (SNS and Lambda can write to it without a KMS grant).

    Standard queues are auto-named; a FIFO queue needs its `.fifo` name spelled out (`fifo_name`).
    """
    fifo = fifo_name is not None
    return aws.sqs.Queue(
        name,
        name=fifo_name,
        fifo_queue=fifo or None,
        content_based_deduplication=False if fifo else None,
        # Per-group dedupe and throughput: one customer's bursts are ordered, customers do not throttle each other.
        deduplication_scope="messageGroup" if fifo else None,
        fifo_throughput_limit="perMessageGroupId" if fifo else None,
        sqs_managed_sse_enabled=True,
        visibility_timeout_seconds=visibility_timeout_seconds,
        message_retention_seconds=retention_seconds,
        redrive_policy=redrive_policy,
        opts=pulumi.ResourceOptions(parent=parent),
    )


@dataclass
class QueueWithDeadLetters:
    queue: aws.sqs.Queue
    dead_letter_queue: aws.sqs.Queue


def queue_with_dead_letters(
    name: str,
    parent: pulumi.Resource,
    context: StackContext,
    *,
    fifo_suffix: str | None = None,
    visibility_timeout_seconds: int,
    max_receive_count: int,
) -> QueueWithDeadLetters:
    """A work queue whose poison messages move to a dead-letter queue after `max_receive_count` receives."""
    dlq = encrypted_queue(
        f"{name}-dlq",
        parent,
        fifo_name=context.physical_name(f"{fifo_suffix}-dlq.fifo", 80) if fifo_suffix else None,
        retention_seconds=FOURTEEN_DAYS,
    )
    queue = encrypted_queue(
        name,
        parent,
        fifo_name=context.physical_name(f"{fifo_suffix}.fifo", 80) if fifo_suffix else None,
        visibility_timeout_seconds=visibility_timeout_seconds,
        redrive_policy=dlq.arn.apply(
            lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": max_receive_count})
        ),
    )
    return QueueWithDeadLetters(queue=queue, dead_letter_queue=dlq)
