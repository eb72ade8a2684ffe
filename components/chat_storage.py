"""What a chat's two directions share: the sessions table (each conversation's chat, the transcripts still owed to
chats, outreach records), the idempotency table, the media bucket and Connect's streaming topic.

Inbound creates them (it starts the chats, streaming to the topic) and hands them to Outbound and Outreach as one
typed `ChatStorage`; their logical names begin with the Inbound's name (`<name>-sessions-table`, `<name>-media`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import iam
from components.context import StackContext
from components.tables import Index, secure_table
from components.topics import service_topic
from whatsapp_buffer.storage_keys import CONTACT_ID, CONTACT_INDEX, DEBT_OPEN, OWED_AT, OWED_INDEX

MEDIA_EXPIRY_DAYS = 7


@dataclass(frozen=True)
class ChatStorage:
    sessions_table: aws.dynamodb.Table
    idempotency_table: aws.dynamodb.Table
    out_topic: aws.sns.Topic
    """Connect's streaming topic: the chats Inbound starts stream agent messages and chat events here."""
    media_bucket: aws.s3.Bucket

    @property
    def contact_index_arn(self) -> pulumi.Output[str]:
        """The sessions table's by-contact index (how the outbound function finds a chat's session)."""
        return pulumi.Output.concat(self.sessions_table.arn, f"/index/{CONTACT_INDEX}")

    @property
    def media_objects(self) -> pulumi.Output[str]:
        return pulumi.Output.concat(self.media_bucket.arn, "/*")

    @property
    def function_resources(self) -> dict[str, pulumi.Input[str]]:
        """What both functions' environments carry (FunctionSpec.resources)."""
        return {
            "sessions_table_name": self.sessions_table.name,
            "idempotency_table_name": self.idempotency_table.name,
            "media_bucket_name": self.media_bucket.bucket,
        }


def chat_storage(
    name: str, parent: pulumi.Resource, context: StackContext, *, instance_arn: str, transcribe_languages: Sequence[str]
) -> ChatStorage:
    """The tables, topic and bucket of the Inbound `parent` named `name`."""
    sessions_table = secure_table(
        f"{name}-sessions-table",
        parent,
        hash_key="conversation",
        ttl_attribute="expires_at",
        indexes=[
            Index(name=CONTACT_INDEX, hash_key=CONTACT_ID),
            # Sparse: only the transcripts still owed carry `debt_open` (a paid one drops it), so the sweep for
            # the completion events that never came reads just those.
            *(
                [Index(OWED_INDEX, hash_key=DEBT_OPEN, range_key=OWED_AT, projection="KEYS_ONLY")]
                if transcribe_languages
                else []
            ),
        ],
    )
    # Powertools idempotency's layout: key `id`, expiry `expiration`.
    idempotency_table = secure_table(f"{name}-idempotency-table", parent, hash_key="id", ttl_attribute="expiration")
    outbound_topic = service_topic(
        f"{name}-out-topic", parent, context, service="connect.amazonaws.com", source_arn=instance_arn
    )
    return ChatStorage(
        sessions_table=sessions_table,
        idempotency_table=idempotency_table,
        out_topic=outbound_topic.topic,
        media_bucket=_media_bucket(f"{name}-media", parent),
    )


def _media_bucket(name: str, parent: pulumi.Resource) -> aws.s3.Bucket:
    """Private, encrypted, TLS-only staging for media in transit; objects expire, nothing is kept."""
    bucket = aws.s3.Bucket(name, opts=pulumi.ResourceOptions(parent=parent))

    def setting(resource: Callable[..., pulumi.CustomResource], suffix: str, **inputs: Any) -> pulumi.CustomResource:
        """Each of the bucket's settings is a resource of its own, named `<bucket>-<suffix>`."""
        return resource(
            f"{name}-{suffix}", bucket=bucket.id, **{"opts": pulumi.ResourceOptions(parent=parent), **inputs}
        )

    public_access_block = setting(
        aws.s3.BucketPublicAccessBlock,
        "public-access-block",
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    setting(
        aws.s3.BucketOwnershipControls,
        "ownership",
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
    )
    setting(
        aws.s3.BucketServerSideEncryptionConfiguration,
        "encryption",
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                # SSE-S3: End User Messaging reads and writes the objects with the caller's S3 permissions only.
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                )
            )
        ],
    )
    setting(
        aws.s3.BucketLifecycleConfiguration,
        "lifecycle",
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
    )
    setting(
        aws.s3.BucketPolicy,
        "policy",
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
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[public_access_block]),
    )
    return bucket
