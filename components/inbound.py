"""Inbound: bursts into Amazon Connect chats. Bursts queue -> inbound function -> the conversation's Connect chat.

This module is the flow: the function and what triggers it (the bursts queue, the raw table's stream, Transcribe's
events and the sweep of transcripts owed), and the alarms on it. It creates what it shares with Outbound and Outreach
(chat_storage.py: the chats' sessions, Connect's streaming topic, the media bucket); what the function may do is
chat_policies.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alarms import MINUTE
from components.chat_policies import inbound_statements
from components.chat_storage import ChatStorage, chat_storage
from components.context import StackContext
from components.lambda_function import FunctionSpec, PythonFunction
from components.queues import FOURTEEN_DAYS, encrypted_queue
from components.schedules import invoke_on_schedule
from components.stage import Stage, StageArgs
from whatsapp_buffer.settings import INBOUND, METRICS_NAMESPACE, TRANSCRIPTS_SWEEP_EVENT
from whatsapp_buffer.storage_keys import (
    MESSAGE,
    RECORD_TYPE,
    REFUSAL,
    TRANSCRIBE_EVENT_DETAIL_TYPE,
    TRANSCRIBE_EVENT_SOURCE,
    job_prefix,
)

TYPE = "whatsapp-buffer:index:Inbound"
INBOUND_BATCH_SIZE = 10
RECORDINGS_BATCH_SIZE = 10
RECORDINGS_MAX_AGE_SECONDS = 300
"""A recording older than this on the stream is left to its burst's delivery, which has probably happened."""
TRANSCRIPT_EVENT_RETRIES = 2
"""Lambda retries a failed asynchronous invoke (a Transcribe completion event) this often, then its on-failure
destination gets the event."""
TRANSCRIPTS_SWEEP_SCHEDULE = "rate(1 minute)"
"""EventBridge Scheduler's shortest rate: a transcript whose completion event is lost waits at most a minute more."""
TRANSCRIPTS_SWEEP_FAILING_MINUTES = 15
"""The sweep retries a debt it failed to settle every minute; failures in every 5-minute period for this long mean a
transcript an agent was promised is stuck (a post Connect keeps refusing), not one throttled call."""


def transcript_events(media_bucket: str) -> dict[str, object]:
    """The EventBridge pattern of this stack's finished Transcribe jobs. Amazon Transcribe developer guide, "Using
    Amazon EventBridge with Amazon Transcribe": `{"source": ["aws.transcribe"], "detail-type": ["Transcribe Job State
    Change"], "detail": {"TranscriptionJobStatus": ["COMPLETED", "FAILED"]}}`; the job name narrowed with prefix
    matching (EventBridge user guide, "Prefix matching": `{"prefix": "..."}`) to the names this stack gives
    (`<media bucket>-<media id>`, runtime `storage_keys.job_name`)."""
    return {
        "source": [TRANSCRIBE_EVENT_SOURCE],
        "detail-type": [TRANSCRIBE_EVENT_DETAIL_TYPE],
        "detail": {
            "TranscriptionJobStatus": ["COMPLETED", "FAILED"],
            "TranscriptionJobName": [{"prefix": job_prefix(media_bucket)}],
        },
    }


@dataclass(frozen=True, kw_only=True)
class InboundArgs(StageArgs):
    bursts_queue_arn: pulumi.Input[str]
    raw_table_arn: pulumi.Input[str]
    raw_table_stream_arn: pulumi.Input[str] | None = None
    """The raw table's stream: the inbound function tells the agent the refusals ingest stores in it and, on a stack
    that transcribes, prepares each stored recording from it (early start of its transcript); without it, neither
    (recordings are then prepared at delivery)."""


