"""Ingest: End User Messaging's SNS topic, the ingest function, and the raw table it writes."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import iam
from components.lambda_function import FunctionSpec
from components.queues import FOURTEEN_DAYS, encrypted_queue
from components.stage import Stage, StageArgs
from components.tables import Index, secure_table
from components.topics import service_topic, subscribe_function
from whatsapp_buffer.settings import INGEST
from whatsapp_buffer.storage_keys import FIRST_PENDING, PENDING_INDEX, WAITING

TYPE = "whatsapp-buffer:index:Ingest"


@dataclass(frozen=True, kw_only=True)
class IngestArgs(StageArgs):
    """The start of the flow: ingest needs nothing from another stage."""


class Ingest(Stage):
    """WhatsApp events in: in-topic (End User Messaging only) -> ingest function -> raw table (stream + TTL)."""

    in_topic: aws.sns.Topic
    raw_table: aws.dynamodb.Table
    dead_letter_queue: aws.sqs.Queue

    def __init__(self, name: str, args: IngestArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, args, opts)
        self.raw_table = secure_table(
            f"{name}-raw-table",
            self,
            hash_key="pk",
            range_key="sk",
            ttl_attribute="expires_at",
            stream_view_type="NEW_IMAGE",
            # Sparse: only control items with pending messages carry `waiting`, so the sweeper reads just those.
            indexes=[Index(name=PENDING_INDEX, hash_key=WAITING, range_key=FIRST_PENDING, projection="KEYS_ONLY")],
        )
        inbound = service_topic(f"{name}-in-topic", self, self.context, service="social-messaging.amazonaws.com")
        self.in_topic = inbound.topic
        self.dead_letter_queue = encrypted_queue(f"{name}-dlq", self, retention_seconds=FOURTEEN_DAYS)
        ingest = self.python_function(
            FunctionSpec(
                name=INGEST,
                resources={"raw_table_name": self.raw_table.name},
                statements=[
                    # TransactWriteItems is authorised per contained action: ingest's holds a Put and an Update.
                    iam.allow(
                        ["dynamodb:PutItem", "dynamodb:UpdateItem"],
                        [self.raw_table.arn],
                        sid="WriteRawMessages",
                    ),
                    # A reply's original (an earlier message, or an agent message the bridge relayed) is looked up
                    # in the raw table to quote it: GetItem for the agent's, Query for the customer's own. GetItem also
                    # reads a conversation's last arrival before each store, for the message's follow-up gap.
                    iam.allow(["dynamodb:GetItem", "dynamodb:Query"], [self.raw_table.arn], sid="QuoteReplies"),
                    iam.allow(["sqs:SendMessage"], [self.dead_letter_queue.arn], sid="DeadLetterFailedEvents"),
                ],
            ),
        )
        self.function = ingest.function
        subscribe_function(
            f"{name}-ingest",
            self,
            topic=self.in_topic,
            function=self.function,
            dead_letter_queue=self.dead_letter_queue,
        )
        self.alarms.dead_letters(
            self.dead_letter_queue,
            suffix="ingest-dlq",
            holds="WhatsApp events ingest rejected or could not store after retries",
        )
        self.register_outputs(
            {
                "inTopicArn": self.in_topic.arn,
                "rawTableName": self.raw_table.name,
                "rawTableStreamArn": self.raw_table.stream_arn,
                "deadLetterQueueUrl": self.dead_letter_queue.url,
                "functionName": self.function.name,
            }
        )
