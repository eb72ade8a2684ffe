"""ConnectBridge: bursts into Amazon Connect chats (inbound), agent replies back to WhatsApp (outbound)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import iam
from components.alarms import MINUTE, AlarmTarget, dead_letter_alarm, function_alarms, metric_alarm, refusals_alarm
from components.context import StackContext
from components.lambda_function import METRICS_NAMESPACE, FunctionDefaults, FunctionSpec, python_function
from components.queues import FOURTEEN_DAYS, encrypted_queue
from components.schedules import invoke_on_schedule
from components.tables import Index, secure_table
from components.topics import service_topic, subscribe_function

INBOUND_TIMEOUT_SECONDS = 120
RECORDINGS_BATCH_SIZE = 10
RECORDINGS_MAX_AGE_SECONDS = 300
"""A recording older than this on the stream is left to the flush: its burst has probably been delivered."""
"""Starting a chat, fetching media and uploading an attachment (up to 20 MB) fit well inside this."""
OUTBOUND_TIMEOUT_SECONDS = 120
"""An agent's file (up to Connect's 20 MB) downloaded, converted for WhatsApp (MOV -> MP4 is the slow one) and
posted fits inside this, as the inbound function's conversions do."""
INBOUND_BATCH_SIZE = 10
MEDIA_EXPIRY_DAYS = 7
SESSIONS_BY_CONTACT = "by-contact"
TRANSCRIPT_EVENT_RETRIES = 2
"""Lambda retries a failed asynchronous invoke (a Transcribe completion event) this often, then its on-failure
destination gets the event."""
TRANSCRIPT_DEBT_PREFIX = "transcript-owed#"
"""Hash key prefix of the sessions table's items recording a transcript owed to a chat (runtime `sessions_table`)."""
TRANSCRIPTS_OWED_INDEX = "owed-since"
"""The sessions table's sparse index of the transcripts still owed (runtime `sessions_table.OWED_INDEX`)."""
TRANSCRIPTS_SWEEP_SCHEDULE = "rate(1 minute)"
"""EventBridge Scheduler's shortest rate: a transcript whose completion event is lost waits at most a minute more."""
TRANSCRIPTS_SWEEP_FAILING_MINUTES = 15
"""The sweep retries a debt it failed to settle every minute; failures in every 5-minute period for this long mean a
transcript an agent was promised is stuck (a post Connect keeps refusing), not one throttled call."""
TRANSCRIPTS_SWEEP_INPUT = {"source": "whatsapp-buffer", "detail-type": "Transcripts Owed Sweep"}
"""What the schedule hands the inbound function (runtime `deliver/late_transcripts.SWEEP_EVENT`)."""


def transcript_events(media_bucket: str) -> dict[str, object]:
    """The EventBridge pattern of this stack's finished Transcribe jobs. Amazon Transcribe developer guide, "Using
    Amazon EventBridge with Amazon Transcribe": `{"source": ["aws.transcribe"], "detail-type": ["Transcribe Job State
    Change"], "detail": {"TranscriptionJobStatus": ["COMPLETED", "FAILED"]}}`; the job name narrowed with prefix
    matching (EventBridge user guide, "Prefix matching": `{"prefix": "..."}`) to the names this stack gives
    (`<media bucket>-<media id>`, runtime `deliver/transcripts.job_name`)."""
    return {
        "source": ["aws.transcribe"],
        "detail-type": ["Transcribe Job State Change"],
        "detail": {
            "TranscriptionJobStatus": ["COMPLETED", "FAILED"],
            "TranscriptionJobName": [{"prefix": f"{media_bucket}-"}],
        },
    }


