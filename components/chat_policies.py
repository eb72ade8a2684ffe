"""What the inbound and the outbound function may do: the statements of their roles, each scoped to the stack's own
resources (chat_storage) and to the Connect instance and WhatsApp numbers configured.

Apart from the component because the grants are read and reviewed on their own: tests/infra/test_stack_policies.py
checks what they allow, and every sandbox replay checks each call a function makes against its role. The statements
and their order are the roles' policy documents as deployed.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from components import iam
from components.chat_storage import ChatStorage
from components.context import StackContext
from components.stack_settings import StackSettings
from whatsapp_buffer.model import eum_number_suffix
from whatsapp_buffer.storage_keys import (
    DEBT_PREFIX,
    INBOUND_PREFIX,
    OWED_INDEX,
    PREPARED_PREFIX,
    TRANSCRIPTS_PREFIX,
    job_prefix,
)


def phone_number_arns(context: StackContext, phone_number_ids: Sequence[str]) -> list[str]:
    """IAM resources for End User Messaging numbers (id `phone-number-id-X` has ARN `…:phone-number-id/X`)."""
    suffixes = [eum_number_suffix(number_id) for number_id in phone_number_ids] or ["*"]
    return [context.arn("social-messaging", f"phone-number-id/{suffix}") for suffix in suffixes]


def inbound_statements(
    context: StackContext,
    settings: StackSettings,
    storage: ChatStorage,
    *,
    instance_arn: str,
    bursts_queue_arn: pulumi.Input[str],
    raw_table_stream_of: pulumi.Input[str] | None,
    raw_stream_failures_arn: pulumi.Input[str] | None = None,
    transcripts_dead_letter_queue_arn: pulumi.Input[str] | None = None,
) -> list[iam.Statement]:
    """Bursts queue in, Connect chats and media out; `raw_table_stream_of`: the raw table whose stream it reads."""
    # SendWhatsAppMessage only marks messages read or echoes transcripts, so only markAsRead or echoTranscripts (on a
    # stack that transcribes) grants it.
    sends_to_whatsapp = settings.mark_as_read or (settings.echo_transcripts and bool(settings.transcribe_languages))
    return [
        # Participant APIs (connection, messages, attachments) are authorised by tokens, not IAM.
        # StartContactStreaming is not called (streaming is set up inside StartChatContact) but kept in case
        # IAM treats it as a dependent action of that streaming configuration.
        iam.allow(
            ["connect:StartChatContact", "connect:StartContactStreaming"],
            [
                instance_arn,
                f"{instance_arn}/contact/*",
                # The default flow and each business number's own (contactFlows), no other.
                *(
                    f"{instance_arn}/contact-flow/{flow_id}"
                    for flow_id in dict.fromkeys([settings.contact_flow_id, *(f for _, f in settings.contact_flows)])
                ),
            ],
            sid="StartChatsOnTheConfiguredInstance",
        ),
        # A customer back from another ad while their chat is open: the contact's ad attributes follow it. The
        # Service Authorization Reference lists UpdateContactAttributes on the `contact` resource type
        # (`instance/${InstanceId}/contact/${ContactId}`), so the grant is the instance's contacts only.
        iam.allow(["connect:UpdateContactAttributes"], [f"{instance_arn}/contact/*"], sid="NoteTheAdOfAnOpenChat"),
        # A chat an earlier attempt started and no one can connect to is ended (StopContact, `contact` resource type).
        iam.allow(["connect:StopContact"], [f"{instance_arn}/contact/*"], sid="EndOrphanedChats"),
        iam.allow(
            ["social-messaging:GetWhatsAppMessageMedia"]
            + (["social-messaging:SendWhatsAppMessage"] if sends_to_whatsapp else []),
            phone_number_arns(context, settings.whatsapp_phone_number_ids),
            sid="FetchMediaAndSendToCustomers" if sends_to_whatsapp else "FetchMedia",
        ),
        _stage_media(storage),
        _find_media_copies(storage, transcribing=bool(settings.transcribe_languages)),
        *_transcription_statements(context, storage, settings.transcribe_languages),
        *_raw_stream_statements(raw_table_stream_of, raw_stream_failures_arn),
        iam.allow(["dynamodb:GetItem", "dynamodb:PutItem"], [storage.sessions_table.arn], sid="TrackSessions"),
        {
            # UpdateItem records when the customer last wrote (the outbound function's 24-hour window), a list's
            # numbered options and a chat's renewed connection, on session items only: never on a transcript owed,
            # which SettleTranscriptsOwed alone may change (dynamodb:LeadingKeys, the partition key of every item a
            # request touches).
            "Sid": "RecordWhenCustomersWrote",
            "Effect": "Allow",
            "Action": ["dynamodb:UpdateItem"],
            "Resource": [storage.sessions_table.arn],
            "Condition": {"ForAllValues:StringNotLike": {"dynamodb:LeadingKeys": [f"{DEBT_PREFIX}*"]}},
        },
        *_late_transcript_statements(storage, settings.transcribe_languages, transcripts_dead_letter_queue_arn),
        _once(storage, sid="DeliverOnce"),
        iam.allow(
            ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            [bursts_queue_arn],
            sid="ConsumeBursts",
        ),
    ]


def outbound_statements(
    context: StackContext,
    settings: StackSettings,
    storage: ChatStorage,
    *,
    raw_table_arn: pulumi.Input[str],
    dead_letter_queue_arn: pulumi.Input[str],
) -> list[iam.Statement]:
    """Connect's streaming events in (through the out-topic), WhatsApp messages and media out."""
    return [
        # What the agent said, by its WhatsApp message id, for the quote of a customer's reply to it.
        iam.allow(["dynamodb:PutItem"], [raw_table_arn], sid="RememberRelayedMessages"),
        # Query finds a chat's session by contact id (the index only); GetItem confirms, by the table's own key, the
        # session the index gave (the index lags a number change's move); UpdateItem marks it ended.
        iam.allow(["dynamodb:Query"], [storage.contact_index_arn], sid="FindSessions"),
        iam.allow(
            ["dynamodb:GetItem", "dynamodb:UpdateItem"], [storage.sessions_table.arn], sid="ConfirmAndEndSessions"
        ),
        _once(storage, sid="RelayOnce"),
        iam.allow(
            ["social-messaging:SendWhatsAppMessage", "social-messaging:PostWhatsAppMessageMedia"],
            phone_number_arns(context, settings.whatsapp_phone_number_ids),
            sid="SendToWhatsApp",
        ),
        _stage_media(storage),
        iam.allow(["sqs:SendMessage"], [dead_letter_queue_arn], sid="DeadLetterFailedEvents"),
    ]


