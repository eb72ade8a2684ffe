"""ConnectBridge: bursts into Amazon Connect chats (inbound), agent replies back to WhatsApp (outbound)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import iam
from components.alarms import AlarmTarget, dead_letter_alarm, function_alarms, refusals_alarm
from components.context import StackContext
from components.lambda_function import METRICS_NAMESPACE, FunctionDefaults, FunctionSpec, python_function
from components.queues import FOURTEEN_DAYS, encrypted_queue
from components.tables import Index, secure_table
from components.topics import service_topic, subscribe_function

INBOUND_TIMEOUT_SECONDS = 120
"""Starting a chat, fetching media and uploading an attachment (up to 20 MB) fit well inside this."""
OUTBOUND_TIMEOUT_SECONDS = 120
"""An agent's file (up to Connect's 20 MB) downloaded, converted for WhatsApp (MOV -> MP4 is the slow one) and
posted fits inside this, as the inbound function's conversions do."""
INBOUND_BATCH_SIZE = 10
MEDIA_EXPIRY_DAYS = 7
SESSIONS_BY_CONTACT = "by-contact"


@dataclass(frozen=True)
class ConnectBridgeArgs:
    context: StackContext
    functions: FunctionDefaults
    bursts_queue_arn: pulumi.Input[str]
    alarm_actions: Sequence[pulumi.Input[str]] = ()
    """SNS topic ARNs the component's alarms notify; empty: the alarms exist but notify nobody."""


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
            indexes=[Index(name=SESSIONS_BY_CONTACT, hash_key="contact_id")],
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

        sessions_arns = [
            self.sessions_table.arn,
            pulumi.Output.concat(self.sessions_table.arn, f"/index/{SESSIONS_BY_CONTACT}"),
        ]
        media_objects = pulumi.Output.concat(self.media_bucket.arn, "/*")
        numbers = phone_number_arns(context, settings.whatsapp_phone_number_ids)
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
                        # SendWhatsAppMessage only marks messages read, so only markAsRead grants it.
                        ["social-messaging:GetWhatsAppMessageMedia"]
                        + (["social-messaging:SendWhatsAppMessage"] if settings.mark_as_read else []),
                        numbers,
                        sid="FetchMediaAndMarkRead" if settings.mark_as_read else "FetchMedia",
                    ),
                    iam.allow(["s3:PutObject", "s3:GetObject"], [media_objects], sid="StageMedia"),
                    iam.allow(
                        # UpdateItem records when the customer last wrote (the outbound relay's 24-hour window).
                        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                        [self.sessions_table.arn],
                        sid="TrackSessions",
                    ),
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

        outbound = python_function(
            name,
            self,
            context,
            args.functions,
            FunctionSpec(
                name="outbound",
                description="relays agent messages and attachments from Amazon Connect to WhatsApp",
                timeout_seconds=OUTBOUND_TIMEOUT_SECONDS,
                resources=shared_resources,
                # PyAV and Pillow convert agent files WhatsApp does not take as they are (relay.agent_files).
                media=True,
                statements=[
                    iam.allow(
                        # Query finds a chat's session by contact id; UpdateItem marks it ended.
                        ["dynamodb:Query", "dynamodb:UpdateItem"], sessions_arns, sid="FindAndEndSessions"
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