@dataclass(frozen=True)
class ConnectBridgeArgs:
    context: StackContext
    functions: FunctionDefaults
    bursts_queue_arn: pulumi.Input[str]
    raw_table_name: pulumi.Input[str]
    raw_table_arn: pulumi.Input[str]
    """The raw table, where the outbound function remembers what it relayed (for the quotes of replies to it)."""
    alarm_actions: Sequence[pulumi.Input[str]] = ()
    """SNS topic ARNs the component's alarms notify; empty: the alarms exist but notify nobody."""
    raw_table_stream_arn: pulumi.Input[str] | None = None
    """The raw table's stream: on a stack that transcribes, the inbound function prepares each stored recording from
    it (early start of its transcript); without it, recordings are prepared at flush."""


RECORDINGS_ONLY = {
    "eventName": ["INSERT"],
    "dynamodb": {"NewImage": {"record_type": {"S": ["message"]}, "kind": {"S": ["voice", "audio"]}}},
}
"""The stream records the inbound function prepares: voice notes and audio files as ingest stores them."""
REFUSALS_ONLY = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"record_type": {"S": ["refusal"]}}}}
"""The stream records the inbound function tells the agent: ingest's refusal items (a `failed` status of a message
the bridge sent; runtime `deliver.notices`)."""


def phone_number_arns(context: StackContext, phone_number_ids: Sequence[str]) -> list[str]:
    """IAM resources for End User Messaging numbers (id `phone-number-id-X` has ARN `…:phone-number-id/X`)."""
    suffixes = [number_id.removeprefix("phone-number-id-") for number_id in phone_number_ids] or ["*"]
    return [context.arn("social-messaging", f"phone-number-id/{suffix}") for suffix in suffixes]