def _once(storage: ChatStorage, *, sid: str) -> iam.Statement:
    """Powertools idempotency's record of each burst delivered and each streaming event relayed: written, read,
    updated and removed."""
    actions = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    return iam.allow(actions, [storage.idempotency_table.arn], sid=sid)


def _stage_media(storage: ChatStorage) -> iam.Statement:
    return iam.allow(["s3:PutObject", "s3:GetObject"], [storage.media_objects], sid="StageMedia")


def _find_media_copies(storage: ChatStorage, *, transcribing: bool) -> iam.Statement:
    """Listing the media bucket, only under the prefixes the inbound function copies customers' media to: a file End
    User Messaging copied under a key prefix (when a pre-signed URL is too long) is found by listing that prefix, and
    on a stack that transcribes, whether a recording is already prepared is a listing from its key (HeadObject would
    answer a missing object with 403 without s3:ListBucket). Service Authorization Reference (parliament's copy):
    ListBucket acts on the `bucket` resource type (`arn:${Partition}:s3:::${BucketName}`) and takes the condition key
    `s3:prefix` ("Filters access by key name prefix", String)."""
    prefixes = [f"{INBOUND_PREFIX}*", *([f"{PREPARED_PREFIX}*"] if transcribing else [])]
    return {
        "Sid": "FindMediaCopiedUnderAPrefix",
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": [storage.media_bucket.arn],
        "Condition": {"StringLike": {"s3:prefix": prefixes}},
    }