RECORDINGS_ONLY = {
    "eventName": ["INSERT"],
    "dynamodb": {"NewImage": {RECORD_TYPE: {"S": [MESSAGE]}, "kind": {"S": ["voice", "audio"]}}},
}
"""The stream records the inbound function prepares: voice notes and audio files as ingest stores them."""
REFUSALS_ONLY = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {RECORD_TYPE: {"S": [REFUSAL]}}}}
"""The stream records the inbound function tells the agent: ingest's refusal items (a `failed` status of a message
the outbound function sent; runtime `inbound/refusal_notices.py`)."""


class Inbound(Stage):
    """Bursts queue -> inbound function -> Connect chat, streaming to the out-topic."""

    storage: ChatStorage
    bursts_mapping: aws.lambda_.EventSourceMapping
    raw_stream_mapping: aws.lambda_.EventSourceMapping | None

    def __init__(self, name: str, args: InboundArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, args, opts)
        instance_arn = self.connect_instance_arn
        self.storage = chat_storage(
            name, self, self.context, instance_arn=instance_arn, transcribe_languages=self.settings.transcribe_languages
        )
        self.transcripts_dead_letter_queue = None
        if self.settings.transcribe_languages:
            # Transcribe's completion events reach inbound as asynchronous invokes: one that fails after Lambda's
            # retries lands here (a transcript owed and not posted), never silently.
            self.transcripts_dead_letter_queue = encrypted_queue(
                f"{name}-transcripts-dlq", self, retention_seconds=FOURTEEN_DAYS
            )
        reads_raw_stream = args.raw_table_stream_arn is not None
        # The raw-stream mapping's on-failure destination: metadata of a batch given up on after its retries (a
        # refusal notice the agent would otherwise never get), never dropped silently.
        self.raw_stream_failures_queue = (
            encrypted_queue(f"{name}-raw-stream-failures", self, retention_seconds=FOURTEEN_DAYS)
            if reads_raw_stream
            else None
        )

        inbound = self.python_function(
            FunctionSpec(
                name=INBOUND,
                resources={**self.storage.function_resources, "out_topic_arn": self.storage.out_topic.arn},
                media=True,
                statements=inbound_statements(
                    self.context,
                    self.settings,
                    self.storage,
                    instance_arn=instance_arn,
                    bursts_queue_arn=args.bursts_queue_arn,
                    raw_table_stream_of=args.raw_table_arn if reads_raw_stream else None,
                    raw_stream_failures_arn=self.raw_stream_failures_queue.arn
                    if self.raw_stream_failures_queue
                    else None,
                    transcripts_dead_letter_queue_arn=self.transcripts_dead_letter_queue.arn
                    if self.transcripts_dead_letter_queue
                    else None,
                ),
            ),
        )
        self.function = inbound.function
        self.bursts_mapping = inbound.reads(
            "bursts",
            args.bursts_queue_arn,
            batch_size=INBOUND_BATCH_SIZE,
            function_response_types=["ReportBatchItemFailures"],
        )
        self.raw_stream_mapping = None
        if args.raw_table_stream_arn is not None and self.raw_stream_failures_queue is not None:
            # A second reader of the raw table's stream beside the aggregator (one mapping, its filters OR-ed):
            # DynamoDB Streams advises no more than two readers per shard at a time, so a third consumer would need
            # Kinesis or an SQS hop. Refusal items always; recordings on a stack that transcribes.
            self.raw_stream_mapping = inbound.reads(
                "raw-stream",
                args.raw_table_stream_arn,
                only=[REFUSALS_ONLY, *([RECORDINGS_ONLY] if self.settings.transcribe_languages else [])],
                starting_position="LATEST",
                batch_size=RECORDINGS_BATCH_SIZE,
                # Preparation never fails a batch (the delivery is the fallback); a notice that could not be posted
                # fails it and is retried twice, no more (a notice minutes late is worth little).
                maximum_retry_attempts=2,
                maximum_record_age_in_seconds=RECORDINGS_MAX_AGE_SECONDS,
                destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
                    on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                        destination_arn=self.raw_stream_failures_queue.arn
                    )
                ),
            )

        self.transcripts_rule = None
        self.transcripts_sweep_schedule = None
        if self.settings.transcribe_languages:
            self.transcripts_rule = self._transcripts_rule(name)
            self.transcripts_sweep_schedule = self._transcripts_sweep_schedule(inbound, self.context)
        self._create_alarms()
        self.register_outputs(
            {
                "outTopicArn": self.storage.out_topic.arn,
                "sessionsTableName": self.storage.sessions_table.name,
                "idempotencyTableName": self.storage.idempotency_table.name,
                "mediaBucketName": self.storage.media_bucket.bucket,
                "functionName": self.function.name,
            }
        )

    def _create_alarms(self) -> None:
        alarms = self.alarms
        if self.raw_stream_failures_queue is not None:
            alarms.dead_letters(
                self.raw_stream_failures_queue,
                suffix="raw-stream-failures",
                holds="raw-table stream batches (refusal notices, recordings) the inbound function gave up on",
            )
        if self.transcripts_dead_letter_queue is not None:
            alarms.dead_letters(
                self.transcripts_dead_letter_queue,
                suffix="transcripts-dlq",
                holds="Transcribe completion events the inbound function could not settle (a transcript owed, not posted)",
            )
            alarms.metric(
                suffix="transcripts-sweep-failures",
                description=(
                    "The sweep of transcripts owed to chats failed to settle one in every 5-minute period for "
                    f"{TRANSCRIPTS_SWEEP_FAILING_MINUTES} minutes: an agent waits for a transcript that is not posted."
                ),
                namespace=METRICS_NAMESPACE,
                metric_name="LateTranscriptSweepFailures",
                dimensions={"service": alarms.context.service_name},
                statistic="Sum",
                threshold=0,
                period_seconds=5 * MINUTE,
                evaluation_periods=TRANSCRIPTS_SWEEP_FAILING_MINUTES // 5,
            )

    def _transcripts_sweep_schedule(self, inbound: PythonFunction, context: StackContext) -> aws.scheduler.Schedule:
        """Every minute, the inbound function sweeps the transcripts still owed whose completion event never came
        (Transcribe's events are best effort: EventBridge events reference, "Amazon Transcribe events", "Delivery type:
        Best effort"). Scheduler invokes the function asynchronously with its role; a failed sweep is not retried
        (the next one comes a minute later)."""
        return invoke_on_schedule(
            inbound,
            context,
            "transcripts-sweep",
            label="the inbound function",
            expression=TRANSCRIPTS_SWEEP_SCHEDULE,
            payload=json.dumps(TRANSCRIPTS_SWEEP_EVENT),
            description="every minute: transcripts still owed whose completion event never came",
            sid="InvokeInbound",
        )

    def _transcripts_rule(self, name: str) -> aws.cloudwatch.EventRule:
        """Transcribe's job state changes of this stack's jobs (named `<media bucket>-<media id>`) -> the inbound
        function, which posts the transcripts its bursts went without (runtime `inbound/late_transcripts`)."""
        opts = pulumi.ResourceOptions(parent=self)
        rule = aws.cloudwatch.EventRule(
            f"{name}-transcripts-rule",
            description="Amazon Transcribe jobs of this stack that completed or failed",
            event_pattern=self.storage.media_bucket.bucket.apply(lambda bucket: json.dumps(transcript_events(bucket))),
            opts=opts,
        )
        permission = aws.lambda_.Permission(
            f"{name}-transcripts-permission",
            action="lambda:InvokeFunction",
            function=self.function.name,
            principal="events.amazonaws.com",
            source_arn=rule.arn,
            opts=opts,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-transcripts-target",
            rule=rule.name,
            arn=self.function.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )
        assert self.transcripts_dead_letter_queue is not None
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-transcripts-invoke-config",
            function_name=self.function.name,
            maximum_retry_attempts=TRANSCRIPT_EVENT_RETRIES,
            destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                    destination=self.transcripts_dead_letter_queue.arn
                ),
            ),
            opts=opts,
        )
        return rule