class ConnectBridge(pulumi.ComponentResource):
    """Bursts queue -> inbound function -> Connect chat; Connect streaming -> out-topic -> outbound function -> WhatsApp."""

    sessions_table: aws.dynamodb.Table
    idempotency_table: aws.dynamodb.Table
    out_topic: aws.sns.Topic
    media_bucket: aws.s3.Bucket
    inbound_function: aws.lambda_.Function
    outbound_function: aws.lambda_.Function
    outbound_dead_letter_queue: aws.sqs.Queue
    bursts_mapping: aws.lambda_.EventSourceMapping
    raw_stream_mapping: aws.lambda_.EventSourceMapping | None

    def __init__(self, name: str, args: ConnectBridgeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whatsapp-buffer:index:ConnectBridge", name, None, opts)
        context = args.context
        settings = args.functions.settings
        instance_arn = context.arn("connect", f"instance/{settings.connect_instance_id}")
        self.sessions_table = secure_table(
            f"{name}-sessions-table",
            self,
            hash_key="conversation",
            ttl_attribute="expires_at",
            indexes=[
                Index(name=SESSIONS_BY_CONTACT, hash_key="contact_id"),
                # Sparse: only the transcripts still owed carry `debt_open` (a paid one drops it), so the sweep for
                # the completion events that never came reads just those.
                *(
                    [Index(TRANSCRIPTS_OWED_INDEX, hash_key="debt_open", range_key="owed_at", projection="KEYS_ONLY")]
                    if settings.transcribe_languages
                    else []
                ),
            ],
        )
        # Powertools idempotency's layout: key `id`, expiry `expiration`.
        self.idempotency_table = secure_table(
            f"{name}-idempotency-table", self, hash_key="id", ttl_attribute="expiration"
        )
        outbound_topic = service_topic(
            f"{name}-out-topic",
            self,
            context,
            service="connect.amazonaws.com",
            publish_conditions={"ArnEquals": {"aws:SourceArn": instance_arn}},
        )
        self.out_topic = outbound_topic.topic
        self.media_bucket = self._media_bucket(name)
        self.outbound_dead_letter_queue = encrypted_queue(f"{name}-outbound-dlq", self, retention_seconds=FOURTEEN_DAYS)

        self.transcripts_dead_letter_queue = None
        if settings.transcribe_languages:
            # Transcribe's completion events reach inbound as asynchronous invokes: one that fails after Lambda's
            # retries lands here (a transcript owed and not posted), never silently.
            self.transcripts_dead_letter_queue = encrypted_queue(
                f"{name}-transcripts-dlq", self, retention_seconds=FOURTEEN_DAYS
            )
        sessions_arns = [
            self.sessions_table.arn,
            pulumi.Output.concat(self.sessions_table.arn, f"/index/{SESSIONS_BY_CONTACT}"),
        ]
        media_objects = pulumi.Output.concat(self.media_bucket.arn, "/*")
        numbers = phone_number_arns(context, settings.whatsapp_phone_number_ids)
        sends_to_whatsapp = settings.mark_as_read or (settings.echo_transcripts and bool(settings.transcribe_languages))
        shared_resources = {
            "sessions_table_name": self.sessions_table.name,
            "idempotency_table_name": self.idempotency_table.name,
            "media_bucket_name": self.media_bucket.bucket,
        }

        inbound = python_function(
            name,
            self,
            context,
            args.functions,
            FunctionSpec(
                name="inbound",
                description="delivers each burst to the conversation's Amazon Connect chat",
                timeout_seconds=INBOUND_TIMEOUT_SECONDS,
                resources={**shared_resources, "out_topic_arn": self.out_topic.arn},
                media=True,
                statements=[
                    # Participant APIs (connection, messages, attachments) are authorised by tokens, not IAM.
                    # StartContactStreaming is not called (streaming is set up inside StartChatContact) but kept in case
                    # IAM treats it as a dependent action of that streaming configuration.
                    iam.allow(
                        ["connect:StartChatContact", "connect:StartContactStreaming"],
                        [
                            instance_arn,
                            f"{instance_arn}/contact/*",
                            f"{instance_arn}/contact-flow/{settings.contact_flow_id}",
                        ],
                        sid="StartChatsOnTheConfiguredInstance",
                    ),
                    iam.allow(
                        # SendWhatsAppMessage only marks messages read or echoes transcripts, so only markAsRead or
                        # echoTranscripts (on a stack that transcribes) grants it.
                        ["social-messaging:GetWhatsAppMessageMedia"]
                        + (["social-messaging:SendWhatsAppMessage"] if sends_to_whatsapp else []),
                        numbers,
                        sid="FetchMediaAndSendToCustomers" if sends_to_whatsapp else "FetchMedia",
                    ),
                    iam.allow(["s3:PutObject", "s3:GetObject"], [media_objects], sid="StageMedia"),
                    *self._transcription_statements(context, settings.transcribe_languages),
                    *self._raw_stream_statements(args.raw_table_arn if args.raw_table_stream_arn is not None else None),
                    iam.allow(
                        # UpdateItem records when the customer last wrote (the outbound relay's 24-hour window).
                        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                        [self.sessions_table.arn],
                        sid="TrackSessions",
                    ),
                    *self._late_transcript_statements(settings.transcribe_languages),
                    iam.allow(
                        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                        [self.idempotency_table.arn],
                        sid="DeliverOnce",
                    ),
                    iam.allow(
                        ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                        [args.bursts_queue_arn],
                        sid="ConsumeBursts",
                    ),
                ],
            ),
        )
        self.inbound_function = inbound.function
        self.bursts_mapping = aws.lambda_.EventSourceMapping(
            f"{name}-bursts-mapping",
            event_source_arn=args.bursts_queue_arn,
            function_name=self.inbound_function.arn,
            batch_size=INBOUND_BATCH_SIZE,
            function_response_types=["ReportBatchItemFailures"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[inbound.role_policy]),
        )
        self.raw_stream_mapping = None
        if args.raw_table_stream_arn is not None:
            # A second reader of the raw table's stream beside the aggregator (one mapping, its filters OR-ed):
            # DynamoDB Streams advises no more than two readers per shard at a time, so a third consumer would need
            # Kinesis or an SQS hop. Refusal items always; recordings on a stack that transcribes.
            patterns = [REFUSALS_ONLY, *([RECORDINGS_ONLY] if settings.transcribe_languages else [])]
            self.raw_stream_mapping = aws.lambda_.EventSourceMapping(
                f"{name}-raw-stream-mapping",
                event_source_arn=args.raw_table_stream_arn,
                function_name=self.inbound_function.arn,
                starting_position="LATEST",
                batch_size=RECORDINGS_BATCH_SIZE,
                # Preparation never fails a batch (the flush is the fallback); a notice that could not be posted
                # fails it and is retried twice, no more (a notice minutes late is worth little).
                maximum_retry_attempts=2,
                maximum_record_age_in_seconds=RECORDINGS_MAX_AGE_SECONDS,
                filter_criteria=aws.lambda_.EventSourceMappingFilterCriteriaArgs(
                    filters=[
                        aws.lambda_.EventSourceMappingFilterCriteriaFilterArgs(pattern=json.dumps(pattern))
                        for pattern in patterns
                    ]
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[inbound.role_policy]),
            )

        self.transcripts_rule = None
        self.transcripts_sweep_schedule = None
        if settings.transcribe_languages:
            self.transcripts_rule = self._transcripts_rule(name)
            self.transcripts_sweep_schedule = self._transcripts_sweep_schedule(name, context)

        outbound = python_function(
            name,
            self,
            context,
            args.functions,
            FunctionSpec(
                name="outbound",
                description="relays agent messages and attachments from Amazon Connect to WhatsApp",
                timeout_seconds=OUTBOUND_TIMEOUT_SECONDS,
                resources={**shared_resources, "raw_table_name": args.raw_table_name},
                # PyAV and Pillow convert agent files WhatsApp does not take as they are (relay.agent_files).
                media=True,
                statements=[
                    iam.allow(
                        # What the agent said, by its WhatsApp message id, for the quote of a customer's reply to it.
                        ["dynamodb:PutItem"],
                        [args.raw_table_arn],
                        sid="RememberRelayedMessages",
                    ),
                    iam.allow(
                        # Query finds a chat's session by contact id; UpdateItem marks it ended.
                        ["dynamodb:Query", "dynamodb:UpdateItem"],
                        sessions_arns,
                        sid="FindAndEndSessions",
                    ),
                    iam.allow(
                        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                        [self.idempotency_table.arn],
                        sid="RelayOnce",
                    ),
                    iam.allow(
                        ["social-messaging:SendWhatsAppMessage", "social-messaging:PostWhatsAppMessageMedia"],
                        numbers,
                        sid="SendToWhatsApp",
                    ),
                    iam.allow(["s3:PutObject", "s3:GetObject"], [media_objects], sid="StageMedia"),
                    iam.allow(["sqs:SendMessage"], [self.outbound_dead_letter_queue.arn], sid="DeadLetterFailedEvents"),
                ],
            ),
        )
        self.outbound_function = outbound.function
        # No filter policy on MessageVisibility: the streaming docs do not say which visibility chat.ended and
        # participant.left carry, and dropping those would leave sessions open. The function filters instead.
        subscribe_function(
            f"{name}-outbound",
            self,
            topic=self.out_topic,
            function=self.outbound_function,
            dead_letter_queue=self.outbound_dead_letter_queue,
        )
        alarms = AlarmTarget(context, args.alarm_actions)
        dead_letter_alarm(
            name,
            self,
            alarms,
            self.outbound_dead_letter_queue,
            suffix="outbound-dlq",
            holds="Connect streaming events the outbound function could not relay to WhatsApp after retries",
        )
        if self.transcripts_dead_letter_queue is not None:
            dead_letter_alarm(
                name,
                self,
                alarms,
                self.transcripts_dead_letter_queue,
                suffix="transcripts-dlq",
                holds="Transcribe completion events the inbound function could not settle (a transcript owed, not posted)",
            )
            metric_alarm(
                name,
                self,
                alarms,
                suffix="transcripts-sweep-failures",
                description=(
                    "The sweep of transcripts owed to chats failed to settle one in every 5-minute period for "
                    f"{TRANSCRIPTS_SWEEP_FAILING_MINUTES} minutes: an agent waits for a transcript that is not posted."
                ),
                namespace=METRICS_NAMESPACE,
                metric_name="LateTranscriptSweepFailures",
                dimensions={"service": context.service_name},
                statistic="Sum",
                threshold=0,
                period_seconds=5 * MINUTE,
                evaluation_periods=TRANSCRIPTS_SWEEP_FAILING_MINUTES // 5,
            )
        function_alarms(name, self, alarms, self.inbound_function, short_name="inbound")
        function_alarms(name, self, alarms, self.outbound_function, short_name="outbound")
        refusals_alarm(name, self, alarms, namespace=METRICS_NAMESPACE, service=context.service_name)
        self.register_outputs(
            {
                "outTopicArn": self.out_topic.arn,
                "sessionsTableName": self.sessions_table.name,
                "idempotencyTableName": self.idempotency_table.name,
                "mediaBucketName": self.media_bucket.bucket,
                "outboundDeadLetterQueueUrl": self.outbound_dead_letter_queue.url,
                "inboundFunctionName": self.inbound_function.name,
                "outboundFunctionName": self.outbound_function.name,
            }
        )

    @staticmethod
    def _raw_stream_statements(raw_table_arn: pulumi.Input[str] | None) -> list[iam.Statement]:
        """Reading the raw table's stream (refusal items; recordings on a stack that transcribes)."""
        if raw_table_arn is None:
            return []
        return [
            iam.allow(
                ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                [pulumi.Output.concat(raw_table_arn, "/stream/*")],
                sid="ReadTheRawTableStream",
            ),
            # ListStreams has no resource type (Service Authorization Reference): only "*" grants it.
            iam.allow(["dynamodb:ListStreams"], ["*"], sid="ListStreams"),
        ]

    def _transcription_statements(self, context: StackContext, languages: Sequence[str]) -> list[iam.Statement]:
        """Amazon Transcribe jobs over the media bucket's recordings, only when the stack transcribes.

        Service Authorization Reference (list_amazontranscribe): StartTranscriptionJob has no resource type (only
        "*" grants it) and the condition keys transcribe:OutputBucketName / transcribe:OutputKey, which pin where
        its transcripts go; its dependent action s3:GetObject and the transcript write are the caller's own S3
        permissions (StageMedia: GetObject and PutObject on the bucket's objects; the bucket is SSE-S3, so no KMS
        grant). GetTranscriptionJob takes `transcription-job/${JobName}`: this stack's jobs are named after its
        media bucket (runtime `deliver/transcripts.job_name`)."""
        if not languages:
            return []
        bucket = self.media_bucket.bucket
        return [
            {
                "Sid": "StartTranscriptionsIntoTheMediaBucket",
                "Effect": "Allow",
                "Action": ["transcribe:StartTranscriptionJob"],
                "Resource": ["*"],
                "Condition": {
                    "StringEquals": {"transcribe:OutputBucketName": bucket},
                    "StringLike": {"transcribe:OutputKey": "transcripts/*"},
                },
            },
            iam.allow(
                ["transcribe:GetTranscriptionJob"],
                [pulumi.Output.concat(context.arn("transcribe", "transcription-job/"), bucket, "-*")],
                sid="ReadThisStacksTranscriptionJobs",
            ),
        ]

    def _late_transcript_statements(self, languages: Sequence[str]) -> list[iam.Statement]:
        """Transcripts owed to chats are items of the sessions table keyed `transcript-owed#<job>` (runtime
        `adapters/sessions_table.TranscriptDebts`): claiming and paying one is an UpdateItem, allowed on those items
        only (`dynamodb:LeadingKeys`, the partition key of the items a request touches: Service Authorization
        Reference, "Condition keys for Amazon DynamoDB"). A completion event whose invokes all failed goes to the
        transcripts dead-letter queue with the function's role (Lambda's on-failure destination)."""
        if not languages or self.transcripts_dead_letter_queue is None:
            return []
        return [
            iam.allow(
                ["sqs:SendMessage"], [self.transcripts_dead_letter_queue.arn], sid="DeadLetterUnpostedTranscripts"
            ),
            {
                "Sid": "SettleTranscriptsOwed",
                "Effect": "Allow",
                "Action": ["dynamodb:UpdateItem"],
                "Resource": [self.sessions_table.arn],
                "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{TRANSCRIPT_DEBT_PREFIX}*"]}},
            },
            # The sweep's Query of the sparse index of debts still open (keys only: job names and times).
            iam.allow(
                ["dynamodb:Query"],
                [pulumi.Output.concat(self.sessions_table.arn, f"/index/{TRANSCRIPTS_OWED_INDEX}")],
                sid="FindTranscriptsStillOwed",
            ),
        ]

    def _transcripts_sweep_schedule(self, name: str, context: StackContext) -> aws.scheduler.Schedule:
        """Every minute, the inbound function sweeps the transcripts still owed whose completion event never came
        (Transcribe's events are best effort: EventBridge events reference, "Amazon Transcribe events", "Delivery type:
        Best effort"). Scheduler invokes the function asynchronously with its role; a failed sweep is not retried
        (the next one comes a minute later)."""
        return invoke_on_schedule(
            self,
            context,
            resource_name=f"{name}-transcripts-sweep-schedule",
            physical_name="transcripts-sweep",
            function=self.inbound_function,
            function_label="the inbound function",
            expression=TRANSCRIPTS_SWEEP_SCHEDULE,
            payload=json.dumps(TRANSCRIPTS_SWEEP_INPUT),
            description="every minute: transcripts still owed whose completion event never came",
            sid="InvokeInbound",
        )

    def _transcripts_rule(self, name: str) -> aws.cloudwatch.EventRule:
        """Transcribe's job state changes of this stack's jobs (named `<media bucket>-<media id>`) -> the inbound
        function, which posts the transcripts its bursts went without (runtime `deliver/late_transcripts`)."""
        opts = pulumi.ResourceOptions(parent=self)
        rule = aws.cloudwatch.EventRule(
            f"{name}-transcripts-rule",
            description="Amazon Transcribe jobs of this stack that completed or failed",
            event_pattern=self.media_bucket.bucket.apply(lambda bucket: json.dumps(transcript_events(bucket))),
            opts=opts,
        )
        permission = aws.lambda_.Permission(
            f"{name}-transcripts-permission",
            action="lambda:InvokeFunction",
            function=self.inbound_function.name,
            principal="events.amazonaws.com",
            source_arn=rule.arn,
            opts=opts,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-transcripts-target",
            rule=rule.name,
            arn=self.inbound_function.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )
        assert self.transcripts_dead_letter_queue is not None
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-transcripts-invoke-config",
            function_name=self.inbound_function.name,
            maximum_retry_attempts=TRANSCRIPT_EVENT_RETRIES,
            destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                    destination=self.transcripts_dead_letter_queue.arn
                ),
            ),
            opts=opts,
        )
        return rule

    def _media_bucket(self, name: str) -> aws.s3.Bucket:
        """Private, encrypted, TLS-only staging for media in transit; objects expire, nothing is kept."""
        opts = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(f"{name}-media", opts=opts)
        public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-media-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=opts,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-media-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=opts,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-media-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    # SSE-S3: End User Messaging reads and writes the objects with the caller's S3 permissions only.
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=opts,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-media-lifecycle",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-media",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=MEDIA_EXPIRY_DAYS),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=1
                    ),
                )
            ],
            opts=opts,
        )
        aws.s3.BucketPolicy(
            f"{name}-media-policy",
            bucket=bucket.id,
            policy=iam.document(
                [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ]
            ),
            # S3 rejects concurrent changes to one bucket's settings.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access_block]),
        )
        return bucket
