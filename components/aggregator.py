"""Aggregator: the tumbling-window stream mapping that decides when a conversation's burst is due, the
aggregator function, and the bursts FIFO queue it fills."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import iam
from components.alarms import BURSTS_AGE_THRESHOLD_SECONDS
from components.lambda_function import FunctionSpec
from components.queues import FOURTEEN_DAYS, encrypted_queue, queue_with_dead_letters
from components.schedules import invoke_on_schedule
from components.stage import Stage, StageArgs
from whatsapp_buffer.settings import AGGREGATOR, SWEEPER
from whatsapp_buffer.storage_keys import CONTROL, RECORD_TYPE, TICK, TICK_LISTED

TYPE = "whatsapp-buffer:index:Aggregator"
STREAM_BATCH_SIZE = 100
STREAM_MAX_RETRY_ATTEMPTS = 10
STREAM_MAX_RECORD_AGE_SECONDS = 3600
SWEEP_SCHEDULE = "rate(1 minute)"
"""EventBridge Scheduler's shortest rate: a stranded conversation waits at most a minute past the sweep's margin."""
BURSTS_MAX_RECEIVE_COUNT = 5
AGGREGATOR_RECORDS = {
    "eventName": ["INSERT", "MODIFY"],
    "dynamodb": {"NewImage": {RECORD_TYPE: {"S": [CONTROL, TICK]}}},
}
"""Only control-item changes and ticks wake the aggregator: one record per conversation update, never one per
message, plus the one tick a window end writes for what it leaves waiting. A list of values is an "or" (Lambda
Developer Guide, "Lambda event filtering", Filter rule syntax: `"PaymentType": [ "Credit", "Debit"]`); REMOVE records
(TTL deletions of either) carry no NewImage and are not INSERT/MODIFY, so they never pass."""


TICK_ATTRIBUTES = ("pk", "sk", RECORD_TYPE, TICK_LISTED, "written_at", "expires_at")
"""The attributes of a tick item (runtime adapters/raw_table.py, `RawTable.write_tick`): the only ones the
aggregator's PutItem may write."""


def _tick_writes(raw_table_arn: pulumi.Input[str]) -> iam.Statement:
    """PutItem of tick items only: a window end's one write for what it leaves waiting. `dynamodb:Attributes` limits
    the top-level attributes a request may name ("ForAllValues:StringEquals": {"dynamodb:Attributes": [...]}, the IAM
    User Guide's example "Amazon DynamoDB: Allows access to specific attributes", which lists PutItem), so a PutItem
    of this grant can only name a tick's attributes: it cannot write a message's (`status`, `body`) or a control
    item's (`pending`, `version`). No condition key confines the sort key, so such a put could still replace an item
    under another key with a tick-shaped one; the same role may UpdateItem the table anyway (claims, marks,
    settles), so this narrows the PutItem, it does not fence the table."""
    return {
        **iam.allow(["dynamodb:PutItem"], [raw_table_arn], sid="WriteTicks"),
        "Condition": {"ForAllValues:StringEquals": {"dynamodb:Attributes": list(TICK_ATTRIBUTES)}},
    }


@dataclass(frozen=True, kw_only=True)
class AggregatorArgs(StageArgs):
    raw_table_name: pulumi.Input[str]
    raw_table_arn: pulumi.Input[str]
    raw_table_stream_arn: pulumi.Input[str]
    raw_table_pending_index_arn: pulumi.Input[str]
    """The raw table's sparse index of conversations with pending messages, which the sweeper reads."""
    consumer_timeout_seconds: int
    """Timeout of the function that reads the bursts queue; its visibility timeout is six times this."""