def _raw_stream_statements(
    raw_table_arn: pulumi.Input[str] | None, failures_arn: pulumi.Input[str] | None
) -> list[iam.Statement]:
    """Reading the raw table's stream (refusal items; recordings on a stack that transcribes), and handing a batch
    given up on to the mapping's on-failure queue (Lambda sends it with the function's role)."""
    if raw_table_arn is None:
        return []
    return [
        *([iam.allow(["sqs:SendMessage"], [failures_arn], sid="HandOverFailedStreamBatches")] if failures_arn else []),
        iam.allow(
            ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            [pulumi.Output.concat(raw_table_arn, "/stream/*")],
            sid="ReadTheRawTableStream",
        ),
        # ListStreams has no resource type (Service Authorization Reference): only "*" grants it.
        iam.allow(["dynamodb:ListStreams"], ["*"], sid="ListStreams"),
    ]


def _transcription_statements(
    context: StackContext, storage: ChatStorage, languages: Sequence[str]
) -> list[iam.Statement]:
    """Amazon Transcribe jobs over the media bucket's recordings, only when the stack transcribes.

    Service Authorization Reference (list_amazontranscribe): StartTranscriptionJob has no resource type (only
    "*" grants it) and the condition keys transcribe:OutputBucketName / transcribe:OutputKey, which pin where
    its transcripts go; its dependent action s3:GetObject and the transcript write are the caller's own S3
    permissions (StageMedia: GetObject and PutObject on the bucket's objects; the bucket is SSE-S3, so no KMS
    grant). GetTranscriptionJob takes `transcription-job/${JobName}`: this stack's jobs are named after its
    media bucket (runtime `storage_keys.job_name`)."""
    if not languages:
        return []
    bucket = storage.media_bucket.bucket
    return [
        {
            "Sid": "StartTranscriptionsIntoTheMediaBucket",
            "Effect": "Allow",
            "Action": ["transcribe:StartTranscriptionJob"],
            "Resource": ["*"],
            "Condition": {
                "StringEquals": {"transcribe:OutputBucketName": bucket},
                "StringLike": {"transcribe:OutputKey": f"{TRANSCRIPTS_PREFIX}*"},
            },
        },
        iam.allow(
            ["transcribe:GetTranscriptionJob"],
            [pulumi.Output.concat(context.arn("transcribe", "transcription-job/"), bucket.apply(job_prefix), "*")],
            sid="ReadThisStacksTranscriptionJobs",
        ),
    ]


def _late_transcript_statements(
    storage: ChatStorage, languages: Sequence[str], dead_letter_queue_arn: pulumi.Input[str] | None
) -> list[iam.Statement]:
    """Transcripts owed to chats are items of the sessions table keyed `transcript-owed#<job>` (runtime
    `adapters/transcript_debts.TranscriptDebtItems`): claiming and paying one is an UpdateItem, allowed on those items
    only (`dynamodb:LeadingKeys`, the partition key of the items a request touches: Service Authorization
    Reference, "Condition keys for Amazon DynamoDB"). A completion event whose invokes all failed goes to the
    transcripts dead-letter queue with the function's role (Lambda's on-failure destination)."""
    if not languages or dead_letter_queue_arn is None:
        return []
    sessions_table_arn = storage.sessions_table.arn
    return [
        iam.allow(["sqs:SendMessage"], [dead_letter_queue_arn], sid="DeadLetterUnpostedTranscripts"),
        {
            "Sid": "SettleTranscriptsOwed",
            "Effect": "Allow",
            "Action": ["dynamodb:UpdateItem"],
            "Resource": [sessions_table_arn],
            "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{DEBT_PREFIX}*"]}},
        },
        # The sweep's Query of the sparse index of debts still open (keys only: job names and times).
        iam.allow(
            ["dynamodb:Query"],
            [pulumi.Output.concat(sessions_table_arn, f"/index/{OWED_INDEX}")],
            sid="FindTranscriptsStillOwed",
        ),
    ]