class Aggregator(Stage):
    """Raw table stream -> (tumbling window) aggregator function -> bursts FIFO queue, grouped by conversation."""

    bursts_queue: aws.sqs.Queue
    bursts_dead_letter_queue: aws.sqs.Queue
    failures_queue: aws.sqs.Queue
    stream_mapping: aws.lambda_.EventSourceMapping
    sweeper_function: aws.lambda_.Function
    sweep_schedule: aws.scheduler.Schedule

    def __init__(self, name: str, args: AggregatorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, args, opts)
        bursts = queue_with_dead_letters(
            f"{name}-bursts",
            self,
            self.context,
            fifo_suffix="bursts",
            # AWS's guidance for Lambda SQS sources: at least six times the function timeout.
            visibility_timeout_seconds=6 * args.consumer_timeout_seconds,
            max_receive_count=BURSTS_MAX_RECEIVE_COUNT,
        )
        self.bursts_queue = bursts.queue
        self.bursts_dead_letter_queue = bursts.dead_letter_queue
        # The stream mapping's on-failure destination: metadata of batches dropped after the retry/age limits.
        self.failures_queue = encrypted_queue(f"{name}-failures", self, retention_seconds=FOURTEEN_DAYS)
        aggregator = self.python_function(
            FunctionSpec(
                name=AGGREGATOR,
                resources={"raw_table_name": args.raw_table_name, "bursts_queue_url": self.bursts_queue.url},
                statements=[
                    iam.allow(
                        # Claims, marks, settles are all conditional UpdateItems.
                        ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"],
                        [args.raw_table_arn],
                        sid="ReadAndClaimPendingMessages",
                    ),
                    _tick_writes(args.raw_table_arn),
                    iam.allow(
                        ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                        [pulumi.Output.concat(args.raw_table_arn, "/stream/*")],
                        sid="ReadRawTableStream",
                    ),
                    # ListStreams has no resource-level permissions (the Service Authorization Reference lists no
                    # resource type for it): only "*" grants it; a stream ARN grants nothing.
                    iam.allow(["dynamodb:ListStreams"], ["*"], sid="ListStreams"),
                    iam.allow(
                        ["sqs:SendMessage"],
                        [self.bursts_queue.arn, self.failures_queue.arn],
                        sid="SendBurstsAndFailures",
                    ),
                ],
            ),
        )
        self.function = aggregator.function
        self.stream_mapping = aggregator.reads(
            "stream",
            args.raw_table_stream_arn,
            only=[AGGREGATOR_RECORDS],
            starting_position="LATEST",
            batch_size=STREAM_BATCH_SIZE,
            # The window is the debounce's clock: at each window end the aggregator decides which conversations flush.
            tumbling_window_in_seconds=self.settings.window_seconds,
            # Windows keep state per shard; more than one concurrent batch per shard would split it.
            parallelization_factor=1,
            bisect_batch_on_function_error=True,
            maximum_retry_attempts=STREAM_MAX_RETRY_ATTEMPTS,
            maximum_record_age_in_seconds=STREAM_MAX_RECORD_AGE_SECONDS,
            function_response_types=["ReportBatchItemFailures"],
            destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
                on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                    destination_arn=self.failures_queue.arn
                ),
            ),
        )
        self._create_sweeper(name, args)
        self._create_alarms()
        self.register_outputs(
            {
                "burstsQueueUrl": self.bursts_queue.url,
                "burstsDeadLetterQueueUrl": self.bursts_dead_letter_queue.url,
                "failuresQueueUrl": self.failures_queue.url,
                "functionName": self.function.name,
                "sweeperFunctionName": self.sweeper_function.name,
            }
        )

    def _create_sweeper(self, name: str, args: AggregatorArgs) -> None:
        """The sweeper and the schedule that runs it every minute: conversations the stream lost come back."""
        sweeper = self.python_function(
            FunctionSpec(
                name=SWEEPER,
                resources={"raw_table_name": args.raw_table_name},
                statements=[
                    iam.allow(["dynamodb:Query"], [args.raw_table_pending_index_arn], sid="ReadPendingSinceIndex"),
                    # A touch: UpdateItem of a control item, conditional on its existence.
                    iam.allow(["dynamodb:UpdateItem"], [args.raw_table_arn], sid="TouchStrandedConversations"),
                ],
            ),
        )
        self.sweeper_function = sweeper.function
        self.sweep_schedule = invoke_on_schedule(
            sweeper,
            self.context,
            "sweep",
            label="the sweeper",
            expression=SWEEP_SCHEDULE,
            payload="{}",
            description="every minute: stranded conversations back into the flow",
            sid="InvokeSweeper",
        )

    def _create_alarms(self) -> None:
        alarms = self.alarms
        alarms.dead_letters(
            self.bursts_dead_letter_queue,
            suffix="bursts-dlq",
            holds="bursts the inbound function failed to deliver to Connect five times",
        )
        alarms.dead_letters(
            self.failures_queue,
            suffix="aggregator-failures",
            holds="stream batches the aggregator gave up on (metadata only; the messages are still in the raw table)",
        )
        alarms.queue_age(
            self.bursts_queue,
            suffix="bursts",
            what="burst on the bursts queue",
            threshold_seconds=BURSTS_AGE_THRESHOLD_SECONDS,
        )
        alarms.iterator_age(self.function, short_name="aggregator")
